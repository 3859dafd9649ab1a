"""Dramatiq actors of the training app (django-dramatiq discovers this module).

Training runs on its own ``training`` queue: a GPU machine runs one worker for it with
``--processes 1 --threads 1`` (one job at a time per GPU), other work stays on ``default``.
The actor imports the runner when a message arrives, so the services that send messages can
import this module without an import cycle (runner -> services.jobs -> tasks).
"""

import dramatiq
from django.conf import settings

TRAINING_QUEUE = "training"


@dramatiq.actor(
    queue_name=TRAINING_QUEUE,
    max_retries=0,  # a failed run is recorded on the job and resumed by a person, never retried blindly
    time_limit=int(settings.TRAINING_TIME_LIMIT_HOURS * 3600 * 1000),
)
def run_training_job(job_id: int) -> None:
    """Claim the job row and run it; a duplicate or stale delivery does nothing."""
    from .runner import execute_job

    execute_job(job_id)


@dramatiq.actor(queue_name=TRAINING_QUEUE, max_retries=0, time_limit=2 * 3600 * 1000)
def merge_job_adapter(job_id: int) -> None:
    """Build the merged model a person asked for on the job page (a duplicate delivery does nothing)."""
    from .services.merges import job_merge_run

    job_merge_run(job_id)
