"""Training jobs end to end: real Redis, a real `manage.py rundramatiq` worker process, runserver and the
real engine on a tiny model (the local launcher). Tests run in file order and share one stack (see
stack.py), whose worker runs the queue sweeper every second."""

import os
import signal
import time

import pytest

from .stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SMALL = {"num_train_epochs": 2, "per_device_train_batch_size": 3, "max_length": 96, "max_prompt_length": 48,
         "logging_steps": 1, "save_steps": 4}
# 18 train prompts / 3 per batch = 6 steps per epoch
LONG = {**SMALL, "num_train_epochs": 40}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("stack"), extra_env={"GRPO_SWEEP_SECONDS": "1"})
    try:
        yield stack.start()
    finally:
        stack.stop()


def launch(stack, config: dict) -> dict:
    status, body = stack.api("POST", "/api/jobs/", {"project": "vowels", "preset": "cpu-smoke", "config": config,
                                                  "validated_only": False})
    assert status == 201, body
    return body


def test_bad_configs_are_rejected_with_field_errors(stack):
    status, body = stack.api("POST", "/api/jobs/", {"project": "vowels", "preset": "cpu-smoke",
                                                   "config": {"beta": 0, "weighting": "cubic"}})
    assert status == 400
    assert body["config"]["beta"] == ["must be a number in (0, 100] (got 0)"]
    assert stack.api("GET", "/api/jobs/")[1]["count"] == 0


def test_a_job_launched_through_the_api_trains_and_stores_metrics_and_evaluation(stack):
    job = launch(stack, SMALL)
    assert job["status"] == "queued"
    done = stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", what="succeeded")
    steps = done["progress"]["total_steps"]  # 12 without the validation split; it takes 1-2 of the train prompts
    assert done["progress"]["step"] == steps and 8 <= steps <= 12
    assert done["metrics"]["steps"] == list(range(1, steps + 1))
    assert all(loss is not None for loss in done["metrics"]["loss"])
    base, tuned = done["evaluation"]["base"], done["evaluation"]["tuned"]
    assert base["n_prompts"] == tuned["n_prompts"] == 6
    for metric in ("accuracy", "ndcg", "mrr", "pairwise_accuracy"):
        assert 0 <= base[metric] <= 1 and 0 <= tuned[metric] <= 1
    assert "whitespace_consistency" in tuned["robustness"] and "order_consistency" not in tuned["robustness"]
    assert tuned["scoring"] == tuned["default_scoring"] == "sum_logp" and "implicit_reward" in tuned["change"]
    verdict = done["evaluation"]["verdict"]  # the pre-declared comparison, stored with the tuned evaluation
    assert verdict["metric"] == "pairwise_accuracy" and verdict["scoring"] == "sum_logp"
    assert verdict["outcome"] in ("better than base", "no detectable change", "worse than base")
    assert verdict["tuned"] == tuned["pairwise_accuracy"] and verdict["base"] == tuned["base"]["pairwise_accuracy"]
    assert (stack.data_dir / "training" / done["adapter_dir"] / "adapter_model.safetensors").is_file()
    assert done["attempts"] == 1


def test_a_duplicate_delivery_does_not_run_the_job_twice(stack):
    from dramatiq import Message
    from dramatiq.brokers.redis import RedisBroker

    job_id = stack.api("GET", "/api/jobs/?status=succeeded")[1]["results"][0]["id"]
    before = stack.job(job_id)
    broker = RedisBroker(url=stack.env["REDIS_URL"], namespace=stack.env["GRPO_QUEUE_PREFIX"])
    broker.declare_queue("training")
    broker.enqueue(Message(queue_name="training", actor_name="run_training_job", args=(job_id,), kwargs={},
                           options={}))
    deadline = time.monotonic() + 60
    while f"job {job_id} not claimed" not in stack.worker_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"job {job_id} not claimed: it is succeeded" in stack.worker_log.read_text()
    after = stack.job(job_id)
    assert (after["attempts"], after["status"], after["finished_at"]) == (1, "succeeded", before["finished_at"])


