"""Two deployments on one real redis-server (started here on a free port, appendonly on, as `make redis`
runs it): each broker has its deployment's namespace (GRPO_QUEUE_PREFIX, derived from the database), so
one deployment's worker never takes the other's message; and a queued message survives a Redis restart."""

import subprocess
import time

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from config.broker import queue_prefix_for, redis_broker_options
from training.services.sweeper import messages_in_broker

from .stack import _connectable, free_port

pytestmark = pytest.mark.integration
QUEUE = "training"


@pytest.fixture
def redis_server(tmp_path):
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
               "--appendfsync", "always", "--dir", str(tmp_path)]  # fmt: skip

    def start():
        server = subprocess.Popen(command, stdout=open(tmp_path / "redis.log", "a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not _connectable(port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return server

    servers = [start()]
    yield port, lambda: servers.append(start())
    for server in servers:
        if server.poll() is None:
            server.terminate()
            server.wait(10)


def _deployment(port: int, database_name: str) -> tuple[RedisBroker, list]:
    """A deployment's broker (as the settings build it) and a ``run_training_job`` actor recording its calls."""
    prefix = queue_prefix_for({"ENGINE": "django.db.backends.postgresql", "HOST": "db", "NAME": database_name})
    broker = RedisBroker(**redis_broker_options(f"redis://127.0.0.1:{port}/0", prefix, connect_timeout=1, socket_timeout=5))
    calls = []
    dramatiq.actor(calls.append, broker=broker, actor_name="run_training_job", queue_name=QUEUE)
    return broker, calls


def _work(broker: RedisBroker, seconds: float) -> None:
    worker = Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    time.sleep(seconds)
    worker.stop()


def test_a_worker_never_takes_another_deployments_message(redis_server):
    port, _ = redis_server
    broker_a, calls_a = _deployment(port, "studio_a")
    broker_b, calls_b = _deployment(port, "studio_b")
    assert broker_a.namespace != broker_b.namespace and broker_a.namespace.startswith("grpo-studio-a-")
    broker_a.get_actor("run_training_job").send(7)

    _work(broker_b, 1.5)  # deployment B's worker, same queue name, same actor name
    assert calls_b == []
    assert messages_in_broker(broker_a, QUEUE) == {("run_training_job", (7,))}
    assert messages_in_broker(broker_b, QUEUE) == set()

    _work(broker_a, 1.5)
    assert calls_a == [7] and messages_in_broker(broker_a, QUEUE) == set()


def test_a_queued_message_survives_a_redis_restart(redis_server):
    port, restart = redis_server
    broker, _ = _deployment(port, "studio")
    broker.get_actor("run_training_job").send(3)
    broker.client.shutdown(nosave=False)  # what a restart or a crash after the write leaves: the AOF
    restart()
    broker.client.connection_pool.disconnect()
    assert messages_in_broker(broker, QUEUE) == {("run_training_job", (3,))}
