"""Jobs through dramatiq's StubBroker and a real Worker thread, with the fake engine."""

import pytest
from django.utils import timezone

from training.models import EvaluationResult, JobMetric, PromptEvaluation, TrainingJob
from training.services.jobs import job_cancel, job_launch, job_resume
from training.tasks import run_training_job
from training.work.transitions import runs_mark_interrupted

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_MODEL = {"model_name_or_path": "fake/tiny", "save_steps": 2, "logging_steps": 1}


def launch(project, user=None, **config):
    return job_launch(project=project, config={**FAKE_MODEL, **config}, preset="cpu-smoke", created_by=user,
                      validated_only=False)


def settled(job, *statuses):
    def check():
        job.refresh_from_db()
        return job.status in statuses
    return check


def test_launched_job_runs_on_the_worker_and_stores_metrics_and_both_evaluations(ranked, trainer_admin, broker, worker,
                                                                                 fake_engine):
    job = launch(ranked, trainer_admin)
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_detail
    assert (job.step, job.total_steps, job.attempts) == (6, 6, 1)
    assert job.latest_metrics["loss"] == pytest.approx(1 / 6)
    assert list(JobMetric.objects.filter(job=job).values_list("step", flat=True)) == [1, 2, 3, 4, 5, 6]
    validation = JobMetric.objects.filter(job=job, eval_loss__isnull=False)
    assert list(validation.values_list("step", "eval_loss")) == [(2, 0.6), (4, 0.5), (6, 0.55)]
    assert job.result["kept_step"] == 4
    assert job.adapter_dir == f"job-{job.pk}/output/adapter"
    base, tuned = (EvaluationResult.objects.get(job=job, model=m) for m in ("base", "tuned"))
    assert (base.metrics["accuracy"], tuned.metrics["accuracy"]) == (0.4, 0.9)
    assert base.n_prompts == tuned.n_prompts == 4
    rows = PromptEvaluation.objects.filter(evaluation=tuned)
    assert rows.count() == 4 and all(r.prompt_id is not None for r in rows)
    assert all(len(r.scores) == len(r.ranking) == 4 for r in rows)
    assert "step 6/6" in (_output(job).parent / "job.log").read_text()


def test_cancel_stops_a_running_job_after_a_checkpoint(ranked, broker, worker, fake_engine):
    fake_engine.total_steps, fake_engine.step_seconds = 200, 0.02
    job = launch(ranked)
    assert fake_engine.step_reached.wait(20)
    job_cancel(job=job)
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert 2 <= job.step < 200
    assert any(p.name.startswith("checkpoint-") for p in _output(job).iterdir())
    assert not EvaluationResult.objects.filter(job=job, model="tuned").exists()


def test_a_queued_job_cancelled_before_the_worker_gets_it_never_runs(ranked, broker, fake_engine):
    job = launch(ranked)  # no worker yet
    job_cancel(job=job)
    from dramatiq import Worker

    worker = Worker(broker, worker_timeout=50)
    worker.start()
    broker.join("training")
    worker.join()
    worker.stop()
    job.refresh_from_db()
    assert job.status == "cancelled" and job.attempts == 0
    assert fake_engine.calls == []


def test_a_duplicate_delivery_while_the_job_runs_does_not_run_it_twice(ranked, broker, fake_engine):
    from dramatiq import Worker

    fake_engine.total_steps, fake_engine.step_seconds = 30, 0.02
    worker = Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    try:
        job = launch(ranked)
        assert fake_engine.step_reached.wait(20)
        run_training_job.send(job.pk)  # the same job delivered again while the first run is alive
        broker.join("training")
        worker.join()
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 1
    assert [c for c in fake_engine.calls if c["call"] == "train"] == [{"call": "train", "resume": False, "start": 0}]


def test_stale_heartbeat_marks_interrupted_and_resume_continues_from_the_last_checkpoint(ranked, broker, worker,
                                                                                       fake_engine, settings):
    job = launch(ranked)
    broker.join("training")
    worker.join()
    # simulate a worker that died at step 5 of 8 with checkpoint-4 on disk
    fake_engine.total_steps = 8
    TrainingJob.objects.filter(pk=job.pk).update(status="running", worker_id="gone:1:1", step=5,
                                                 heartbeat_at=timezone.now() - timezone.timedelta(seconds=120))
    output = _output(job)
    for stale in output.glob("checkpoint-*"):
        stale.rename(output / f"old-{stale.name}")
    (output / "checkpoint-4").mkdir()
    (output / "checkpoint-4" / "trainer_state.json").write_text('{"log_history": []}')
    assert runs_mark_interrupted(TrainingJob) == 1
    job.refresh_from_db()
    assert job.status == "interrupted" and "heartbeat" in job.error
    job_resume(job=job)
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and job.step == 8
    assert fake_engine.calls[-2]["call"] == "train" and fake_engine.calls[-2]["start"] == 4
    assert job.resumed_from.endswith("checkpoint-4")
    # the base evaluation of the first attempt is kept, not recomputed
    assert sum(1 for c in fake_engine.calls if c["call"] == "evaluate" and c["adapter_dir"] is None) == 1


