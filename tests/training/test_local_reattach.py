"""A local run outlives the worker that started it (its supervisor is in its own session), and the next
worker re-attaches to it instead of starting it again: the sweeper queues its interrupted job again, the
claim follows the same run and records its outcome. A run whose supervisor died, or that no worker
followed for GRPO_LOCAL_ORPHAN_SECONDS (it stops itself), leaves the job interrupted. The runs here are
small Python steps that print engine events; the real engine is in tests/integration."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from django.utils import timezone

from ranking_app.exchange.exports import export_create
from tests.conftest import make_project
from training.launchers import RunState
from training.launchers.local import LocalLauncher, LocalRun
from training.models import TrainingJob
from training.runner import execute_job
from training.services.sweeper import messages_in_broker, queued_work_sweep
from training.tasks import TRAINING_QUEUE

from .conftest import wait_for

# a step that says it trained, waits for RELEASE to appear, then ends (exit 3 on SIGTERM, as `train` does)
STEP = textwrap.dedent("""
    import json, os, signal, sys, time
    signal.signal(signal.SIGTERM, lambda *a: (print("stopping with a checkpoint", flush=True), sys.exit(3)))
    print("@grpo " + json.dumps({"phase": "train", "step": 1, "total_steps": 2, "loss": 0.5}), flush=True)
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.05)
    print("@grpo " + json.dumps({"event": "trained", "summary": {"global_step": 2, "adapter_dir": sys.argv[2]}}),
          flush=True)
""")
# a worker process that starts the run, says its ref, and waits to be killed
WORKER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from training.launchers import RunSpec
    from training.launchers.local import LocalLauncher
    spec = json.loads(sys.argv[1])
    run = LocalLauncher(orphan_seconds=spec.pop("orphan_seconds")).submit(RunSpec(**{**spec, "work_dir": Path(spec["work_dir"])}))
    print(run.ref, flush=True)
    time.sleep(600)
""")


def _step(folder):
    return [sys.executable, "-c", STEP, str(folder / "release"), str(folder / "output" / "adapter")]


def _start_in_a_worker_then_kill_it(folder, orphan_seconds: float = 60) -> str:
    """Start the run from a separate worker process, then SIGKILL that worker's whole process group."""
    spec = {"name": "grpo-job-1-attempt-1", "steps": [_step(folder)], "work_dir": str(folder),
            "orphan_seconds": orphan_seconds}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(spec)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)  # fmt: skip
    ref = worker.stdout.readline().strip()
    # the step's first event, not the "$ ..." line echoing its source (which holds "@grpo" too): its
    # SIGTERM handler is installed by then
    wait_for(lambda: '@grpo {"phase"' in (folder / "engine.out").read_text(), timeout=30)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    return ref


def test_a_run_outlives_its_killed_worker_and_a_new_one_follows_it_to_the_end(tmp_path):
    ref = _start_in_a_worker_then_kill_it(tmp_path)
    run = LocalLauncher().attach(ref, tmp_path)
    assert run is not None and run.ref == ref and run.state() == RunState.RUNNING
    assert any('"step": 1' in line for line in run.new_lines())  # the output from the run's start
    (tmp_path / "release").touch()
    wait_for(lambda: run.state() != RunState.RUNNING, timeout=30)
    assert run.state() == RunState.SUCCEEDED and any('"trained"' in line for line in run.new_lines())
    assert LocalLauncher().attach(ref, tmp_path) is not None  # finished well: a late attach collects it


def test_a_run_whose_supervisor_died_is_not_attached_and_its_step_stops(tmp_path):
    ref = _start_in_a_worker_then_kill_it(tmp_path)
    os.kill(int(ref.rsplit(":", 1)[1]), signal.SIGKILL)
    wait_for(lambda: "stopping with a checkpoint" in (tmp_path / "engine.out").read_text(), timeout=30)
    wait_for(lambda: LocalLauncher().attach(ref, tmp_path) is None, timeout=10)  # SIGKILL takes a moment
    gone = LocalRun(tmp_path, int(ref.rsplit(":", 1)[1]), 0)
    assert gone.state() == RunState.FAILED and "is gone" in gone.failure()


def test_a_run_no_worker_follows_stops_itself_after_the_orphan_limit(tmp_path):
    ref = _start_in_a_worker_then_kill_it(tmp_path, orphan_seconds=1)
    wait_for(lambda: (tmp_path / "engine.exit").exists(), timeout=30)
    assert json.loads((tmp_path / "engine.exit").read_text()) == {"code": 3, "step": 0, "orphaned": True}
    assert "no worker has followed this run" in (tmp_path / "engine.out").read_text()
    assert LocalLauncher().attach(ref, tmp_path) is None


def test_another_hosts_run_or_a_reused_pid_is_not_attached(tmp_path):
    ref = _start_in_a_worker_then_kill_it(tmp_path)
    pid = ref.rsplit(":", 1)[1]
    assert LocalLauncher().attach(f"elsewhere:{pid}", tmp_path) is None
    assert LocalLauncher().attach(f"{ref.rsplit(':', 1)[0]}:{os.getpid()}", tmp_path) is None
    os.kill(int(pid), signal.SIGTERM)  # stop it as a cancel does
    wait_for(lambda: (tmp_path / "engine.exit").exists(), timeout=30)


def _interrupted_job(settings, **fields) -> TrainingJob:
    project = make_project("reattach", n_prompts=2)
    export = export_create(project=project, format="jsonl", validated_only=False)
    long_ago = timezone.now() - timedelta(hours=1)
    job = TrainingJob.objects.create(project=project, export=export, base_model="m", config={},
                                     data_summary={"test_prompts": 0}, launcher="local", attempts=1, **fields)
    job.work_dir = f"job-{job.pk}"
    job.save(update_fields=["work_dir"])
    TrainingJob.objects.filter(pk=job.pk).update(heartbeat_at=long_ago)
    return TrainingJob.objects.get(pk=job.pk)


