"""``evaluate job X on project Y``: request checks, the request's lifecycle, the message, and a real run on a tiny model."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from training.compare import tasks
from training.compare.run import evaluation_claim, evaluation_finish, evaluation_run
from training.compare.selectors import comparison_build, evaluation_requests
from training.compare.services import EvaluationRequestError, evaluation_request
from training.compare.sources import project_sources
from training.models import EvaluationRequest, EvaluationResult, TrainingJob

from .factories import finished_job

pytestmark = pytest.mark.django_db
Status = EvaluationRequest.Status


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


def sent(broker) -> list[dict]:
    """The messages on the training queue (taken off it)."""
    queue, messages = broker.queues["training"], []
    while queue.qsize():
        messages.append(json.loads(queue.get()))
        queue.task_done()  # else the queue's unfinished count stays up and a later broker.join() waits forever
    return messages


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
    request = evaluation_request(job=job, project=cmp_project, split="train", user=reviewer)
    assert request.status == Status.QUEUED and request.requested_by == reviewer
    [message] = sent(broker)
    assert message["actor_name"] == "run_evaluation_request" and message["args"] == [request.pk]
    with pytest.raises(EvaluationRequestError, match="already queued"):
        evaluation_request(job=job, project=cmp_project, split="train")
    assert sent(broker) == []
    assert [(r.split, r.status) for r in evaluation_requests(cmp_project)] == [("train", "queued")]


def test_a_finished_or_lost_request_is_requested_again_in_place_a_running_one_is_not(cmp_project, tmp_path, broker):
    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")
    first = evaluation_request(job=job, project=cmp_project, split="test")
    assert evaluation_claim(request_id=first.pk, worker_id="w1") is not None
    with pytest.raises(EvaluationRequestError, match="already running"):
        evaluation_request(job=job, project=cmp_project, split="test")
    EvaluationRequest.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert EvaluationRequest.objects.get(pk=first.pk).allowed_actions() == ("requeue",)  # stale: shown interrupted
    again = evaluation_request(job=job, project=cmp_project, split="test")  # its worker is gone: interrupted
    assert again.pk == first.pk and again.status == Status.QUEUED and again.worker_id == ""
    assert not evaluation_finish(request_id=first.pk, worker_id="w1", status=Status.SUCCEEDED)  # the lost worker
    assert evaluation_claim(request_id=first.pk, worker_id="w2") is not None
    assert evaluation_finish(request_id=first.pk, worker_id="w2", status=Status.FAILED, error="boom")
    third = evaluation_request(job=job, project=cmp_project, split="test")
    assert third.pk == first.pk and third.status == Status.QUEUED and third.error == ""
    assert EvaluationRequest.objects.count() == 1 and len(sent(broker)) == 3


def test_a_second_delivery_of_the_message_does_nothing(cmp_project, tmp_path, broker):
    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")
    request = evaluation_request(job=job, project=cmp_project, split="test")
    assert evaluation_claim(request_id=request.pk, worker_id="w1") is not None
    assert evaluation_run(request_id=request.pk) == "skipped"
    request.refresh_from_db()
    assert request.status == Status.RUNNING and request.worker_id == "w1"


def test_a_failed_run_records_a_readable_error_and_stores_nothing(cmp_project):
    job = finished_job(cmp_project)  # no adapter: the worker finds nothing to evaluate
    request = EvaluationRequest.objects.create(job=job, project=cmp_project, split="test")
    assert evaluation_run(request_id=request.pk) == Status.FAILED
    request.refresh_from_db()
    assert request.status == Status.FAILED and "adapter folder is missing" in request.error
    assert "Traceback" in request.error_detail and request.finished_at is not None
    assert not EvaluationResult.objects.exists()


def test_evaluate_view_queues_and_reports(client, reviewer, cmp_project, tmp_path, broker):
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
    request = evaluation_request(job=job, project=cmp_project, split="test")

    tasks.run_evaluation_request.fn(request.pk)  # the actor's body, in this thread

    request.refresh_from_db()
    assert request.status == Status.SUCCEEDED, request.error_detail
    tuned, base = request.tuned, request.base
    assert (tuned.model, base.model, tuned.project, tuned.export) == ("tuned", "base", cmp_project, request.export)
    assert tuned.export.project == cmp_project and tuned.n_prompts == base.n_prompts == request.n_prompts > 0
    assert "robustness" in tuned.metrics
    tuned_scores = {p.external_id: p.scores for p in tuned.prompts.all()}
    base_scores = {p.external_id: p.scores for p in base.prompts.all()}
    assert tuned_scores.keys() == base_scores.keys() and tuned_scores != base_scores
    keys = {s.key for s in project_sources(cmp_project)}
    assert {f"job:{job.pk}", f"base:{job.pk}"} <= keys
    result = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    assert len(result.rows) == tuned.n_prompts


def test_a_broker_failure_is_reported_and_does_not_block_the_next_request(cmp_project, tmp_path, monkeypatch, broker):
    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")

    def refuse(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(tasks.run_evaluation_request, "send", refuse)
    with pytest.raises(EvaluationRequestError, match="could not queue the evaluation"):
        evaluation_request(job=job, project=cmp_project, split="test")
    [failed] = evaluation_requests(cmp_project)
    assert failed.status == Status.FAILED and "connection refused" in failed.error
    monkeypatch.undo()
    assert evaluation_request(job=job, project=cmp_project, split="test").status == Status.QUEUED


def queued_request_and_page(client, reviewer, project, tmp_path) -> tuple[EvaluationRequest, str]:
    """A queued evaluation of a finished job on ``project``, and the compare page a reviewer then sees."""
    job = with_adapter(finished_job(project), tmp_path / "adapter")
    request = evaluation_request(job=job, project=project, split="test")
    client.force_login(reviewer)
    return request, client.get(reverse("compare:project", args=[project.slug])).content.decode()


def test_the_page_shows_a_stale_request_interrupted_and_offers_its_allowed_actions(client, reviewer, cmp_project,
                                                                                   tmp_path, broker):
    request, page = queued_request_and_page(client, reviewer, cmp_project, tmp_path)
    assert f'data-request="{request.pk}"' in page and "Evaluate again" not in page  # queued: nothing to do yet
    evaluation_claim(request_id=request.pk, worker_id="w1")
    EvaluationRequest.objects.filter(pk=request.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    page = client.get(reverse("compare:project", args=[cmp_project.slug])).content.decode()
    assert ">interrupted</span>" in page and "stopped sending heartbeats" in page and "Evaluate again" in page
    assert EvaluationRequest.objects.get(pk=request.pk).status == Status.RUNNING  # the page wrote nothing


def test_a_queued_request_is_cancelled_from_the_page_and_its_message_then_does_nothing(client, reviewer, cmp_project,
                                                                                        tmp_path, broker):
    request, page = queued_request_and_page(client, reviewer, cmp_project, tmp_path)
    cancel_url = reverse("compare:evaluation_cancel", args=[cmp_project.slug, request.pk])
    assert f'action="{cancel_url}"' in page  # queued: "cancel" is its allowed action
    answer = client.post(cancel_url, follow=True).content.decode()
    assert "cancelled." in answer and EvaluationRequest.objects.get(pk=request.pk).status == Status.CANCELLED
    assert evaluation_run(request_id=request.pk) == "skipped"  # the message still on the queue
    assert "nothing to cancel" in client.post(cancel_url, follow=True).content.decode()
    assert "Evaluate again" in client.get(reverse("compare:project", args=[cmp_project.slug])).content.decode()


def test_a_running_request_asked_to_stop_ends_cancelled_and_stores_nothing(cmp_project, tmp_path, broker, monkeypatch):
    from training.compare import run as worker
    from training.compare.services import evaluation_cancel

    job = with_adapter(finished_job(cmp_project), tmp_path / "adapter")
    request = evaluation_request(job=job, project=cmp_project, split="test")

    def scoring_while_a_person_cancels(**kwargs):  # the engine's scoring stands in: the cancel lands mid-run
        assert "stops after its current step" in evaluation_cancel(request=EvaluationRequest.objects.get(pk=request.pk))
        return {"never": "stored"}

    monkeypatch.setattr(worker, "evaluation_compute", scoring_while_a_person_cancels)
    monkeypatch.setattr(worker, "load_engine", lambda: None)
    assert evaluation_run(request_id=request.pk) == Status.CANCELLED
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and request.error == "" and request.finished_at is not None
    assert not EvaluationResult.objects.exists()
    assert request.allowed_actions() == ("requeue",)
