"""The scale path end to end (issue 22): a real local Ray head on loopback runs jobs launched through the
API with GRPO_LAUNCHER=ray; artefacts live on an S3-compatible server on loopback (moto's standalone
server) under GRPO_STORAGE_URL=s3://.... Real Redis, a real `manage.py rundramatiq` worker, the real
engine on a tiny model. Tests run in file order and share one stack, head and S3 server.
`make test-scale` runs them; they skip with the reason when ray or moto is not installed."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .stack import Stack, _connectable, free_port

pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
job_submission = pytest.importorskip("ray.job_submission", reason="ray is not installed (requirements/scale.txt)")
boto3 = pytest.importorskip("boto3", reason="moto[server] is not installed (requirements/test.txt)")
pytest.importorskip("moto.server", reason="moto[server] is not installed (requirements/test.txt)")
pytest.importorskip("s3fs", reason="s3fs is not installed (requirements/base.txt)")

BIN = Path(sys.executable).parent
BUCKET = "grpo-artefacts"
SMALL = {"num_train_epochs": 2, "per_device_train_batch_size": 3, "max_length": 96, "max_prompt_length": 48,
         "logging_steps": 1, "save_steps": 4}
LONG = {**SMALL, "num_train_epochs": 40}
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _connectable(port), 30, "moto server")
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, **{k.lower(): v for k, v in S3_ENV.items()
                                                                if k != "AWS_DEFAULT_REGION"}, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    ray = shutil.which("ray", path=str(BIN)) or pytest.skip("the ray CLI is not installed")
    dashboard, gcs = free_port(), free_port()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "RAY_JOB_STOP_WAIT_TIME_S": "60",
           "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    started = subprocess.run([ray, "start", "--head", "--num-cpus", "2", "--include-dashboard", "true",
                              "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard), "--port", str(gcs),
                              "--node-ip-address", "127.0.0.1", "--disable-usage-stats"],
                             env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert started.returncode == 0, started.stdout + started.stderr
    address = f"http://127.0.0.1:{dashboard}"
    try:
        client = _job_server(address)
        yield address, client
    finally:
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, ray_head, s3):
    endpoint, _ = s3
    env = {"GRPO_LAUNCHER": "ray", "RAY_ADDRESS": ray_head[0], "GRPO_STORAGE_URL": f"s3://{BUCKET}/studio",
           "AWS_ENDPOINT_URL": endpoint, "GRPO_LAUNCHER_POLL_SECONDS": "0.5", "GRPO_RAY_PYTHON": sys.executable,
           "GRPO_SWEEP_SECONDS": "1", **S3_ENV}  # fmt: skip
    stack = Stack(tmp_path_factory.mktemp("stack"), extra_env=env)
    try:
        yield stack.start()
    finally:
        stack.stop()


def launch(stack, config: dict) -> dict:
    status, body = stack.api("POST", "/api/jobs/", {"project": "vowels", "preset": "cpu-smoke", "config": config,
                                                  "validated_only": False})
    assert status == 201, body
    return body


def s3_keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_a_job_runs_as_a_ray_job_with_its_artefacts_on_s3(stack, ray_head, s3):
    _, ray = ray_head
    job = launch(stack, SMALL)
    done = stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", timeout=600, what="succeeded")
    assert done["launcher"] == "ray" and done["launch_ref"].startswith(f"grpo-job-{job['id']}-attempt-1-")
    assert ray.get_job_status(done["launch_ref"]).value == "SUCCEEDED"
    steps = done["progress"]["total_steps"]  # 12 without the validation split; it takes 1-2 of the train prompts
    assert done["progress"]["step"] == steps and 8 <= steps <= 12
    assert done["metrics"]["steps"] == list(range(1, steps + 1))
    assert done["evaluation"]["base"]["n_prompts"] == done["evaluation"]["tuned"]["n_prompts"] == 6
    prefix = f"studio/training/job-{job['id']}/"
    assert done["adapter_dir"] == f"s3://{BUCKET}/{prefix}output/adapter"
    keys = s3_keys(s3[1], prefix)
    for name in ("output/adapter/adapter_model.safetensors", "evaluation-base.json", "evaluation-tuned.json"):
        assert prefix + name in keys, keys
    export = s3_keys(s3[1], "studio/exports/")
    assert len(export) == 1 and export[0].endswith(".jsonl")  # the export, byte for byte (same sha256)
    log = (stack.data_dir / "training" / f"job-{job['id']}" / "job.log").read_text()
    assert "launching on ray: " in log and f"step {steps}/{steps}" in log


def test_a_cancel_stops_the_ray_job_too(stack, ray_head, s3):
    _, ray = ray_head
    job = launch(stack, LONG)
    running = stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 3, timeout=400, what="step 3")
    assert stack.api("POST", f"/api/jobs/{job['id']}/cancel/")[0] == 200
    done = stack.wait_job(job["id"], lambda j: j["status"] == "cancelled", what="cancelled", timeout=180)
    assert ray.get_job_status(running["launch_ref"]).value == "STOPPED"
    assert done["progress"]["step"] < done["progress"]["total_steps"]
    keys = s3_keys(s3[1], f"studio/training/job-{job['id']}/output/checkpoint-")
    assert any(key.endswith("trainer_state.json") for key in keys), keys  # the checkpoint saved on SIGTERM


def test_a_killed_worker_reattaches_to_the_running_ray_job_without_resume(stack, ray_head):
    _, ray = ray_head
    job = launch(stack, {**SMALL, "num_train_epochs": 6})
    running = stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 3, timeout=400, what="step 3")
    ref = running["launch_ref"]
    stack.kill_worker()
    assert ray.get_job_status(ref).value in ("RUNNING", "SUCCEEDED")  # training goes on without the worker
    stack.start_worker()  # a restart; nobody presses Resume: its sweeper queues the job again to re-attach
    done = stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", timeout=600, what="succeeded")
    assert done["attempts"] == 2 and done["launch_ref"] == ref  # the same Ray job, not a second run
    assert len([j for j in ray.list_jobs() if (j.submission_id or "").startswith(f"grpo-job-{job['id']}-")]) == 1
    total = done["progress"]["total_steps"]  # 6 epochs of the train prompts left after the validation split
    assert done["metrics"]["steps"] == list(range(1, total + 1)) and done["evaluation"]["tuned"] is not None
    log = (stack.data_dir / "training" / f"job-{job['id']}" / "job.log").read_text()
    assert f"re-attached to ray run {ref}" in log and log.count("launching on ray: ") == 1
    assert f"job {job['id']}: its worker was lost but its ray run {ref} goes on" in stack.worker_log.read_text()


def test_cancelling_a_job_interrupted_while_its_ray_job_runs_stops_the_ray_job(stack, ray_head):
    _, ray = ray_head
    job = launch(stack, {**LONG, "num_train_epochs": 1000})  # far longer than the test: only a stop ends it
    running = stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 2, timeout=400, what="step 2")
    ref = running["launch_ref"]
    stack.kill_worker()  # nobody follows the Ray job now; it goes on
    stack.wait_job(job["id"], lambda j: j["status"] == "interrupted", timeout=60, what="interrupted")
    assert stack.api("POST", f"/api/jobs/{job['id']}/cancel/")[0] == 200
    assert ray.get_job_status(ref).value == "RUNNING"
    stack.start_worker()  # its sweep stops the cancelled job's run instead of re-attaching to it
    _wait(lambda: ray.get_job_status(ref).value == "STOPPED", timeout=120, what="the Ray job stopped")
    done = stack.wait_job(job["id"], lambda j: j["phase"] == "", timeout=30, what="phase cleared")
    assert done["status"] == "cancelled" and done["attempts"] == 1
    assert f"job {job['id']} was cancelled: its ray run {ref} is stopped" in stack.worker_log.read_text()


def _job_server(address: str):
    deadline = time.monotonic() + 120
    while True:
        try:
            client = job_submission.JobSubmissionClient(address)
            client.list_jobs()
            return client
        except Exception:  # noqa: BLE001 - the dashboard's job server comes up after `ray start` returns
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout}s")
        time.sleep(0.2)
