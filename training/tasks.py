"""Dramatiq actors of the training app (django-dramatiq discovers this module).

Training runs on its own ``training`` queue: a GPU machine runs one worker for it with
``--processes 1 --threads 1`` (one job at a time per GPU), other work stays on ``default``.
Each actor hands its message to the worker's side of its kind (``runner.execute_job``,
``merge_runner.merge_run``); those import the background-work kernel (``training/work/``), never the
services that send messages, so services -> tasks -> runner goes one way.
"""

import dramatiq
from django.conf import settings

from .merge_runner import merge_run
from .runner import execute_job

TRAINING_QUEUE = "training"


@dramatiq.actor(
    queue_name=TRAINING_QUEUE,
    max_retries=0,  # a failed run is recorded on the job and resumed by a person, never retried blindly
    time_limit=int(settings.TRAINING_TIME_LIMIT_HOURS * 3600 * 1000),
)
def run_training_job(job_id: int) -> None:
    """Claim the job row and run it; a duplicate or stale delivery does nothing."""
    execute_job(job_id)


@dramatiq.actor(queue_name=TRAINING_QUEUE, max_retries=0, time_limit=2 * 3600 * 1000)
def merge_job_adapter(merge_id: int) -> None:
    """Build the merged model a person asked for on the job page (a duplicate delivery does nothing).
    ``merge_id`` is the ``AdapterMerge``'s key, which is its job's id."""
    merge_run(merge_id)
