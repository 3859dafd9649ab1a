"""Jobs whose worker died while their launched run goes on are queued again, to be re-attached.

A SIGKILLed worker stops heartbeating, so its job becomes ``interrupted``; its run does not stop with
it (a Ray job lives on the cluster, a ``local`` run in its own supervisor process). The worker's sweeper
(``services.sweeper``, every ``GRPO_SWEEP_SECONDS``) asks the launcher about each such job's run: one
still running or finished successfully gets its job queued again (a conditional UPDATE, as Resume does),
and the worker that claims it re-attaches to the run (``training.launched``) and records its outcome:
no second run is started. A run that failed or vanished leaves the job ``interrupted``, resumable from
its last checkpoint by a person, as before. A ``local`` run is only visible on its own host, so only
that host's worker queues its job again.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..launchers import LaunchError, launcher_get
from ..models import TrainingJob
from ..work.transitions import runs_mark_interrupted
from .jobs import enqueue_on_commit

logger = logging.getLogger(__name__)
Status = TrainingJob.Status


def live_runs_requeue() -> list[int]:
    """Queue again every job interrupted by a lost worker whose launched run is still alive; returns their ids."""
    if settings.GRPO_LAUNCHER == "inprocess":
        return []
    runs_mark_interrupted(TrainingJob)
    candidates = list(TrainingJob.objects.filter(
        status=Status.INTERRUPTED, kind=TrainingJob.Kind.TRAIN, launcher=settings.GRPO_LAUNCHER,
        cancel_requested=False, error=TrainingJob.STALE_ERROR,
    ).exclude(launch_ref=""))  # fmt: skip
    if not candidates:
        return []
    try:
        launcher = launcher_get()
    except LaunchError as exc:
        logger.warning("cannot ask the %s launcher about interrupted runs: %s", settings.GRPO_LAUNCHER, exc)
        return []
    return [job.pk for job in candidates if launcher.attach(job.launch_ref, job.work_path) and _requeue(job)]


def _requeue(job: TrainingJob) -> bool:
    with transaction.atomic():
        queued = TrainingJob.objects.filter(pk=job.pk, status=Status.INTERRUPTED, cancel_requested=False).update(
            status=Status.QUEUED, phase="", error="", error_detail="", finished_at=None, worker_id="",
            heartbeat_at=None, updated_at=timezone.now(),
        )  # fmt: skip
        if queued:
            enqueue_on_commit(job.pk)
    if queued:
        logger.warning("job %s: its worker was lost but its %s run %s goes on; queued again to re-attach",
                       job.pk, job.launcher, job.launch_ref)  # fmt: skip
    return bool(queued)
