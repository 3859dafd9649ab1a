"""Send again the message of every queued job, merge or evaluation whose message is gone from Redis.

Each worker runs the same sweep every GRPO_SWEEP_SECONDS (training/worker_middleware.py); this command
is for a deployment without a running worker's sweeper, or to check now (`--grace 0`).
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from training.services.sweeper import queued_work_sweep


class Command(BaseCommand):
    help = "Re-send the messages of work queued longer than the grace time with no message in the broker."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=float, default=settings.GRPO_SWEEP_GRACE_SECONDS,
                            help="seconds a row must have been queued (default: GRPO_SWEEP_GRACE_SECONDS)")

    def handle(self, *args, grace, **options):
        sent = queued_work_sweep(grace_seconds=grace)
        self.stdout.write(f"sent again: {', '.join(sent)}" if sent else "nothing to send again")
