"""The merged model of a job, web side: a person asks for it (``job_merge_request``), a worker builds it
(``training/merge_runner.py``, never in a web request), the page offers its zip (``job_merged_archive``).

The build is an ``AdapterMerge`` (a ``BackgroundRun``, keyed by its job): asked for (queued), claimed by
one worker (running, heartbeats), then succeeded or failed; a queued or running build can be cancelled
(``job_merge_cancel``: a running one stops between merging and zipping), and a failed, cancelled or
interrupted build asked for again.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AdapterMerge, TrainingJob
from ..tasks import merge_job_adapter
from ..work.transitions import run_cancel, run_requeue, run_send_on_commit, run_status, runs_reap
from .adapters import adapter_path
from .jobs import JobStateError

SHOWN = {"queued": "queued", "running": "building", "succeeded": "built"}


def job_merge_request(*, job: TrainingJob) -> AdapterMerge:
    """Queue the build of ``job``'s merged model (a succeeded job with an adapter, not built or failed)."""
    if job.status != TrainingJob.Status.SUCCEEDED or adapter_path(job) is None:
        raise JobStateError(f"job {job.pk} has no trained adapter to merge (it is {job.status})")
    runs_reap()  # a build shown as interrupted (stale heartbeat) is stored so before asking again
    with transaction.atomic():
        merge, created = AdapterMerge.objects.get_or_create(job=job)
        if not created and not run_requeue(AdapterMerge, merge.pk, requested_at=timezone.now()):
            merge.refresh_from_db()
            raise JobStateError(f"the merged model of job {job.pk} is already {SHOWN.get(merge.status, merge.status)}")
        run_send_on_commit(AdapterMerge, merge_job_adapter, merge.pk, "the task queue is unreachable ({error})")
    merge.refresh_from_db()
    return merge


def job_merge_cancel(*, job: TrainingJob) -> TrainingJob:
    """Cancel the queued build of ``job``'s merged model, or ask a running one to stop at its next step."""
    merge = job.adapter_merge
    if merge is None or not run_cancel(AdapterMerge, merge.pk):
        status = run_status(AdapterMerge, merge.pk) if merge is not None else "not asked for"
        raise JobStateError(f"the merged model of job {job.pk} is {SHOWN.get(status, status)}: nothing to cancel")
    return job


def job_merged_archive(job: TrainingJob) -> Path | None:
    """The zip of the job's merged model, when it is built."""
    merge = job.adapter_merge
    if merge is None or merge.status != AdapterMerge.Status.SUCCEEDED or not merge.merged_dir:
        return None
    archive = Path(settings.TRAINING_DIR) / f"{merge.merged_dir}.zip"
    return archive if archive.is_file() else None
