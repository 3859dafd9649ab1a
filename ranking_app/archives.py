"""Zip a folder: the one way the app packs a directory for download (Hugging Face exports, LoRA adapters)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO


def zip_directory(directory: Path, out: Path | IO[bytes], *, root: str) -> None:
    """Write every file under ``directory`` into the zip ``out`` (a path or a binary file), as ``root/<relative path>``."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            archive.write(path, arcname=f"{root}/{path.relative_to(directory).as_posix()}")
