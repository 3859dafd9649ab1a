"""Training-job fixtures: the StubBroker with a real dramatiq Worker thread, files under tmp_path."""

import time

import pytest
from dramatiq import Worker

from tests.conftest import make_user

from .factories import ranked_project
from .fake_engine import FakeEngine


@pytest.fixture(autouse=True)
def training_dirs(settings, tmp_path):
    settings.TRAINING_DIR = tmp_path / "training"
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.TRAINING_HEARTBEAT_SECONDS = 0.2
    settings.TRAINING_STALE_SECONDS = 30
    return settings.TRAINING_DIR


@pytest.fixture
def worker(broker):
    worker = Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def fake_engine(monkeypatch):
    engine = FakeEngine()
    monkeypatch.setattr("training.runner.load_engine", lambda: engine)
    return engine


@pytest.fixture
def ranked(db):
    return ranked_project()


@pytest.fixture
def trainer_admin(db):
    return make_user("trainer", "admin")


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until truthy (tolerating SQLite 'table is locked' while the worker writes)."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OperationalError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
