"""The one dataset hash: what a model card records and what an export snapshot stores.

Pure ``hashlib`` (no torch, no Django), so the web process imports it to hash the exports it writes
and the engine uses it for ``dataset.sha256`` and the model card: an export trained on, from the
CLI or from a job, has the card's hash. A file: sha256 of its bytes. A folder (a saved datasets
``DatasetDict``): sha256 of the text ``"<relative path>\\0<sha256 of the file>\\n"`` for every file,
sorted by relative path (POSIX separators), so the hash does not depend on the operating system.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def directory_sha256(path: str | os.PathLike) -> str:
    """sha256 over ``"<relative path>\\0<sha256 of file>\\n"`` for every file under ``path``, sorted by path."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(root).as_posix()}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def dataset_sha256(data_path: str | os.PathLike) -> str:
    """The hash of a data file (its bytes) or of a data folder (``directory_sha256``)."""
    path = Path(data_path)
    return directory_sha256(path) if path.is_dir() else file_sha256(path)
