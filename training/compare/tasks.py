"""On-demand evaluation of a finished job on any project and split ("evaluate job X on project Y").

``evaluation_request`` checks the request, writes its status file and sends the dramatiq actor to
the ``training`` queue (it loads the model, so it runs where training runs). The actor takes a
fresh export of the project's validated prompts, scores them with the job's adapter and, in the
same pass, with the base model (``training.engine.evaluate_model``), and stores both as
``EvaluationResult`` + ``PromptEvaluation`` rows (``evaluation_store``), which the comparison pages
then offer as ``job:<id>[:split]`` and ``base:<id>[:split]`` sources of that project.

Progress lives in one small JSON file per (job, project, split) under
``TRAINING_DIR/evaluations/``: queued -> running -> done | failed (with the error).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

import dramatiq
from django.conf import settings
from django.utils import timezone

from ranking_app.models import Project
from ranking_app.services.exports import export_create, export_path

from ..errors import readable_error
from ..models import TrainingJob
from ..services.evaluations import evaluation_store
from ..tasks import TRAINING_QUEUE

logger = logging.getLogger("training.compare")
SPLITS = ("test", "train")
EVAL_TIME_LIMIT_MS = 6 * 3600 * 1000


class EvaluationRequestError(ValueError):
    """The evaluation cannot be requested as asked; the message says why."""


def load_engine():
    """The training engine module (tests may swap in another one here)."""
    import training.engine

    return training.engine


# ---------------------------------------------------------------------------- status files
def status_path(job_id: int, project_id: int, split: str) -> Path:
    return Path(settings.TRAINING_DIR) / "evaluations" / f"job-{job_id}-project-{project_id}-{split}.json"


def _write_status(job_id: int, project_id: int, split: str, state: str, **extra) -> dict:
    status = {"job_id": job_id, "project_id": project_id, "split": split, "state": state,
              "updated_at": timezone.now().isoformat(timespec="seconds"), **extra}  # fmt: skip
    path = status_path(job_id, project_id, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".status-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(status, out)
    os.replace(temporary, path)  # readers never see half a file
    return status


def evaluation_statuses(*, project: Project) -> list[dict]:
    """The evaluation requests on ``project`` (newest first), from their status files."""
    folder = Path(settings.TRAINING_DIR) / "evaluations"
    statuses = []
    for path in folder.glob(f"job-*-project-{project.pk}-*.json"):
        try:
            statuses.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue  # being replaced right now; the next read sees it
    return sorted(statuses, key=lambda s: s.get("updated_at", ""), reverse=True)


# ---------------------------------------------------------------------------- request + run
def adapter_dir(job: TrainingJob) -> Path | None:
    if not job.adapter_dir:
        return None
    path = Path(job.adapter_dir)
    path = path if path.is_absolute() else Path(settings.TRAINING_DIR) / path
    return path if (path / "adapter_config.json").is_file() else None


def evaluation_request(*, job: TrainingJob, project: Project, split: str, user=None) -> dict:
    """Queue the evaluation of ``job`` on ``project``/``split`` (raises EvaluationRequestError)."""
    if split not in SPLITS:
        raise EvaluationRequestError(f"split: must be one of {', '.join(SPLITS)} (got {split!r})")
    if job.status != TrainingJob.Status.SUCCEEDED:
        raise EvaluationRequestError(f"job {job.pk} is {job.status}: only a succeeded job has an adapter to evaluate")
    if adapter_dir(job) is None:
        raise EvaluationRequestError(f"job {job.pk}: its adapter folder is missing, so there is nothing to evaluate")
    pending = _pending(job.pk, project.pk, split)
    if pending:
        raise EvaluationRequestError(f"job {job.pk} on {project.slug} ({split} split) is already {pending}")
    status = _write_status(job.pk, project.pk, split, "queued", requested_by=getattr(user, "username", None))
    try:
        evaluate_job_on_project.send(job.pk, project.pk, split)
    except Exception as exc:  # broker down: say so, and do not leave a "queued" that blocks the next try
        _write_status(job.pk, project.pk, split, "failed", error=f"could not queue the evaluation: {exc}")
        raise EvaluationRequestError(f"could not queue the evaluation (is Redis running?): {exc}") from exc
    return status


def _pending(job_id: int, project_id: int, split: str) -> str | None:
    """"queued"/"running" while a request is in flight (one older than the time limit counts as lost)."""
    try:
        status = json.loads(status_path(job_id, project_id, split).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if status.get("state") not in ("queued", "running"):
        return None
    age = timezone.now() - datetime.fromisoformat(status["updated_at"])
    return status["state"] if age.total_seconds() * 1000 < EVAL_TIME_LIMIT_MS else None


def evaluation_run(*, job_id: int, project_id: int, split: str) -> dict:
    """Export ``project``, score it with the job's adapter and its base model, store both evaluations."""
    _write_status(job_id, project_id, split, "running")
    try:
        job = TrainingJob.objects.get(pk=job_id)
        project = Project.objects.get(pk=project_id)
        adapter = adapter_dir(job)
        if adapter is None:
            raise EvaluationRequestError(f"job {job_id}: its adapter folder is missing")
        export = export_create(project=project, format="json", validated_only=True)
        result = _evaluate(job, str(export_path(export)), str(adapter), split)
        tuned = evaluation_store(job=job, model="tuned", result=result, export=export, split=split)
        base = evaluation_store(job=job, model="base", result=_base_result(result), export=export, split=split)
    except Exception as exc:
        logger.error("evaluating job %s on project %s (%s) failed: %s", job_id, project_id, split, exc, exc_info=True)
        return _write_status(job_id, project_id, split, "failed", error=readable_error(exc),
                             error_detail=traceback.format_exc())
    return _write_status(job_id, project_id, split, "done", export_id=export.pk, n_prompts=tuned.n_prompts,
                         evaluations={"tuned": tuned.pk, "base": base.pk})


def _evaluate(job: TrainingJob, data_path: str, adapter: str, split: str) -> dict:
    config = job.config or {}
    return load_engine().evaluate_model(
        config.get("model_name_or_path") or job.base_model, data_path, adapter_dir=adapter, split=split,
        max_length=int(config.get("max_length", 512)), max_prompt_length=config.get("max_prompt_length"),
        batch_size=max(1, int(config.get("per_device_train_batch_size", 4))),
        quantization=config.get("quantization", "none"), beta=config.get("beta"),
    )  # fmt: skip


def _base_result(result: dict) -> dict:
    """The base model's half of an adapter evaluation, shaped like a base-only ``evaluate_model`` result."""
    from training.engine.metrics import dense_ranking

    per_prompt = [
        {"id": entry["id"], "scores": entry["base_scores"], "ranking": dense_ranking(entry["base_scores"]),
         "human_ranking": entry.get("human_ranking", [])}
        for entry in result["per_prompt"]
    ]  # fmt: skip
    return {**result.get("base", {}), "per_prompt": per_prompt}


@dramatiq.actor(queue_name=TRAINING_QUEUE, max_retries=0, time_limit=EVAL_TIME_LIMIT_MS)
def evaluate_job_on_project(job_id: int, project_id: int, split: str = "test") -> None:
    """Evaluate job ``job_id`` (tuned + base) on a fresh export of project ``project_id``, ``split``."""
    evaluation_run(job_id=job_id, project_id=project_id, split=split)
