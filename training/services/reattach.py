"""Jobs whose worker died while their launched run goes on are queued again, to be re-attached.

A SIGKILLed worker stops heartbeating, so its job becomes ``interrupted``; its run does not stop with
it (a Ray job lives on the cluster, a ``local`` run in its own supervisor process). The worker's sweeper
(``services.sweeper``, every ``GRPO_SWEEP_SECONDS``) asks the launcher about each such job's run: one
still running or finished successfully gets its job queued again (a conditional UPDATE, as Resume does),
and the worker that claims it re-attaches to the run (``training.launched``) and records its outcome:
no second run is started. A run that failed or vanished leaves the job ``interrupted``, resumable from
its last checkpoint by a person, as before. A ``local`` run is only visible on its own host, so only
that host's worker queues its job again.

The other way round, a job a person cancelled while no worker followed it (``STOPPING_RUN``) has its
launched run stopped by the next sweep that can see it (``cancelled_runs_stop``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..launchers import Launcher, LaunchError, RunState, launcher_get
from ..models import TrainingJob
from ..work.transitions import runs_mark_interrupted
from .jobs import STOPPING_RUN, enqueue_on_commit

logger = logging.getLogger(__name__)
Status = TrainingJob.Status


def live_runs_requeue() -> list[int]:
    """Queue again every job interrupted by a lost worker whose launched run is still alive; returns their ids."""
    if settings.GRPO_LAUNCHER == "inprocess":
        return []
    runs_mark_interrupted(TrainingJob)
    launcher, candidates = _launched_jobs("about interrupted runs", status=Status.INTERRUPTED, kind=TrainingJob.Kind.TRAIN,
                                          cancel_requested=False, error=TrainingJob.STALE_ERROR)
    return [job.pk for job in candidates if launcher.attach(job.launch_ref, job.work_path) and _requeue(job)]


def _launched_jobs(purpose: str, **filters) -> tuple[Launcher | None, list[TrainingJob]]:
    """The jobs matching ``filters`` that have a run of the configured launcher, and that launcher (built
    only when there are such jobs; none, with a warning naming ``purpose``, when it cannot be reached)."""
    if settings.GRPO_LAUNCHER == "inprocess":
        return None, []
    candidates = list(TrainingJob.objects.filter(launcher=settings.GRPO_LAUNCHER, **filters).exclude(launch_ref=""))
    if not candidates:
        return None, []
    try:
        return launcher_get(), candidates
    except LaunchError as exc:
        logger.warning("cannot ask the %s launcher %s: %s", settings.GRPO_LAUNCHER, purpose, exc)
        return None, []


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


def cancelled_runs_stop() -> list[int]:
    """Stop the launched runs of jobs cancelled while no worker followed them; returns the ids of the jobs
    whose run was still going. A job whose run this process cannot see (another host's local run) waits."""
    launcher, candidates = _launched_jobs("to stop cancelled runs", status=Status.CANCELLED, phase=STOPPING_RUN)
    stopped = []
    for job in (job for job in candidates if launcher.sees(job.launch_ref)):
        handle = launcher.attach(job.launch_ref, job.work_path)
        if handle is not None and handle.state() == RunState.RUNNING:
            handle.stop()
            stopped.append(job.pk)
            logger.warning("job %s was cancelled: its %s run %s is stopped", job.pk, job.launcher, job.launch_ref)
        TrainingJob.objects.filter(pk=job.pk, status=Status.CANCELLED, phase=STOPPING_RUN).update(phase="")
    return stopped