def _give_it_a_run_whose_worker_was_killed(job: TrainingJob) -> None:
    job.launch_ref = _start_in_a_worker_then_kill_it(job.work_path)
    job.save(update_fields=["launch_ref"])


@pytest.mark.django_db(transaction=True)
def test_the_sweep_queues_a_lost_workers_live_run_again_and_the_claim_reattaches(broker, settings):
    settings.GRPO_LAUNCHER, settings.GRPO_LAUNCHER_POLL_SECONDS = "local", 0.1
    job = _interrupted_job(settings, status=TrainingJob.Status.RUNNING, worker_id="gone:1:1")
    _give_it_a_run_whose_worker_was_killed(job)

    assert queued_work_sweep(grace_seconds=3600) == [f"run_training_job({job.pk})"]
    job.refresh_from_db()
    assert job.status == "queued" and job.launch_ref and job.error == ""
    assert ("run_training_job", (job.pk,)) in messages_in_broker(broker, TRAINING_QUEUE)

    (job.work_path / "release").touch()
    assert execute_job(job.pk) == "succeeded", TrainingJob.objects.get(pk=job.pk).error
    done = TrainingJob.objects.get(pk=job.pk)
    assert done.attempts == 2 and done.launch_ref == job.launch_ref and done.result["global_step"] == 2
    log = (job.work_path / "job.log").read_text()
    assert f"re-attached to local run {job.launch_ref}" in log and "launching on" not in log
    assert (job.work_path / "engine.out").read_text().count("$ ") == 1  # one run, started once


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_a_job_interrupted_when_its_run_died(broker, settings):
    settings.GRPO_LAUNCHER = "local"
    job = _interrupted_job(settings, status=TrainingJob.Status.INTERRUPTED, error=TrainingJob.STALE_ERROR)
    _give_it_a_run_whose_worker_was_killed(job)
    os.kill(int(job.launch_ref.rsplit(":", 1)[1]), signal.SIGKILL)
    wait_for(lambda: "stopping with a checkpoint" in (job.work_path / "engine.out").read_text(), timeout=30)
    wait_for(lambda: LocalLauncher().attach(job.launch_ref, job.work_path) is None, timeout=10)

    assert queued_work_sweep(grace_seconds=3600) == []
    assert TrainingJob.objects.get(pk=job.pk).status == "interrupted"


@pytest.mark.django_db(transaction=True)
def test_cancelling_an_interrupted_job_stops_its_live_run_at_the_next_sweep(broker, settings):
    from training.services.jobs import STOPPING_RUN, job_cancel

    settings.GRPO_LAUNCHER = "local"
    job = _interrupted_job(settings, status=TrainingJob.Status.INTERRUPTED, error=TrainingJob.STALE_ERROR)
    _give_it_a_run_whose_worker_was_killed(job)
    assert LocalLauncher().attach(job.launch_ref, job.work_path).state() == RunState.RUNNING

    job_cancel(job=job)
    job.refresh_from_db()
    assert (job.status, job.phase) == ("cancelled", STOPPING_RUN)  # the page says its run is being stopped
    assert queued_work_sweep(grace_seconds=3600) == []  # cancelled: never queued again to re-attach
    wait_for(lambda: (job.work_path / "engine.exit").exists(), timeout=30)
    assert json.loads((job.work_path / "engine.exit").read_text())["code"] == 3  # SIGTERM: stopped with a checkpoint
    assert "stopping with a checkpoint" in (job.work_path / "engine.out").read_text()
    assert TrainingJob.objects.get(pk=job.pk).phase == ""


@pytest.mark.django_db(transaction=True)
def test_another_hosts_cancelled_run_waits_for_that_hosts_sweep(broker, settings):
    from training.services.jobs import STOPPING_RUN
    from training.services.reattach import cancelled_runs_stop

    settings.GRPO_LAUNCHER = "local"
    job = _interrupted_job(settings, status=TrainingJob.Status.CANCELLED, phase=STOPPING_RUN,
                           launch_ref="another-host:12345")
    assert cancelled_runs_stop() == []
    assert TrainingJob.objects.get(pk=job.pk).phase == STOPPING_RUN


@pytest.mark.django_db(transaction=True)
def test_a_reattached_run_does_not_write_the_lines_an_earlier_follower_logged_again(broker, settings):
    from training.launched import READ_FILE

    settings.GRPO_LAUNCHER, settings.GRPO_LAUNCHER_POLL_SECONDS = "local", 0.1
    job = _interrupted_job(settings, status=TrainingJob.Status.RUNNING, worker_id="gone:1:1")
    _give_it_a_run_whose_worker_was_killed(job)
    read = (job.work_path / "engine.out").read_text().splitlines()
    assert read[0].startswith("$ ") and read[-1].startswith('@grpo {"phase"')
    # the lost follower had read (and logged) everything so far
    (job.work_path / READ_FILE).write_text(json.dumps({"ref": job.launch_ref, "lines": len(read)}))

    assert queued_work_sweep(grace_seconds=3600) == [f"run_training_job({job.pk})"]
    (job.work_path / "release").touch()
    assert execute_job(job.pk) == "succeeded", TrainingJob.objects.get(pk=job.pk).error
    log = (job.work_path / "job.log").read_text()
    assert f"re-attached to local run {job.launch_ref}" in log
    assert "$ " not in log and "signal.signal" not in log  # the echoed step, logged by the earlier follower
    assert TrainingJob.objects.get(pk=job.pk).result["global_step"] == 2  # its events were still read
    assert json.loads((job.work_path / READ_FILE).read_text())["lines"] > len(read)
