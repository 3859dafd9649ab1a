"""``BackgroundRun``: the abstract model every kind of background work shares (states, ownership,
liveness, cancel flag, errors, times) and the one rule that decides "interrupted"."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    INTERRUPTED = "interrupted", "interrupted"


ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)
RESUMABLE = (RunStatus.INTERRUPTED, RunStatus.CANCELLED, RunStatus.FAILED)

STALE_ERROR = ("the worker stopped sending heartbeats (killed, crashed or lost its machine); "
               "resume continues from the last checkpoint")


def stale_cutoff(now=None):
    """Heartbeats older than this belong to a worker that is gone (``TRAINING_STALE_SECONDS``)."""
    return (now or timezone.now()) - timedelta(seconds=settings.TRAINING_STALE_SECONDS)


class BackgroundRun(models.Model):
    """One piece of background work: queued -> running (one worker, heartbeats) -> an outcome.

    ``ACTIONS`` maps each status a page shows to what a person may do then; a kind overrides it.
    """

    Status = RunStatus
    STOPPED_FIELDS: dict = {}  # what else every stop (finish, cancel, interrupted, requeue) resets, e.g. a phase
    ACTIVE = ACTIVE
    FINISHED = FINISHED
    RESUMABLE = RESUMABLE
    STALE_ERROR = STALE_ERROR
    ACTIONS: dict[str, tuple[str, ...]] = {
        RunStatus.QUEUED: ("cancel", "resend"),
        RunStatus.RUNNING: ("cancel",),
        RunStatus.INTERRUPTED: ("cancel", "resume"),
        RunStatus.CANCELLED: ("resume",),
        RunStatus.FAILED: ("resume",),
        RunStatus.SUCCEEDED: (),
    }

    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    worker_id = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True, help_text="Readable error message.")
    error_detail = models.TextField(blank=True, help_text="The traceback behind ``error``.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last state change (set by every update).")

    class Meta:
        abstract = True

    @classmethod
    def stale(cls, now=None) -> models.Q:
        """Running with a heartbeat older than ``TRAINING_STALE_SECONDS``: its worker is gone."""
        return models.Q(status=RunStatus.RUNNING, heartbeat_at__lt=stale_cutoff(now))

    @classmethod
    def shown_status_case(cls, now=None) -> models.Case:
        """``shown_status`` in SQL, to filter or sort a queryset by what the pages show."""
        return models.Case(models.When(cls.stale(now), then=models.Value(RunStatus.INTERRUPTED)),
                           default=models.F("status"))

    def is_stale(self, now=None) -> bool:
        return self.status == RunStatus.RUNNING and self.heartbeat_at is not None and self.heartbeat_at < stale_cutoff(now)

    def shown_status(self, now=None) -> str:
        """The status a page shows: a stale running row reads as interrupted (nothing is written)."""
        return RunStatus.INTERRUPTED if self.is_stale(now) else self.status

    @property
    def is_active(self) -> bool:
        """Queued or running as shown (a stale running row is not active: it is interrupted)."""
        return self.shown_status() in ACTIVE

    def allowed_actions(self, now=None) -> tuple[str, ...]:
        """What a person may do with this run now (``ACTIONS`` of its shown status)."""
        return self.ACTIONS.get(self.shown_status(now), ())
