"""The state changes of every ``BackgroundRun``, each one conditional UPDATE.

``filter(status=...).update(...)``: two actors racing on the same row (two deliveries of a message,
a cancel during a claim, a reaper and a late worker) cannot both win; each function returns whether
it did. The kinds wrap these with their own fields (a job's ``phase``, an evaluation's results).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, close_old_connections, transaction
from django.utils import timezone

from .models import ACTIVE, RESUMABLE, BackgroundRun, RunStatus

logger = logging.getLogger(__name__)


def current_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_claim(model: type[BackgroundRun], pk: int, worker_id: str, **fields) -> bool:
    """queued -> running, owned by ``worker_id``; False when it is not queued any more."""
    now = timezone.now()
    return bool(model.objects.filter(pk=pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, worker_id=worker_id, heartbeat_at=now, started_at=now, finished_at=None,
        cancel_requested=False, error="", error_detail="", updated_at=now, **fields,
    ))  # fmt: skip


def run_heartbeat(model: type[BackgroundRun], pk: int, worker_id: str, **fields) -> bool:
    """Mark the run alive (and write ``fields``) while ``worker_id`` still owns it; False: it was taken over."""
    return bool(model.objects.filter(pk=pk, status=RunStatus.RUNNING, worker_id=worker_id).update(
        heartbeat_at=timezone.now(), **fields))


def run_finish(model: type[BackgroundRun], pk: int, worker_id: str, status: str, **fields) -> bool:
    """running -> ``status`` (succeeded, failed, cancelled), if ``worker_id`` still owns the run."""
    now = timezone.now()
    return bool(model.objects.filter(pk=pk, status=RunStatus.RUNNING, worker_id=worker_id).update(
        status=status, finished_at=now, heartbeat_at=now, updated_at=now, **{**model.STOPPED_FIELDS, **fields}))


def run_cancel(model: type[BackgroundRun], pk: int, **fields) -> str:
    """Queued or interrupted: cancelled now ("cancelled"); running: asked to stop ("asked"); else ""."""
    now = timezone.now()
    stopped = model.objects.filter(pk=pk, status__in=[RunStatus.QUEUED, RunStatus.INTERRUPTED]).update(
        status=RunStatus.CANCELLED, finished_at=now, updated_at=now, cancel_requested=True,
        **{**model.STOPPED_FIELDS, **fields})
    if stopped:
        return "cancelled"
    asked = model.objects.filter(pk=pk, status=RunStatus.RUNNING).update(cancel_requested=True)
    return "asked" if asked else ""


def run_requeue(model: type[BackgroundRun], pk: int, *, from_statuses=RESUMABLE, **fields) -> bool:
    """An ended run (``from_statuses``) -> queued again, its worker, error and cancel flag cleared."""
    return bool(model.objects.filter(pk=pk, status__in=from_statuses).update(
        status=RunStatus.QUEUED, cancel_requested=False, error="", error_detail="", finished_at=None, worker_id="",
        heartbeat_at=None, updated_at=timezone.now(), **{**model.STOPPED_FIELDS, **fields},  # queued since: the sweeper
    ))  # fmt: skip


def runs_mark_interrupted(model: type[BackgroundRun], *, now=None, **fields) -> int:
    """Running rows whose worker stopped sending heartbeats become ``interrupted``; returns how many."""
    now = now or timezone.now()
    stale = model.objects.filter(model.stale(now))
    if not stale.exists():  # a read first: the worker calls this before each run, and SQLite writes take a lock
        return 0
    changed = stale.update(status=RunStatus.INTERRUPTED, finished_at=now, updated_at=now, error=model.STALE_ERROR,
                           **{**model.STOPPED_FIELDS, **fields})
    if changed:
        logger.warning("%d %s(s) marked interrupted (no heartbeat for %ss)", changed, model._meta.verbose_name,
                       settings.TRAINING_STALE_SECONDS)
    return changed


def run_models() -> list[type[BackgroundRun]]:
    """Every concrete kind of background work (the installed models built on ``BackgroundRun``)."""
    return [model for model in apps.get_models() if issubclass(model, BackgroundRun)]


def runs_reap(*, now=None) -> dict[str, int]:
    """``runs_mark_interrupted`` for every kind; how many rows of each (by model name) it marked."""
    return {model.__name__: runs_mark_interrupted(model, now=now) for model in run_models()}


class RunCancelled(Exception):
    """A run stopped because a person asked it to: raised at a step boundary (``run_stop_point``), or when
    a launched run ended stopped after its job's cancel (``training.launched``)."""


def run_stop_point(model: type[BackgroundRun], pk: int) -> None:
    """A step boundary of a run without a richer reporter: raise ``RunCancelled`` if a stop was asked."""
    if model.objects.filter(pk=pk, cancel_requested=True).exists():
        raise RunCancelled(f"{model._meta.verbose_name} {pk}: cancelled on request")


def run_status(model: type[BackgroundRun], pk: int) -> str:
    """The stored status of a row ("gone" once deleted)."""
    return model.objects.filter(pk=pk).values_list("status", flat=True).first() or "gone"


def run_is_active(model: type[BackgroundRun], pk: int) -> bool:
    return run_status(model, pk) in ACTIVE


def run_send(model: type[BackgroundRun], actor, pk: int, unreachable: str) -> Exception | None:
    """Send the run's message; if the broker is unreachable the queued run fails saying so (a person asks
    again), and the exception is returned for the caller to report."""
    try:
        actor.send(pk)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the run must not sit queued forever
        logger.error("could not enqueue %s %s: %s", model._meta.verbose_name, pk, exc)
        now = timezone.now()
        model.objects.filter(pk=pk, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, finished_at=now, updated_at=now,
            error=unreachable.format(error=f"{type(exc).__name__}: {str(exc)[:200]}"),
        )  # fmt: skip
        return exc
    return None


def run_send_on_commit(model: type[BackgroundRun], actor, pk: int, unreachable: str) -> None:
    """``run_send`` once the transaction that queued the row commits (the worker must see the row)."""
    transaction.on_commit(lambda: run_send(model, actor, pk, unreachable))


def retry_locked(write, attempts: int = 50, delay: float = 0.1):
    """Run a DB write, retrying while SQLite reports the database busy or a table locked."""
    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            close_old_connections()
            time.sleep(delay)
