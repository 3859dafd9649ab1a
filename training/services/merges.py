"""The merged model of a job: the adapter folded into its base (``training.engine.merge``), built on
demand by a worker, never in a web request. ``TrainingJob.merge_status`` follows the jobs' conditional
updates: "" or failed -> queued (a person asks) -> running (one worker claims it) -> done | failed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ranking_app.archives import zip_directory

from ..errors import readable_error
from ..models import MergeStatus, TrainingJob
from ..runner import _retry_locked as retry_locked
from .adapters import adapter_path
from .jobs import JobStateError, job_work_dir

logger = logging.getLogger(__name__)
MERGED = "merged"


def job_merge_request(*, job: TrainingJob) -> TrainingJob:
    """Queue the build of ``job``'s merged model (a succeeded job with an adapter, not built or failed)."""
    if job.status != TrainingJob.Status.SUCCEEDED or adapter_path(job) is None:
        raise JobStateError(f"job {job.pk} has no trained adapter to merge (it is {job.status})")
    with transaction.atomic():
        queued = TrainingJob.objects.filter(pk=job.pk, merge_status__in=[MergeStatus.NONE, MergeStatus.FAILED]).update(
            merge_status=MergeStatus.QUEUED, merge_error="", updated_at=timezone.now()  # queued since (the sweeper)
        )
        if not queued:
            raise JobStateError(f"the merged model of job {job.pk} is already {job.get_merge_status_display()}")
        transaction.on_commit(lambda: _enqueue(job.pk))
    job.refresh_from_db()
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import merge_job_adapter

    try:
        merge_job_adapter.send(job_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: say so on the job, the button asks again
        TrainingJob.objects.filter(pk=job_id, merge_status=MergeStatus.QUEUED).update(
            merge_status=MergeStatus.FAILED, merge_error=f"the task queue is unreachable ({type(exc).__name__})"
        )


def job_merge_run(job_id: int) -> str:
    """The worker's part: claim the queued build, merge, zip; returns what happened."""
    claimed = retry_locked(lambda: TrainingJob.objects.filter(pk=job_id, merge_status=MergeStatus.QUEUED).update(
        merge_status=MergeStatus.RUNNING
    ))
    if not claimed:
        return "skipped"  # a duplicate delivery, or nothing asked for
    job = TrainingJob.objects.get(pk=job_id)
    output = job_work_dir(job) / MERGED
    try:
        _build(job, output)
    except Exception as exc:  # noqa: BLE001 - recorded on the job for the person who asked
        logger.exception("merging the adapter of job %s failed", job_id)
        error = readable_error(exc)
        retry_locked(lambda: _finish(job_id, merge_status=MergeStatus.FAILED, merge_error=error))
        return "failed"
    merged_dir = str(output.relative_to(settings.TRAINING_DIR))
    retry_locked(lambda: _finish(job_id, merge_status=MergeStatus.DONE, merged_dir=merged_dir))
    return "done"


def _finish(job_id: int, **fields) -> int:
    return TrainingJob.objects.filter(pk=job_id, merge_status=MergeStatus.RUNNING).update(**fields)


def _build(job: TrainingJob, output: Path) -> None:
    from ..engine.merge import merge_adapter

    shutil.rmtree(output, ignore_errors=True)  # a half-written earlier attempt
    merge_adapter(job.base_model, str(adapter_path(job)), str(output))
    zip_directory(output, output.with_name(f"{MERGED}.zip"), root=MERGED)


def job_merged_archive(job: TrainingJob) -> Path | None:
    """The zip of the job's merged model, when it is built."""
    if job.merge_status != MergeStatus.DONE or not job.merged_dir:
        return None
    archive = Path(settings.TRAINING_DIR) / f"{job.merged_dir}.zip"
    return archive if archive.is_file() else None
