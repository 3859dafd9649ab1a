"""Mark running jobs whose worker stopped sending heartbeats as interrupted (for cron/systemd timers).

The job pages and the API *show* such jobs as interrupted; this stores it, as every worker does before
each job and a cancel or resume does before acting.
"""

from django.core.management.base import BaseCommand

from training.services.jobs import jobs_mark_interrupted


class Command(BaseCommand):
    help = "Mark running training jobs with a stale heartbeat as interrupted."

    def handle(self, *args, **options):
        changed = jobs_mark_interrupted()
        self.stdout.write(f"{changed} job(s) marked interrupted")
