"""The job API under /api/jobs/: admins only, field errors for bad configs, the full run through a worker."""

import pytest
from rest_framework.test import APIClient

from ranking_app.models import ExportSnapshot
from tests.conftest import make_project, make_user
from training.models import TrainingJob

FAKE = {"model_name_or_path": "fake/tiny", "save_steps": 2, "logging_steps": 1}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["labeler", "reviewer"])
def test_only_admins_can_use_the_job_api(role, ranked):
    client = client_for(make_user("someone", role))
    assert client.get("/api/jobs/").status_code == 403
    assert client.post("/api/jobs/", {"project": ranked.slug}, format="json").status_code == 403
    assert APIClient().get("/api/jobs/").status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("config", "field", "fragment"),
    [
        ({"beta": -1}, "beta", "number in (0, 100]"),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps", "integer in [1, "),
        ({"gradient_accumulation_steps": -1}, "gradient_accumulation_steps", "integer in [1, "),
        ({"seed": -1}, "seed", "integer in [0, 4294967295]"),
        ({"num_train_epochs": 1e308}, "num_train_epochs", "in (0, 1000]"),
        ({"beta": [[[0.1]]]}, "beta", "a number in (0, 100]"),
        ({"lora_target_modules": "q_proj\u0000"}, "lora_target_modules", "control character"),  # refused at parse
        ({"loss": "dpo"}, "loss", "must be one of grpo, orpo, plackett-luce"),
        ({"quantization": "3bit"}, "quantization", "must be one of none, 8bit, 4bit"),
        ({"max_length": 64, "max_prompt_length": 128}, "max_length", "above max_prompt_length"),
        ({"lora_dropout": 1.5}, "lora_dropout", "[0, 1)"),
        ({"save_steps": 2.5}, "save_steps", "integer"),
        ({"warmup": 3}, "warmup", "unknown hyperparameter"),
        ({"model_name_or_path": "/no/such/model"}, "model_name_or_path", "no model folder"),
    ],
)
def test_bad_configs_are_rejected_with_field_errors_and_nothing_is_stored(trainer_admin, ranked, config, field,
                                                                          fragment):
    response = client_for(trainer_admin).post(
        "/api/jobs/", {"project": ranked.slug, "preset": "cpu-smoke", "config": {**FAKE, **config}}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    said = " ".join(body["config"][field]) if "config" in body else body["detail"]  # a bad body is refused whole
    assert fragment in said and (field in said or "config" in body)
    assert TrainingJob.objects.count() == 0 and ExportSnapshot.objects.count() == 0


@pytest.mark.django_db
def test_a_project_without_trainable_prompts_is_rejected_before_any_job_exists(trainer_admin, settings):
    project = make_project("unranked")
    response = client_for(trainer_admin).post(
        "/api/jobs/", {"project": project.slug, "config": FAKE, "validated_only": False}, format="json"
    )
    assert response.status_code == 400
    assert "no train-split prompts" in response.json()["validated_only"][0]
    assert TrainingJob.objects.count() == 0 and ExportSnapshot.objects.count() == 0
    assert not list((settings.EXPORT_DIR / project.slug).glob("*.jsonl"))


@pytest.mark.django_db
def test_an_unknown_project_is_404_and_an_unknown_preset_a_field_error(trainer_admin, ranked):
    client = client_for(trainer_admin)
    nowhere = client.post("/api/jobs/", {"project": "nope"}, format="json")
    assert nowhere.status_code == 404 and nowhere.json() == {"project": ["no project 'nope'"]}
    response = client.post("/api/jobs/", {"project": ranked.slug, "preset": "huge"}, format="json")
    assert "unknown preset" in response.json()["preset"][0]


@pytest.mark.django_db
def test_launch_freezes_an_export_and_enqueues_on_the_training_queue(trainer_admin, ranked, broker,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(trainer_admin).post(
            "/api/jobs/", {"project": ranked.slug, "preset": "cpu-smoke", "config": FAKE, "validated_only": False},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["config"]["lora_r"] == 8 and body["config"]["beta"] == 0.1
    job = TrainingJob.objects.get(pk=body["id"])
    assert job.export.format == "jsonl" and len(job.export.sha256) == 64
    readiness = body["data_summary"].pop("readiness")  # the data's agreement, kept with the job
    assert body["data_summary"] == {"splits": {"test": 4, "train": 12}, "train_prompts": 12, "test_prompts": 4}
    assert readiness["n_prompts"] == 16 and "krippendorff_alpha" in readiness and "warnings" in readiness
    assert len(broker.queues["training"].queue) == 1


@pytest.mark.django_db(transaction=True)
def test_a_job_launched_through_the_api_runs_and_reports_metrics_and_evaluation(trainer_admin, ranked, broker, worker,
                                                                              fake_engine):
    client = client_for(trainer_admin)
    job_id = client.post("/api/jobs/", {"project": ranked.slug, "preset": "cpu-smoke", "config": FAKE,
                                        "validated_only": False}, format="json").json()["id"]
    broker.join("training")
    worker.join()
    body = client.get(f"/api/jobs/{job_id}/").json()
    assert body["status"] == "succeeded"
    assert body["progress"]["percent"] == 100 and body["metrics"]["steps"] == [1, 2, 3, 4, 5, 6]
    assert body["evaluation"]["base"]["accuracy"] == 0.4 and body["evaluation"]["tuned"]["accuracy"] == 0.9
    accuracy = next(r for r in body["evaluation"]["comparison"] if r["key"] == "accuracy")
    assert body["evaluation"]["scoring"] == "sum_logp" and accuracy["tuned"] == 1.0  # the fake tuned model is perfect
    assert accuracy["change"] == pytest.approx(accuracy["tuned"] - accuracy["base"]) and accuracy["change"] > 0
    listed = client.get("/api/jobs/").json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "succeeded"
    # finished jobs cannot be cancelled; succeeded jobs cannot be resumed
    assert client.post(f"/api/jobs/{job_id}/cancel/").status_code == 409
    assert client.post(f"/api/jobs/{job_id}/resume/").status_code == 409


@pytest.mark.django_db(transaction=True)
def test_cancel_and_resume_through_the_api(trainer_admin, ranked, broker, fake_engine):
    client = client_for(trainer_admin)
    job_id = client.post("/api/jobs/", {"project": ranked.slug, "config": {**FAKE, "lora_r": 4},
                                        "validated_only": False}, format="json").json()["id"]
    cancelled = client.post(f"/api/jobs/{job_id}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    resumed = client.post(f"/api/jobs/{job_id}/resume/").json()
    assert resumed["status"] == "queued" and resumed["error"] == ""
    assert client.get("/api/jobs/999/").status_code == 404


@pytest.mark.django_db
def test_every_bad_field_is_reported_at_once(trainer_admin, ranked):
    response = client_for(trainer_admin).post(
        "/api/jobs/", {"project": ranked.slug, "preset": "cpu-smoke",
                       "config": {**FAKE, "beta": 0, "weighting": "cubic", "lora_r": 0}}, format="json")
    assert sorted(response.json()["config"]) == ["beta", "lora_r", "weighting"]


@pytest.mark.parametrize("preset", ["cpu-smoke", "gpu-qlora"])
def test_every_preset_uses_only_engine_fields_and_passes_the_engine_validation(preset):
    from training.presets import presets
    from training.services.job_config import config_build, config_field_help

    assert set(presets()[preset]["config"]) <= set(config_field_help())
    config = config_build(values={}, preset=preset)
    assert config["model_name_or_path"]


@pytest.mark.django_db
def test_resuming_a_queued_job_sends_its_message_again(trainer_admin, ranked, broker,
                                                       django_capture_on_commit_callbacks):
    client = client_for(trainer_admin)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = client.post("/api/jobs/", {"project": ranked.slug, "config": FAKE, "validated_only": False},
                             format="json").json()["id"]
    broker.flush("training")  # as if Redis restarted without persistence
    assert client.post(f"/api/jobs/{job_id}/resume/").json()["status"] == "queued"
    assert len(broker.queues["training"].queue) == 1
