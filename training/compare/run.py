"""The worker's side of an evaluation request: claim it, evaluate the job on a fresh export, record it.

The actor (``tasks.run_evaluation_request``) calls ``evaluation_run``; the web side that queues the
request is ``services.evaluation_request``. A cancel asked while it runs takes effect at the next step
boundary (before the export, after scoring): the request ends ``cancelled`` and stores nothing. Every
state change is a ``training.work.transitions`` function (one conditional UPDATE); a heartbeat thread
keeps the running request alive.
"""

from __future__ import annotations

import logging
import traceback

from ranking_app.exchange.exports import export_create, export_path

from ..errors import EvaluationRequestError, readable_error
from ..models import EvaluationRequest
from ..services.adapters import adapter_path
from ..services.evaluations import base_half, evaluation_compute, evaluation_store, load_engine
from ..work.heartbeat import Heartbeat
from ..work.transitions import RunCancelled, current_worker_id, run_claim, run_finish, run_stop_point

logger = logging.getLogger("training.compare")
Status = EvaluationRequest.Status


def evaluation_claim(*, request_id: int, worker_id: str) -> EvaluationRequest | None:
    """Take a queued request for ``worker_id`` (atomic); ``None`` when it is not queued any more."""
    claimed = run_claim(EvaluationRequest, request_id, worker_id)
    return EvaluationRequest.objects.select_related("job", "project").get(pk=request_id) if claimed else None


def evaluation_finish(*, request_id: int, worker_id: str, status: str, **fields) -> bool:
    """Record the outcome, if ``worker_id`` still owns the request; returns whether it did."""
    return run_finish(EvaluationRequest, request_id, worker_id, status, **fields)


def evaluation_run(*, request_id: int) -> str:
    """Claim request ``request_id``, evaluate the job's tuned and base model on a fresh export, record it."""
    worker_id = current_worker_id()
    request = evaluation_claim(request_id=request_id, worker_id=worker_id)
    if request is None:
        logger.info("evaluation request %s not claimed: not queued (duplicate or stale delivery)", request_id)
        return "skipped"
    try:
        with Heartbeat(request):
            fields = _evaluate(request)
    except RunCancelled:
        logger.info("evaluation request %s cancelled on request", request_id)
        fields = {"status": Status.CANCELLED}
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
    run_stop_point(EvaluationRequest, request.pk)
    export = export_create(project=request.project, format="json", validated_only=True)
    result = evaluation_compute(engine=load_engine(), job=job, data_path=export_path(export), split=split,
                                adapter=adapter)  # fmt: skip
    run_stop_point(EvaluationRequest, request.pk)  # asked to stop while scoring: nothing is stored
    tuned = evaluation_store(job=job, model="tuned", result=result, export=export, split=split)
    base = evaluation_store(job=job, model="base", result=base_half(result), export=export, split=split)
    return {"status": Status.SUCCEEDED, "export": export, "tuned": tuned, "base": base, "n_prompts": tuned.n_prompts}
