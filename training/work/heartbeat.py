"""The heartbeat thread of a run that has no richer reporter (evaluations, merges): every
``TRAINING_HEARTBEAT_SECONDS`` it marks the run alive and reads its cancel flag (``run_heartbeat``).
A training job's ``runner.JobReporter`` does the same with its progress in the same UPDATE."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection

from .models import BackgroundRun
from .transitions import run_heartbeat

logger = logging.getLogger(__name__)


class Heartbeat:
    """``with Heartbeat(run): ...`` keeps ``run`` alive while the block works; ``lost`` once taken over."""

    def __init__(self, run: BackgroundRun, interval: float | None = None):
        self.model, self.pk, self.worker_id = type(run), run.pk, run.worker_id
        self.interval = interval or settings.TRAINING_HEARTBEAT_SECONDS
        self.lost = False
        self.cancel_requested = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{self.model.__name__}-{self.pk}-heartbeat",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def beat(self) -> None:
        if not run_heartbeat(self.model, self.pk, self.worker_id):
            self.lost = True
            logger.warning("%s %s is no longer owned by this worker", self.model._meta.verbose_name, self.pk)
            return
        self.cancel_requested = bool(
            self.model.objects.filter(pk=self.pk).values_list("cancel_requested", flat=True).first())

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval) and not self.lost:
                try:
                    self.beat()
                except Exception as exc:  # noqa: BLE001 - database busy, locked or gone: reconnect next tick
                    logger.warning("heartbeat failed, retrying: %s", exc)
                    connection.close()
        finally:
            connection.close()
