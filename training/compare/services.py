"""On-demand evaluation of a finished job on any project and split ("evaluate job J on project P").

``evaluation_request`` checks the request, records it as a queued ``EvaluationRequest`` and sends
the actor (``tasks.run_evaluation_request``) to the ``training`` queue. The worker's side is
``training.compare.run.evaluation_run`` (services -> tasks -> run, one way). The worker claims the row,
takes a fresh export of the project's validated prompts, scores it with the job's adapter and, in
the same pass, with the base model (``evaluation_compute``), and stores both as
``EvaluationResult`` + ``PromptEvaluation`` rows, which the comparison pages then offer as
``job:<id>[:split]`` and ``base:<id>[:split]`` sources of that project.

An ``EvaluationRequest`` is a ``BackgroundRun`` (``training/work/``), every state change one conditional
UPDATE: queued -> running -> succeeded | failed | cancelled; a finished (or interrupted: stale heartbeat)
request can be requested again in place, and a queued or running one cancelled (``evaluation_cancel``).
"""

from __future__ import annotations

from django.utils import timezone

from ranking_app.models import Project

from ..errors import EvaluationRequestError
from ..models import EvaluationRequest, TrainingJob
from ..services.adapters import adapter_path
from ..work.transitions import run_cancel, run_requeue, run_send, run_status, runs_reap
from .tasks import run_evaluation_request

SPLITS = ("test", "train")


# ---------------------------------------------------------------------------- request (web side)
def evaluation_request(*, job: TrainingJob, project: Project, split: str, user=None) -> EvaluationRequest:
    """Queue the evaluation of ``job`` on ``project``/``split`` (raises EvaluationRequestError)."""
    if split not in SPLITS:
        raise EvaluationRequestError(f"split: must be one of {', '.join(SPLITS)} (got {split!r})")
    if job.status != TrainingJob.Status.SUCCEEDED:
        raise EvaluationRequestError(f"job {job.pk} is {job.status}: only a succeeded job has an adapter to evaluate")
    if adapter_path(job) is None:
        raise EvaluationRequestError(f"job {job.pk}: its adapter folder is missing, so there is nothing to evaluate")
    runs_reap()  # a request shown as interrupted (stale heartbeat) is stored so before asking again
    request, created = EvaluationRequest.objects.get_or_create(
        job=job, project=project, split=split, defaults={"requested_by": user}
    )
    if not created and not _requeue(request, user):
        status = run_status(EvaluationRequest, request.pk)
        raise EvaluationRequestError(f"job {job.pk} on {project.slug} ({split} split) is already {status}")
    _send(request)
    request.refresh_from_db()
    return request


def _requeue(request: EvaluationRequest, user) -> bool:
    """Queue a finished (or interrupted) request again, in place."""
    return run_requeue(EvaluationRequest, request.pk, from_statuses=EvaluationRequest.FINISHED, requested_by=user,
                       requested_at=timezone.now(), started_at=None)  # fmt: skip


def _send(request: EvaluationRequest) -> None:
    """Send the message; if the broker is unreachable the request fails (so it does not block the next one)."""
    failure = run_send(EvaluationRequest, run_evaluation_request, request.pk, "could not queue the evaluation: {error}")
    if failure is not None:
        raise EvaluationRequestError(f"could not queue the evaluation (is Redis running?): {failure}") from failure


def evaluation_cancel(*, request: EvaluationRequest) -> str:
    """Cancel a queued request now, or ask a running one to stop at its next step (it then stores
    nothing); returns what happened as a sentence. Raises EvaluationRequestError for a finished one."""
    done = run_cancel(EvaluationRequest, request.pk)
    if done == "cancelled":
        return f"Evaluation of job {request.job_id} ({request.split} split) cancelled."
    if done == "asked":
        return (f"Cancel requested: the evaluation of job {request.job_id} stops after its current step "
                "and stores nothing.")
    status = run_status(EvaluationRequest, request.pk)
    raise EvaluationRequestError(f"the evaluation of job {request.job_id} is {status}: nothing to cancel")
