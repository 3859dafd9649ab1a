"""The worker applies the engine's one validator and never records a run that trained nothing as a success."""

import pytest

from training.models import TrainingJob
from training.runner import execute_job
from training.services.jobs import job_launch

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_MODEL = {"model_name_or_path": "fake/tiny", "save_steps": 2, "logging_steps": 1}


def launch(project) -> TrainingJob:
    return job_launch(project=project, config=FAKE_MODEL, preset="cpu-smoke", validated_only=False)


def test_a_job_that_trains_zero_steps_fails_with_a_clear_message(ranked, fake_engine):
    fake_engine.total_steps = 0
    job = launch(ranked)
    assert execute_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("training ran 0 optimizer steps")
    assert not job.adapter_dir


def test_a_queued_job_whose_config_breaks_the_rules_fails_naming_every_field(ranked, fake_engine):
    job = launch(ranked)  # queued before the rules existed: its stored config is now refused
    TrainingJob.objects.filter(pk=job.pk).update(config={**job.config, "gradient_accumulation_steps": 0, "seed": -1})
    assert execute_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.error.startswith("gradient_accumulation_steps: must be an integer in [1, 65536] (got 0)")
    assert "seed: must be an integer in [0, 4294967295] (got -1)" in job.error
    assert not [call for call in fake_engine.calls if call["call"] == "train"]
