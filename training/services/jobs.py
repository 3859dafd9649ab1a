"""Writes on training jobs from the web side: launch, cancel, resume.

Every state change is a ``training.work.transitions`` function (one conditional UPDATE), so two actors
racing on the same row (two deliveries of a message, a cancel during a claim) cannot both win. The
worker's side (claim, heartbeat, finish) is ``training/runner.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.db import transaction

from ranking_app.exchange.exports import export_path, export_write
from ranking_app.models import Project

from ..engine.readiness import data_readiness
from ..models import TrainingJob
from ..tasks import run_training_job
from ..work.transitions import (
    run_cancel,
    run_requeue,
    run_send,
    run_send_on_commit,
    run_status,
    runs_reap,
)
from .job_config import JobConfigError, config_build

logger = logging.getLogger(__name__)

Status = TrainingJob.Status


class JobStateError(ValueError):
    """The action does not apply to the job in its current status."""


def job_launch(
    *, project: Project, config: dict, created_by=None, preset: str = "", name: str = "", validated_only: bool = True,
    rounds: list[int] | None = None,
    launch: dict | None = None,
) -> TrainingJob:
    """Validate ``config``, freeze a JSONL export of ``project`` and queue a job that trains on it.

    ``rounds`` keeps the prompts of these rounds of the loop (0: from before the loop); None, all.
    Raises ``JobConfigError`` (field -> messages) for bad hyperparameters, unknown rounds or an
    export with nothing to train on; nothing is stored then.
    """
    config = config_build(values=config, preset=preset)
    check_base_model(config["model_name_or_path"])
    newest_round = _newest_round(project, rounds)
    with transaction.atomic():
        export, written = export_write(project=project, format="jsonl", validated_only=validated_only,
                                       created_by=created_by, rounds=rounds)  # fmt: skip
        summary = _data_summary(written)  # from memory: only the engine parses the file
        if not summary["train_prompts"]:
            export_path(export).unlink(missing_ok=True)
            which = "validated prompts" if validated_only else "prompts"
            raise JobConfigError({"validated_only": [
                f"the export of {project.slug}{_rounds_note(rounds)} has no train-split {which} with two responses in "
                f"different tiers "
                f"(prompts per split: {summary['splits'] or 'none'})"
            ]})  # fmt: skip
        job = TrainingJob.objects.create(
            project=project, export=export, name=name or f"{project.slug} {preset or 'custom'}", preset=preset,
            base_model=config["model_name_or_path"], config=config, data_summary=summary, created_by=created_by,
            round=newest_round,  # the newest round whose data the export holds
            launch=launch or {},
        )  # fmt: skip
        job.work_dir = f"job-{job.pk}"
        job.save(update_fields=["work_dir"])
        enqueue_on_commit(job.pk)
    logger.info("job %s queued by %s on export %s", job.pk, created_by, export.sha256[:12])
    return job


def _rounds_note(rounds: list[int] | None) -> str:
    return f" (rounds {', '.join(map(str, rounds))})" if rounds else ""


def _newest_round(project: Project, rounds: list[int] | None):
    """The newest of the chosen rounds (None for round 0 alone); ``JobConfigError`` names a round that does not exist."""
    existing = dict(project.rounds.values_list("number", "pk"))
    unknown = sorted(set(rounds or []) - set(existing) - {0})
    if unknown:
        have = ", ".join(str(n) for n in [0, *sorted(existing)])
        raise JobConfigError({"rounds": [f"{project.slug} has no round {', '.join(map(str, unknown))} (rounds: {have})"]})
    chosen = [n for n in (rounds if rounds else existing) if n]
    return project.rounds.filter(number=max(chosen)).first() if chosen else None


STOPPING_RUN = "stopping its launched run"  # the phase of a job cancelled while its launched run may go on


def job_cancel(*, job: TrainingJob) -> TrainingJob:
    """Queued or interrupted jobs stop now; a running job is asked to stop and saves a checkpoint first.

    A job cancelled while no worker follows it (interrupted, or queued to re-attach) may still have its
    launched run going on a cluster or in a supervisor: it keeps the phase ``STOPPING_RUN`` until a
    worker's sweep stops that run (``services.reattach.cancelled_runs_stop``).
    """
    runs_reap()  # a run shown as interrupted (stale heartbeat) is stored so before acting on it
    launched = {"phase": STOPPING_RUN} if job.launch_ref else {}
    if not run_cancel(TrainingJob, job.pk, **launched):
        raise JobStateError(f"job {job.pk} is {_status(job)}; only queued, running or interrupted jobs can be cancelled")
    job.refresh_from_db()
    return job


def job_resume(*, job: TrainingJob) -> TrainingJob:
    """Queue an interrupted, cancelled or failed job again; the worker continues from its last checkpoint.

    A job still ``queued`` gets its message sent again (Redis without persistence loses queued
    messages when it restarts); a second message for a job is harmless, only one claim wins.
    """
    runs_reap()  # a run shown as interrupted (stale heartbeat) is stored so before acting on it
    if _status(job) == Status.QUEUED:
        _enqueue(job.pk)
        job.refresh_from_db()
        return job
    with transaction.atomic():
        if not run_requeue(TrainingJob, job.pk):
            raise JobStateError(
                f"job {job.pk} is {_status(job)}; only interrupted, cancelled, failed (or queued) jobs can be resumed"
            )
        enqueue_on_commit(job.pk)
    job.refresh_from_db()
    return job


UNREACHABLE = "the task queue is unreachable ({error}); start Redis and a worker (make run), then press Resume"


def enqueue_on_commit(job_id: int) -> None:
    run_send_on_commit(TrainingJob, run_training_job, job_id, UNREACHABLE)


def _enqueue(job_id: int) -> None:
    """Send the job's message; if the broker is unreachable, say so on the job (Resume sends it again)."""
    run_send(TrainingJob, run_training_job, job_id, UNREACHABLE)


def _status(job: TrainingJob) -> str:
    return run_status(TrainingJob, job.pk)


def check_base_model(name: str) -> None:
    looks_local = name.startswith(("/", "./", "../", "~")) or Path(name).exists()
    if looks_local and not (Path(name).expanduser() / "config.json").is_file():
        hint = " (run `make run` or `python -m training.engine make-tiny-model DIR` to build the tiny model)"
        raise JobConfigError({"model_name_or_path": [f"no model folder with a config.json at {name}{hint}"]})


def _data_summary(written: list[dict]) -> dict:
    """Prompts per split as the engine will read them (``records_from_raw``: the engine's own reading of
    the records the export wrote), and how many of them can train or be evaluated."""
    from training.engine.records import has_valid_pair, records_from_raw, select_split

    records = records_from_raw(written)
    splits: dict[str, int] = {}
    for record in records:
        splits[record["split"] or "none"] = splits.get(record["split"] or "none", 0) + 1
    return {
        "splits": splits,
        "train_prompts": sum(has_valid_pair(r["ranks"]) for r in select_split(records, "train")),
        "test_prompts": sum(has_valid_pair(r["ranks"]) for r in select_split(records, "test")),
        "readiness": data_readiness(records),  # the agreement snapshot the job page keeps next to the verdict
    }
