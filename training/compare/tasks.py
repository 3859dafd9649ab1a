"""The dramatiq actor of the comparison: run one ``EvaluationRequest`` on the training worker.

It loads the model, so it runs on the ``training`` queue where training runs. The work itself is
``services.evaluation_run``, imported when a message arrives: this module stays a thin message
definition that the request service can import without pulling in the worker's code.
"""

import dramatiq

from ..tasks import TRAINING_QUEUE

EVAL_TIME_LIMIT_MS = 6 * 3600 * 1000


@dramatiq.actor(queue_name=TRAINING_QUEUE, max_retries=0, time_limit=EVAL_TIME_LIMIT_MS)
def run_evaluation_request(request_id: int) -> None:
    """Claim evaluation request ``request_id`` and run it; a duplicate or stale delivery does nothing."""
    from .services import evaluation_run

    evaluation_run(request_id=request_id)
