"""On-demand evaluation of a finished job on any project and split ("evaluate job J on project P").

``evaluation_request`` checks the request, records it as a queued ``EvaluationRequest`` and sends
the actor (``tasks.run_evaluation_request``) to the ``training`` queue. The worker's side is
``training.compare.run.evaluation_run`` (services -> tasks -> run, one way). The worker claims the row,
takes a fresh export of the project's validated prompts, scores it with the job's adapter and, in
the same pass, with the base model (``evaluation_compute``), and stores both as
``EvaluationResult`` + ``PromptEvaluation`` rows, which the comparison pages then offer as
``job:<id>[:split]`` and ``base:<id>[:split]`` sources of that project.

Every state change is one conditional UPDATE, as for training jobs (``training.services.jobs``):
queued -> running -> succeeded | failed; a finished (or lost) request can be requested again.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ranking_app.models import Project

from ..errors import EvaluationRequestError
from ..models import EvaluationRequest, TrainingJob
from ..services.adapters import adapter_path
from .tasks import EVAL_TIME_LIMIT_MS, run_evaluation_request

SPLITS = ("test", "train")
Status = EvaluationRequest.Status


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
