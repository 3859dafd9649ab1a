"""The queue sweeper (StubBroker): work queued with no message in the broker gets one again; work whose
message is still there, work queued only a moment ago and work no longer queued get none. And a launch
while Redis is unreachable or hung fails within 2 s, with the job marked failed and saying why."""

import socket
import time
from datetime import timedelta

import dramatiq
import pytest
from django.core.management import call_command
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker

from config.broker import redis_broker_options
from config.settings import base
from ranking_app.exchange.exports import export_create
from tests.conftest import make_project
from training.compare.tasks import run_evaluation_request
from training.models import AdapterMerge, EvaluationRequest, TrainingJob
from training.services.jobs import job_launch, job_resume
from training.services.sweeper import messages_in_broker, queued_work_sweep
from training.tasks import TRAINING_QUEUE, merge_job_adapter, run_training_job

from .conftest import wait_for
from .factories import ranked_project
from .test_api import FAKE

LONG_AGO = timezone.now() - timedelta(hours=1)


def _job(project, export, **fields) -> TrainingJob:
    job = TrainingJob.objects.create(project=project, export=export, base_model="m", config={}, **fields)
    TrainingJob.objects.filter(pk=job.pk).update(updated_at=fields.pop("updated_at", LONG_AGO))
    return job


@pytest.fixture
def project_export(db):
    project = make_project("sweep", n_prompts=2)
    return project, export_create(project=project, format="jsonl", validated_only=False)


def test_queued_work_without_a_message_is_sent_again_once(broker, project_export):
    project, export = project_export
    lost = _job(project, export)
    waiting = _job(project, export)
    run_training_job.send(waiting.pk)  # its message is still in the broker
    just_now = _job(project, export, updated_at=timezone.now())  # its message may be on its way
    _job(project, export, status=TrainingJob.Status.RUNNING)
    merge = _job(project, export, status=TrainingJob.Status.SUCCEEDED)
    AdapterMerge.objects.create(job=merge, updated_at=LONG_AGO)
    evaluation = EvaluationRequest.objects.create(job=merge, project=project, split="test", updated_at=LONG_AGO)

    sent = queued_work_sweep(grace_seconds=60)

    assert sorted(sent) == sorted([
        f"run_training_job({lost.pk})", f"merge_job_adapter({merge.pk})", f"run_evaluation_request({evaluation.pk})",
    ])  # fmt: skip
    assert f"run_training_job({just_now.pk})" not in sent
    in_broker = messages_in_broker(broker, TRAINING_QUEUE)
    assert {("run_training_job", (lost.pk,)), ("run_training_job", (waiting.pk,))} <= in_broker
    assert ("merge_job_adapter", (merge.pk,)) in in_broker and ("run_evaluation_request", (evaluation.pk,)) in in_broker
    assert queued_work_sweep(grace_seconds=60) == []  # now every queued row has its message


def test_the_sweep_command_reports_what_it_sent(broker, project_export, capsys):
    project, export = project_export
    lost = _job(project, export)
    call_command("sweep_queue", "--grace", "0")
    assert f"run_training_job({lost.pk})" in capsys.readouterr().out
    assert merge_job_adapter.actor_name and run_evaluation_request.actor_name  # the three kinds are swept


def _unreachable_brokers():
    """A closed port (refused at once) and a socket that accepts but never answers (a hung Redis)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    options = dict(connect_timeout=base.REDIS_CONNECT_TIMEOUT_SECONDS, socket_timeout=base.REDIS_SOCKET_TIMEOUT_SECONDS)
    for port in (closed_port, hung.getsockname()[1]):
        yield RedisBroker(**redis_broker_options(f"redis://127.0.0.1:{port}/0", "grpo-test", **options))
    hung.close()


@pytest.mark.django_db(transaction=True)
def test_a_launch_with_the_broker_unreachable_fails_within_two_seconds(monkeypatch):
    project = ranked_project("down")
    for unreachable in _unreachable_brokers():
        monkeypatch.setattr(run_training_job, "broker", unreachable)
        started = time.monotonic()
        job = job_launch(project=project, config={"model_name_or_path": "org/some-model"}, preset="cpu-smoke")
        elapsed = time.monotonic() - started
        job.refresh_from_db()
        assert elapsed < 2.0, f"the launch took {elapsed:.1f} s"
        assert job.status == TrainingJob.Status.FAILED
        assert "task queue is unreachable" in job.error and "Resume" in job.error
        assert job_resume(job=job).status == TrainingJob.Status.FAILED  # still down: fails again, never hangs


def test_the_settings_broker_has_a_namespace_and_fast_timeouts():
    options = base.DRAMATIQ_BROKER["OPTIONS"]
    assert options["namespace"] == base.GRPO_QUEUE_PREFIX
    connection = options["connection_pool"].connection_kwargs
    assert connection["socket_connect_timeout"] <= 1.0 and connection["socket_timeout"] <= 1.5
    assert isinstance(dramatiq.get_broker(), dramatiq.brokers.stub.StubBroker)  # tests never reach a real Redis


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_a_job_whose_message_redis_lost(broker, ranked, fake_engine, settings):
    job = job_launch(project=ranked, config=FAKE, preset="cpu-smoke", validated_only=False)
    broker.flush_all()  # Redis restarted without persistence: the row says queued, no message anywhere
    settings.GRPO_SWEEP_SECONDS, settings.GRPO_SWEEP_GRACE_SECONDS = 0.2, 0
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)  # boots the sweeper thread (QueueSweeper)
    worker.start()
    try:
        assert wait_for(lambda: TrainingJob.objects.get(pk=job.pk).status == TrainingJob.Status.SUCCEEDED, timeout=30)
    finally:
        worker.stop()