def test_redelivery_of_a_dead_run_marks_it_interrupted_instead_of_running(ranked, broker, worker, fake_engine):
    job = launch(ranked)
    broker.join("training")
    worker.join()
    TrainingJob.objects.filter(pk=job.pk).update(status="running", worker_id="gone:1:1",
                                                 heartbeat_at=timezone.now() - timezone.timedelta(seconds=120))
    run_training_job.send(job.pk)
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "interrupted" and job.attempts == 1


def test_cuda_out_of_memory_becomes_a_readable_error_and_the_queue_moves_on(ranked, broker, worker, fake_engine):
    fake_engine.fail_with = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    failing = launch(ranked)
    broker.join("training")
    worker.join()
    failing.refresh_from_db()
    assert failing.status == "failed"
    assert failing.error.startswith("out of GPU memory: lower the batch size")
    assert "Traceback" in failing.error_detail
    fake_engine.fail_with = None
    nxt = launch(ranked)
    broker.join("training")
    worker.join()
    nxt.refresh_from_db()
    assert nxt.status == "succeeded"


def test_a_worker_that_lost_its_job_records_nothing(ranked, broker, worker, fake_engine):
    fake_engine.total_steps, fake_engine.step_seconds = 200, 0.02
    job = launch(ranked)
    assert fake_engine.step_reached.wait(20)
    # the reaper (or an operator) decided the run was dead and it was resumed elsewhere
    TrainingJob.objects.filter(pk=job.pk).update(status="interrupted", error="marked by test")
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "interrupted" and job.error == "marked by test"
    assert job.step < 200


def _output(job):
    from django.conf import settings

    return settings.TRAINING_DIR / job.work_dir / "output"


def test_an_unreachable_broker_fails_the_job_with_a_message_instead_of_leaving_it_queued(ranked, monkeypatch):
    from training.tasks import run_training_job

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_training_job, "send", refuse)
    job = launch(ranked)
    job.refresh_from_db()
    assert job.status == "failed" and "task queue is unreachable" in job.error and "Resume" in job.error


def test_resume_skips_a_checkpoint_that_a_killed_run_left_half_written(ranked, broker, worker, fake_engine):
    import json

    job = launch(ranked)
    broker.join("training")
    worker.join()
    output = _output(job)
    for old in output.glob("checkpoint-*"):
        old.rename(output / f"old-{old.name}")
    (output / "checkpoint-2").mkdir()
    (output / "checkpoint-2" / "trainer_state.json").write_text(json.dumps({"log_history": [
        {"step": 1, "loss": 0.9, "pair_accuracy": 0.5, "epoch": 0.5}, {"step": 2, "loss": 0.8, "epoch": 1.0}]}))
    (output / "checkpoint-4").mkdir()  # cut short by SIGKILL: no trainer_state.json
    JobMetric.objects.filter(job=job).delete()
    TrainingJob.objects.filter(pk=job.pk).update(status="interrupted")
    job_resume(job=job)
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert fake_engine.calls[-2] == {"call": "train", "resume": True, "start": 2}
    assert list(output.glob("incomplete-checkpoint-4-*"))
    # the metrics up to the checkpoint come back from its trainer_state.json, the rest from the new run
    assert list(JobMetric.objects.filter(job=job).values_list("step", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert JobMetric.objects.get(job=job, step=1).loss == 0.9


def test_the_trainers_step_count_shows_when_training_starts_before_the_first_logged_step(ranked, broker):
    from training.runner import JobReporter

    job = launch(ranked)
    TrainingJob.objects.filter(pk=job.pk).update(status=TrainingJob.Status.RUNNING, worker_id="w1")
    job.refresh_from_db()
    reporter = JobReporter(job, interval=60)
    reporter.event({"phase": "train", "resumed_from": None, "total_steps": 12})
    reporter.flush()
    job.refresh_from_db()
    assert (job.phase, job.step, job.total_steps) == ("training", 0, 12)


def test_a_job_trains_with_the_configured_number_of_torch_cpu_threads(ranked, broker, worker, fake_engine, settings,
                                                                     monkeypatch):
    # Two threads per op on a busy 2-core machine made the demo smoke job 7-20x slower. torch's
    # setting holds for the thread that trains (the worker's), so the fake engine reads it there.
    import torch

    seen = []
    train = fake_engine.run_training
    monkeypatch.setattr(fake_engine, "run_training", lambda *a, **k: seen.append(torch.get_num_threads()) or train(*a, **k))
    settings.TRAINING_CPU_THREADS = 1
    job = launch(ranked)
    broker.join("training")
    worker.join()
    job.refresh_from_db()

    assert job.status == "succeeded" and seen == [1]
