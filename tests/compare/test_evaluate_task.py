"""``evaluate job X on project Y``: request checks, the dramatiq message, and a real run on a tiny model."""

import json

import pytest

from training.compare.selectors import comparison_build, project_sources
from training.compare.tasks import (
    EvaluationRequestError,
    evaluate_job_on_project,
    evaluation_request,
    evaluation_run,
    evaluation_statuses,
    status_path,
)
from training.models import EvaluationResult, TrainingJob

from .factories import finished_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dirs(settings, tmp_path):
    settings.TRAINING_DIR = tmp_path / "training"
    settings.EXPORT_DIR = tmp_path / "exports"


def with_adapter(job: TrainingJob, folder) -> TrainingJob:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text("{}")
    job.adapter_dir = str(folder)
    job.save(update_fields=["adapter_dir"])
    return job


def test_request_checks_the_job_split_and_duplicates(cmp_project, reviewer, tmp_path, broker):
    job = finished_job(cmp_project)
    with pytest.raises(EvaluationRequestError, match="adapter folder is missing"):
        evaluation_request(job=job, project=cmp_project, split="test")
    job = with_adapter(job, tmp_path / "adapter")
    with pytest.raises(EvaluationRequestError, match="split: must be one of test, train"):
        evaluation_request(job=job, project=cmp_project, split="dev")
    TrainingJob.objects.filter(pk=job.pk).update(status="failed")
    job.refresh_from_db()
    with pytest.raises(EvaluationRequestError, match="is failed"):
        evaluation_request(job=job, project=cmp_project, split="test")
    TrainingJob.objects.filter(pk=job.pk).update(status="succeeded")
    job.refresh_from_db()
    status = evaluation_request(job=job, project=cmp_project, split="train", user=reviewer)
    assert status["state"] == "queued" and status["requested_by"] == "rev1"
    messages = broker.queues["training"]
    assert messages.qsize() == 1
    message = json.loads(messages.get())
    messages.task_done()  # else the queue's unfinished count stays up and a later broker.join() waits forever
    assert message["actor_name"] == "evaluate_job_on_project" and message["args"] == [job.pk, cmp_project.pk, "train"]
    with pytest.raises(EvaluationRequestError, match="already queued"):
        evaluation_request(job=job, project=cmp_project, split="train")
    assert [s["state"] for s in evaluation_statuses(project=cmp_project)] == ["queued"]


def test_a_failed_run_records_a_readable_error_and_stores_nothing(cmp_project, tmp_path):
    job = finished_job(cmp_project)
    status = evaluation_run(job_id=job.pk, project_id=cmp_project.pk, split="test")
    assert status["state"] == "failed" and "adapter folder is missing" in status["error"]
    assert json.loads(status_path(job.pk, cmp_project.pk, "test").read_text())["state"] == "failed"
    assert not EvaluationResult.objects.exists()


def test_evaluate_view_queues_and_reports(client, reviewer, cmp_project, tmp_path, broker):
    from django.urls import reverse

    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")
    client.force_login(reviewer)
    url = reverse("compare:evaluate", args=[cmp_project.slug])
    page = client.post(url, {"job": job.pk, "split": "test"}, follow=True).content.decode()
    assert "queued" in page and broker.queues["training"].qsize() == 1
    page = client.post(url, {"job": "999", "split": "test"}, follow=True).content.decode()
    assert "no training job" in page


def test_actor_evaluates_a_real_tiny_model_and_its_base_on_another_project(cmp_project, tmp_path, broker):
    """The whole path on a 3M-parameter random Llama with a (perturbed) LoRA adapter: export, score, store."""
    import torch

    from tests.conftest import make_project
    from training.engine import make_tiny_model
    from training.engine.modeling import add_lora_adapter, load_base_model

    model_dir = make_tiny_model(tmp_path / "tiny", hidden_size=64, num_hidden_layers=2, num_attention_heads=2)
    model = add_lora_adapter(load_base_model(model_dir, device="cpu"), r=4, alpha=8, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)  # an untrained adapter is the identity; make the tuned model differ
    model.save_pretrained(tmp_path / "adapter")
    trained_on = make_project("elsewhere", n_prompts=1)
    job = finished_job(trained_on)
    job.config = {"model_name_or_path": model_dir, "max_length": 64, "max_prompt_length": 32}
    job.adapter_dir = str(tmp_path / "adapter")
    job.save()
    cmp_project.prompts.update(split="test")

    evaluate_job_on_project.fn(job.pk, cmp_project.pk, "test")  # the actor's body, in this thread

    status = json.loads(status_path(job.pk, cmp_project.pk, "test").read_text())
    assert status["state"] == "done", status
    tuned = EvaluationResult.objects.get(job=job, model="tuned", project=cmp_project)
    base = EvaluationResult.objects.get(job=job, model="base", project=cmp_project)
    assert tuned.export.project == cmp_project and tuned.n_prompts == base.n_prompts == status["n_prompts"] > 0
    assert "robustness" in tuned.metrics
    tuned_scores = {p.external_id: p.scores for p in tuned.prompts.all()}
    base_scores = {p.external_id: p.scores for p in base.prompts.all()}
    assert tuned_scores.keys() == base_scores.keys() and tuned_scores != base_scores
    keys = {s.key for s in project_sources(cmp_project)}
    assert {f"job:{job.pk}", f"base:{job.pk}"} <= keys
    result = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    assert len(result.rows) == tuned.n_prompts


def test_a_broker_failure_is_reported_and_does_not_block_the_next_request(cmp_project, tmp_path, monkeypatch, broker):
    from training.compare import tasks as compare_tasks

    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")

    def refuse(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(compare_tasks.evaluate_job_on_project, "send", refuse)
    with pytest.raises(EvaluationRequestError, match="could not queue the evaluation"):
        evaluation_request(job=job, project=cmp_project, split="test")
    assert evaluation_statuses(project=cmp_project)[0]["state"] == "failed"
    monkeypatch.undo()
    assert evaluation_request(job=job, project=cmp_project, split="test")["state"] == "queued"
