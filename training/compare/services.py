"""On-demand evaluation of a finished job on any project and split ("evaluate job J on project P").

``evaluation_request`` checks the request, records it as a queued ``EvaluationRequest`` and sends
the actor (``tasks.run_evaluation_request``) to the ``training`` queue. The worker claims the row,
takes a fresh export of the project's validated prompts, scores it with the job's adapter and, in
the same pass, with the base model (``evaluation_compute``), and stores both as
``EvaluationResult`` + ``PromptEvaluation`` rows, which the comparison pages then offer as
``job:<id>[:split]`` and ``base:<id>[:split]`` sources of that project.

Every state change is one conditional UPDATE, as for training jobs (``training.services.jobs``):
queued -> running -> succeeded | failed; a finished (or lost) request can be requested again.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ranking_app.models import Project
from ranking_app.services.exports import export_create, export_path

from ..errors import readable_error
from ..models import EvaluationRequest, TrainingJob
from ..services.adapters import adapter_path
from ..services.evaluations import base_half, evaluation_compute, evaluation_store, load_engine
from ..services.jobs import current_worker_id
from .tasks import EVAL_TIME_LIMIT_MS, run_evaluation_request

logger = logging.getLogger("training.compare")
SPLITS = ("test", "train")
Status = EvaluationRequest.Status


class EvaluationRequestError(ValueError):
    """The evaluation cannot be requested as asked; the message says why."""


# ---------------------------------------------------------------------------- request (web side)
def evaluation_request(*, job: TrainingJob, project: Project, split: str, user=None) -> EvaluationRequest:
    """Queue the evaluation of ``job`` on ``project``/``split`` (raises EvaluationRequestError)."""
    if split not in SPLITS:
        raise EvaluationRequestError(f"split: must be one of {', '.join(SPLITS)} (got {split!r})")
    if job.status != TrainingJob.Status.SUCCEEDED:
        raise EvaluationRequestError(f"job {job.pk} is {job.status}: only a succeeded job has an adapter to evaluate")
    if adapter_path(job) is None:
        raise EvaluationRequestError(f"job {job.pk}: its adapter folder is missing, so there is nothing to evaluate")
    request, created = EvaluationRequest.objects.get_or_create(
        job=job, project=project, split=split, defaults={"requested_by": user}
    )
    if not created and not _requeue(request, user):
        status = EvaluationRequest.objects.filter(pk=request.pk).values_list("status", flat=True).first()
        raise EvaluationRequestError(f"job {job.pk} on {project.slug} ({split} split) is already {status}")
    _send(request)
    request.refresh_from_db()
    return request


def _requeue(request: EvaluationRequest, user) -> bool:
    """Queue a finished request again, or one still active after the actor's time limit (lost)."""
    now = timezone.now()
    lost = now - timedelta(milliseconds=EVAL_TIME_LIMIT_MS)
    return bool(
        EvaluationRequest.objects.filter(pk=request.pk)
        .filter(Q(status__in=EvaluationRequest.FINISHED) | Q(status__in=EvaluationRequest.ACTIVE, updated_at__lt=lost))
        .update(status=Status.QUEUED, requested_by=user, requested_at=now, updated_at=now, started_at=None,
                finished_at=None, worker_id="", error="", error_detail="")
    )  # fmt: skip


def _send(request: EvaluationRequest) -> None:
    """Send the message; if the broker is unreachable the request fails (so it does not block the next one)."""
    try:
        run_evaluation_request.send(request.pk)
    except Exception as exc:  # noqa: BLE001 - any broker failure: say so, and do not leave a "queued" behind
        now = timezone.now()
        EvaluationRequest.objects.filter(pk=request.pk, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=now, updated_at=now, error=f"could not queue the evaluation: {exc}"
        )
        raise EvaluationRequestError(f"could not queue the evaluation (is Redis running?): {exc}") from exc


# ---------------------------------------------------------------------------- run (worker side)
def evaluation_claim(*, request_id: int, worker_id: str) -> EvaluationRequest | None:
    """Take a queued request for ``worker_id`` (atomic); ``None`` when it is not queued any more."""
    now = timezone.now()
    claimed = EvaluationRequest.objects.filter(pk=request_id, status=Status.QUEUED).update(
        status=Status.RUNNING, worker_id=worker_id, started_at=now, updated_at=now
    )
    return EvaluationRequest.objects.select_related("job", "project").get(pk=request_id) if claimed else None


def evaluation_finish(*, request_id: int, worker_id: str, status: str, **fields) -> bool:
    """Record the outcome, if ``worker_id`` still owns the request; returns whether it did."""
    now = timezone.now()
    return bool(
        EvaluationRequest.objects.filter(pk=request_id, status=Status.RUNNING, worker_id=worker_id).update(
            status=status, finished_at=now, updated_at=now, **fields
        )
    )


def evaluation_run(*, request_id: int) -> str:
    """Claim request ``request_id``, evaluate the job's tuned and base model on a fresh export, record it."""
    worker_id = current_worker_id()
    request = evaluation_claim(request_id=request_id, worker_id=worker_id)
    if request is None:
        logger.info("evaluation request %s not claimed: not queued (duplicate or stale delivery)", request_id)
        return "skipped"
    try:
        fields = _evaluate(request)
    except BaseException as exc:  # noqa: B036 - time limits arrive as BaseException; every failure is recorded
        logger.error("evaluation request %s failed: %s", request_id, exc, exc_info=True)
        fields = {"status": Status.FAILED, "error": readable_error(exc), "error_detail": traceback.format_exc()}
    recorded = evaluation_finish(request_id=request_id, worker_id=worker_id, **fields)
    return fields["status"] if recorded else "lost"


def _evaluate(request: EvaluationRequest) -> dict:
    job, split = request.job, request.split
    adapter = adapter_path(job)
    if adapter is None:
        raise EvaluationRequestError(f"job {job.pk}: its adapter folder is missing")
    export = export_create(project=request.project, format="json", validated_only=True)
    result = evaluation_compute(engine=load_engine(), job=job, data_path=export_path(export), split=split,
                                adapter=adapter)  # fmt: skip
    tuned = evaluation_store(job=job, model="tuned", result=result, export=export, split=split)
    base = evaluation_store(job=job, model="base", result=base_half(result), export=export, split=split)
    return {"status": Status.SUCCEEDED, "export": export, "tuned": tuned, "base": base, "n_prompts": tuned.n_prompts}
