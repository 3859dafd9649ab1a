"""Storage URLs of a job's files (GRPO_STORAGE_URL, docs/scaling.md): the export it trains on, its output
folder (checkpoints, adapter) and evaluation files. With the default (the data dir) they are the usual
local paths; with ``s3://bucket/prefix`` or a shared mount the engine on another machine reads and
writes them there and the worker reads results back through fsspec (training.engine.storage)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ranking_app.exchange.exports import export_path

from .engine import storage
from .models import TrainingJob


def storage_is_default() -> bool:
    return str(settings.GRPO_STORAGE_URL) == str(settings.DATA_DIR)


def training_url(job: TrainingJob, *parts: str) -> str:
    """URL of the job's folder (or a file in it) on the storage."""
    folder = job.work_dir or f"job-{job.pk}"
    root = str(settings.TRAINING_DIR) if storage_is_default() else storage.join(settings.GRPO_STORAGE_URL, "training")
    return storage.join(root, folder, *parts)


def export_url(job: TrainingJob) -> str:
    """URL of the job's export on the storage, copied there (same bytes, same sha256) the first time."""
    local = export_path(job.export)
    if storage_is_default():
        return str(local)
    url = storage.join(settings.GRPO_STORAGE_URL, "exports", job.export.path)
    if not storage.exists(url):
        storage.upload_file(local, url)
    return url


def adapter_dir_value(url: str) -> str:
    """What ``TrainingJob.adapter_dir`` stores: relative to TRAINING_DIR when local and inside it, else the URL."""
    if storage.is_remote(url):
        return url
    path, root = Path(storage.local_path(url)), Path(settings.TRAINING_DIR)
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
