"""Mark running work whose worker stopped sending heartbeats as interrupted (for cron/systemd timers).

The pages and the API *show* such rows as interrupted; this stores it for every kind of background
work (jobs, evaluation requests, merged-model builds), as every worker does before each job and a
cancel or resume does before acting.
"""

from django.core.management.base import BaseCommand

from training.work.transitions import runs_reap


class Command(BaseCommand):
    help = "Mark running training jobs, evaluations and merges with a stale heartbeat as interrupted."

    def handle(self, *args, **options):
        changed = runs_reap()
        others = ", ".join(f"{count} {name}" for name, count in changed.items() if name != "TrainingJob")
        self.stdout.write(f"{changed.get('TrainingJob', 0)} job(s) marked interrupted ({others})")
