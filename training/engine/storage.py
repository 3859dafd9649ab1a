"""Files addressed by a storage URL: a local path, ``file://`` or anything fsspec reaches (``s3://`` with
s3fs, ``gs://``, a shared mount). The engine reads the export and writes the adapter, metrics and
evaluation there, so a Ray worker on another machine and the web host see the same files.

Remote folders are worked on in a local copy: ``synced_dir`` downloads what is there (the
checkpoints a resumed run continues from), yields the local folder and uploads new and changed
files when the block ends, also when it ends with an error or a cancel. Local paths are used in
place. S3 credentials and endpoint come from the usual AWS variables (``AWS_ENDPOINT_URL`` for an
S3-compatible server).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec
from fsspec.core import url_to_fs


def is_remote(url: str | os.PathLike) -> bool:
    """Whether ``url`` names a non-local file system (``s3://...``); plain paths and ``file://`` are local."""
    text = str(url)
    return "://" in text and not text.startswith("file://")


def local_path(url: str | os.PathLike) -> Path:
    """The local path of a local ``url`` (``file://`` prefix dropped)."""
    text = str(url)
    return Path(text[len("file://"):] if text.startswith("file://") else text)


def join(url: str | os.PathLike, *parts: str) -> str:
    """``url`` with path ``parts`` appended (``/`` separated for every scheme)."""
    return "/".join([str(url).rstrip("/"), *(part.strip("/") for part in parts)])


def read_text(url: str | os.PathLike) -> str:
    if not is_remote(url):
        return local_path(url).read_text(encoding="utf-8")
    with fsspec.open(str(url), "r", encoding="utf-8") as handle:
        return handle.read()


def write_text(url: str | os.PathLike, text: str) -> None:
    """Write ``text`` whole (locally through a temporary file, so a reader never sees half of it)."""
    if is_remote(url):
        with fsspec.open(str(url), "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    path = local_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def read_json(url: str | os.PathLike):
    return json.loads(read_text(url))


def exists(url: str | os.PathLike) -> bool:
    if not is_remote(url):
        return local_path(url).exists()
    fs, path = url_to_fs(str(url))
    return fs.exists(path)


def upload_file(local: str | os.PathLike, url: str) -> None:
    """Copy the local file to ``url`` (a no-op when ``url`` is that same local file)."""
    if not is_remote(url):
        target = local_path(url)
        if target.resolve() != Path(local).resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(local).read_bytes())
        return
    fs, path = url_to_fs(url)
    fs.put_file(str(local), path)


@contextmanager
def local_file(url: str | os.PathLike) -> Iterator[str]:
    """A local path holding the file at ``url`` (a temporary download for a remote one)."""
    if not is_remote(url):
        yield str(local_path(url))
        return
    fs, path = url_to_fs(str(url))
    with tempfile.TemporaryDirectory(prefix="grpo-") as tmp:
        target = Path(tmp) / Path(path).name
        fs.get_file(path, str(target))
        yield str(target)


def download_dir(url: str, target: str | os.PathLike) -> Path:
    """Copy the folder at remote ``url`` into ``target`` (made first); returns ``target``."""
    fs, root = url_to_fs(str(url))
    Path(target).mkdir(parents=True, exist_ok=True)
    _download_tree(fs, root.rstrip("/"), Path(target))
    return Path(target)


@contextmanager
def synced_dir(url: str | os.PathLike) -> Iterator[str]:
    """A local folder mirroring the folder at ``url``; new and changed files go back to ``url`` at the end."""
    if not is_remote(url):
        local_path(url).mkdir(parents=True, exist_ok=True)
        yield str(local_path(url))
        return
    fs, root = url_to_fs(str(url))
    with tempfile.TemporaryDirectory(prefix="grpo-") as tmp:
        seen = _download_tree(fs, root.rstrip("/"), Path(tmp))
        try:
            yield tmp
        finally:
            _upload_tree(fs, Path(tmp), root.rstrip("/"), seen)


def _download_tree(fs, root: str, target: Path) -> dict[str, tuple[int, int]]:
    seen = {}
    for remote in fs.find(root) if fs.exists(root) else []:
        relative = remote[len(root):].lstrip("/")
        local = target / relative
        local.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(remote, str(local))
        seen[relative] = _stamp(local)
    return seen


def _upload_tree(fs, source: Path, root: str, seen: dict[str, tuple[int, int]]) -> None:
    for local in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = local.relative_to(source).as_posix()
        if seen.get(relative) != _stamp(local):
            fs.put_file(str(local), f"{root}/{relative}")


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
