"""A long-lived worker gives back each job's memory: several real tiny-model jobs in one process."""

import gc
import os
from pathlib import Path

import pytest
import torch

from training.engine import make_tiny_model
from training.models import TrainingJob
from training.runner import execute_job
from training.services.jobs import job_launch

CONFIG = {"quantization": "none", "lora_r": 4, "lora_alpha": 8, "learning_rate": 0.005, "num_train_epochs": 1.0,
          "per_device_train_batch_size": 6, "max_length": 64, "logging_steps": 1, "save_steps": 1000, "seed": 1}


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def live_models() -> int:
    from transformers import PreTrainedModel

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, PreTrainedModel))


@pytest.mark.slow  # four real (tiny) jobs: base evaluation, training, tuned evaluation each
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from /proc")
@pytest.mark.django_db(transaction=True)
def test_memory_returns_to_its_baseline_after_each_job(ranked, tmp_path):
    torch.set_num_threads(1)  # tiny models on a shared CPU: more threads only contend
    model = make_tiny_model(tmp_path / "tiny", hidden_size=64, num_hidden_layers=2)
    after = []
    for n in range(4):
        job = job_launch(project=ranked, config={**CONFIG, "model_name_or_path": model, "seed": n},
                         validated_only=False)
        assert execute_job(job.pk) == "succeeded", TrainingJob.objects.get(pk=job.pk).error
        assert live_models() == 0  # no model, base or LoRA-wrapped, outlives its job
        after.append(rss_mb())
    print("RSS after each job (MB):", [round(x) for x in after])
    assert max(after[1:]) - after[0] < 150, after
