"""A dramatiq middleware that runs the queue sweeper in a thread of every worker process.

django-dramatiq builds the broker (and so this middleware) before Django's models are loaded, so this
module imports no model: the sweep is named by ``SWEEP_FUNCTION`` and resolved once the worker has
booted. The thread sleeps ``GRPO_SWEEP_SECONDS`` between sweeps (0: no thread) and stops with the worker.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string
from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)

SWEEP_FUNCTION = "training.services.sweeper.queued_work_sweep"


class QueueSweeper(Middleware):
    def __init__(self):
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def after_worker_boot(self, broker, worker):
        interval = settings.GRPO_SWEEP_SECONDS
        if interval <= 0:
            return
        self.stop.clear()
        sweep = import_string(SWEEP_FUNCTION)
        self.thread = threading.Thread(target=self._loop, args=(sweep, interval), name="queue-sweeper", daemon=True)
        self.thread.start()

    def before_worker_shutdown(self, broker, worker):
        self.stop.set()

    def _loop(self, sweep, interval: float) -> None:
        while not self.stop.wait(interval):
            try:
                sweep()
            except Exception:  # noqa: BLE001 - a failed sweep (Redis or the database away) waits for the next
                logger.exception("queue sweep failed")
            finally:
                close_old_connections()
