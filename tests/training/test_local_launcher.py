"""The local launcher: a real tiny-model job runs under the run's supervisor process (the real engine CLI,
``@grpo`` progress lines, evaluations read back from the storage), and a cancel stops it with a
checkpoint. Re-attaching after a killed worker: test_local_reattach.py."""

import os
import threading

import pytest

from training.engine import make_tiny_model
from training.models import EvaluationResult, JobMetric, TrainingJob
from training.runner import execute_job
from training.services.jobs import job_launch

from .conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CONFIG = {"quantization": "none", "lora_r": 4, "lora_alpha": 8, "learning_rate": 0.005, "num_train_epochs": 1.0,
          "per_device_train_batch_size": 6, "max_length": 64, "logging_steps": 1, "save_steps": 1000, "seed": 1}


@pytest.fixture
def local(settings, tmp_path):
    settings.GRPO_LAUNCHER = "local"
    settings.GRPO_LAUNCHER_POLL_SECONDS = 0.2
    settings.GRPO_STORAGE_URL = str(settings.DATA_DIR)  # the default: files under TRAINING_DIR / EXPORT_DIR
    return make_tiny_model(tmp_path / "tiny", hidden_size=64, num_hidden_layers=2)


def test_a_job_runs_in_a_child_process_and_stores_progress_and_evaluations(ranked, local, settings):
    job = job_launch(project=ranked, config={**CONFIG, "model_name_or_path": local}, validated_only=False)
    assert execute_job(job.pk) == "succeeded", TrainingJob.objects.get(pk=job.pk).error
    job.refresh_from_db()
    host, pid = job.launch_ref.rsplit(":", 1)
    assert job.launcher == "local" and int(pid) != os.getpid()
    assert job.step == job.total_steps == 2 and job.result["global_step"] == 2
    assert list(JobMetric.objects.filter(job=job).values_list("step", flat=True)) == [1, 2]
    assert set(EvaluationResult.objects.filter(job=job).values_list("model", flat=True)) == {"base", "tuned"}
    adapter = settings.TRAINING_DIR / job.adapter_dir
    assert job.adapter_dir == f"job-{job.pk}/output/adapter" and (adapter / "adapter_config.json").is_file()
    assert "Held-out evaluation" in (adapter / "README.md").read_text()
    assert (adapter / "dataset.sha256").read_text().strip() == job.export.sha256  # the card's hash is the export's
    log = (settings.TRAINING_DIR / f"job-{job.pk}" / "job.log").read_text()
    assert "launching on local: " in log and "-m training.engine train" in log and "step 2/2" in log
    assert "training.engine evaluate" not in log  # one engine process: both evaluations ran inside `train`


def test_a_cancel_stops_the_child_after_a_checkpoint(ranked, local, settings):
    job = job_launch(project=ranked, config={**CONFIG, "model_name_or_path": local, "num_train_epochs": 200.0},
                     validated_only=False)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(status=execute_job(job.pk)))
    thread.start()
    wait_for(lambda: TrainingJob.objects.get(pk=job.pk).step >= 2, timeout=240)
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    thread.join(120)
    job.refresh_from_db()
    assert outcome["status"] == "cancelled" and job.status == "cancelled"
    assert 2 <= job.step < job.total_steps
    assert list((settings.TRAINING_DIR / f"job-{job.pk}" / "output").glob("checkpoint-*"))
    pid = int(job.launch_ref.rsplit(":", 1)[1])
    assert not os.path.exists(f"/proc/{pid}") or b"zombie" in open(f"/proc/{pid}/status", "rb").read()
