"""The dramatiq actor of the comparison: run one ``EvaluationRequest`` on the training worker.

It loads the model, so it runs on the ``training`` queue where training runs. The work itself is
``run.evaluation_run`` (the worker's side, which imports no request code, so the request service
can import this module without a cycle; the engine itself is loaded only when a message arrives).
"""

import dramatiq

from ..tasks import TRAINING_QUEUE
from .run import evaluation_run

EVAL_TIME_LIMIT_MS = 6 * 3600 * 1000


@dramatiq.actor(queue_name=TRAINING_QUEUE, max_retries=0, time_limit=EVAL_TIME_LIMIT_MS)
def run_evaluation_request(request_id: int) -> None:
    """Claim evaluation request ``request_id`` and run it; a duplicate or stale delivery does nothing."""
    evaluation_run(request_id=request_id)