def test_cancelling_a_running_job_stops_it_with_a_checkpoint(stack):
    job = launch(stack, LONG)
    stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 5, what="step 5")
    status, body = stack.api("POST", f"/api/jobs/{job['id']}/cancel/")
    assert status == 200 and body["cancel_requested"] is True
    done = stack.wait_job(job["id"], lambda j: j["status"] == "cancelled", what="cancelled", timeout=60)
    assert done["progress"]["step"] < done["progress"]["total_steps"]
    output = stack.data_dir / "training" / f"job-{job['id']}" / "output"
    assert list(output.glob("checkpoint-*"))
    assert "cancelled" in (output.parent / "job.log").read_text()


def test_a_restarted_worker_reattaches_to_the_run_its_killed_predecessor_started(stack):
    job = launch(stack, {**SMALL, "num_train_epochs": 6})
    running = stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 3, what="step 3")
    ref = running["launch_ref"]
    stack.kill_worker()  # SIGKILL to the worker's whole process group; the run is in its own session
    assert _alive(int(ref.rsplit(":", 1)[1]))
    stack.start_worker()  # nobody presses Resume: the new worker's sweeper queues the job again to re-attach
    done = stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", what="succeeded", timeout=300)
    assert done["attempts"] == 2 and done["launch_ref"] == ref  # the same process, not a second run
    total = done["progress"]["total_steps"]  # 6 epochs of the train prompts left after the validation split
    assert done["progress"]["step"] == total and done["metrics"]["steps"] == list(range(1, total + 1))
    assert done["evaluation"]["tuned"] is not None
    folder = stack.data_dir / "training" / f"job-{job['id']}"
    log = (folder / "job.log").read_text()
    assert f"re-attached to local run {ref}" in log and log.count("launching on local: ") == 1
    assert (folder / "engine.out").read_text().count("-m training.engine train ") == 1


def test_a_killed_worker_and_run_leave_an_interrupted_job_that_resumes_from_its_checkpoint(stack):
    job = launch(stack, LONG)  # 40 epochs, a checkpoint every 4 steps
    running = stack.wait_job(job["id"], lambda j: j["progress"]["step"] >= 9, what="step 9")
    total = running["progress"]["total_steps"]
    stack.kill_worker()
    os.kill(int(running["launch_ref"].rsplit(":", 1)[1]), signal.SIGKILL)  # the machine lost, as it were
    interrupted = stack.wait_job(job["id"], lambda j: j["status"] == "interrupted", what="interrupted", timeout=60)
    assert "heartbeat" in interrupted["error"]
    assert interrupted["progress"]["step"] < total
    # a dead job does not block the queue: the restarted worker runs the next job while this one waits
    stack.start_worker()
    nxt = launch(stack, {**SMALL, "num_train_epochs": 1})
    stack.wait_job(nxt["id"], lambda j: j["status"] == "succeeded", what="next job succeeded")
    assert stack.job(job["id"])["status"] == "interrupted"
    status, body = stack.api("POST", f"/api/jobs/{job['id']}/resume/")
    assert status == 200 and body["status"] == "queued"
    done = stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", what="succeeded after resume")
    assert done["attempts"] == 2
    resumed_step = int(done["resumed_from"].rsplit("checkpoint-", 1)[1])
    assert 9 <= resumed_step < total  # the run, SIGTERMed as its supervisor died, saved where it was
    # the second attempt trained only the steps after the checkpoint
    log = (stack.data_dir / "training" / f"job-{job['id']}" / "job.log").read_text()
    second = log.split(f"job {job['id']} attempt 2 claimed", 1)[1]
    assert f"step {resumed_step + 1}/{total} " in second and "step 1/" not in second
    assert done["metrics"]["steps"] == list(range(1, total + 1))
    assert done["evaluation"]["tuned"] is not None


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
