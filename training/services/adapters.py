"""Where a job's LoRA adapter lives (the one resolver of ``TrainingJob.adapter_dir``) and its download archive."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from ranking_app.archives import zip_directory

from ..engine import storage
from ..models import TrainingJob


def adapter_path(job: TrainingJob) -> Path | None:
    """The job's saved adapter folder (``adapter_dir`` is relative to TRAINING_DIR, absolute, or a storage URL
    whose folder is copied next to the job's files the first time);
    ``None`` when the job has none or the folder holds no ``adapter_config.json``."""
    if not job.adapter_dir:
        return None
    if storage.is_remote(job.adapter_dir):  # on object storage (GRPO_STORAGE_URL): a local copy, fetched once
        path = Path(settings.TRAINING_DIR) / (job.work_dir or f"job-{job.pk}") / "adapter-copy"
        if not (path / "adapter_config.json").is_file() and storage.exists(job.adapter_dir):
            storage.download_dir(job.adapter_dir, path)
    else:
        path = Path(settings.TRAINING_DIR) / job.adapter_dir
    return path if (path / "adapter_config.json").is_file() else None


def adapter_dir_value(path: str | Path) -> str:
    """What ``adapter_dir`` stores for ``path``: relative to TRAINING_DIR when it is inside it."""
    path = Path(path)
    root = Path(settings.TRAINING_DIR)
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def adapter_archive(job: TrainingJob) -> Path | None:
    """The adapter zipped next to its folder (written again when a file in the folder is newer); ``None``
    when the job has no adapter."""
    adapter = adapter_path(job)
    if adapter is None:
        return None
    archive = adapter.parent / "adapter.zip"
    if not archive.is_file() or archive.stat().st_mtime < _newest_mtime(adapter):
        partial = archive.with_suffix(f".{os.getpid()}.tmp")
        zip_directory(adapter, partial, root="adapter")
        os.replace(partial, archive)  # a download running meanwhile keeps reading the old file
    return archive


def _newest_mtime(directory: Path) -> float:
    return max((p.stat().st_mtime for p in directory.rglob("*") if p.is_file()), default=0.0)
