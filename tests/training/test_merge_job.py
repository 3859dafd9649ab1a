"""The job page's merged model: asked for on the page, built by a worker, downloaded as a zip."""

import io
import zipfile

import pytest
import torch
from django.urls import reverse

from ranking_app.exchange.exports import export_create
from training.engine import make_tiny_model
from training.engine.modeling import add_lora_adapter
from training.models import AdapterMerge, TrainingJob
from training.services.jobs import JobStateError
from training.services.merges import job_merge_request


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", hidden_size=32, num_hidden_layers=1)


@pytest.fixture
def trained_job(ranked, tiny_model, training_dirs):
    from transformers import AutoModelForCausalLM

    adapter = training_dirs / "job-m" / "adapter"
    torch.manual_seed(0)
    model = add_lora_adapter(AutoModelForCausalLM.from_pretrained(tiny_model), r=2, alpha=4, dropout=0.0,
                             target_modules=["q_proj"], quantized=False)
    model.save_pretrained(adapter)
    export = export_create(project=ranked, format="jsonl", validated_only=False)
    return TrainingJob.objects.create(project=ranked, export=export, base_model=tiny_model, config={},
                                      status=TrainingJob.Status.SUCCEEDED, work_dir="job-m", adapter_dir="job-m/adapter")


@pytest.mark.django_db(transaction=True)
def test_merge_is_built_by_a_worker_and_downloaded(client, trainer_admin, trained_job, broker, worker):
    client.force_login(trainer_admin)
    page = reverse("training:job_detail", args=[trained_job.pk])
    assert 'id="merge-button"' in client.get(page).content.decode()

    client.post(reverse("training:job_merge", args=[trained_job.pk]))
    broker.join("training")
    worker.join()

    merge = AdapterMerge.objects.get(job=trained_job)
    assert merge.status == "succeeded", merge.error
    assert 'id="merged-link"' in client.get(page).content.decode()
    response = client.get(reverse("training:job_merged", args=[trained_job.pk]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert "merged/config.json" in names and "merged/model.safetensors" in names and "merged/tokenizer.json" in names
    assert not any("adapter" in name for name in names)


def test_merge_is_refused_twice_and_for_a_job_without_adapter(trained_job, ranked):
    job_merge_request(job=trained_job)
    with pytest.raises(JobStateError, match="already queued"):
        job_merge_request(job=trained_job)
    trained_job.status = TrainingJob.Status.FAILED
    with pytest.raises(JobStateError, match="no trained adapter"):
        job_merge_request(job=trained_job)


def test_a_failed_merge_is_shown_and_can_be_asked_again(client, trainer_admin, trained_job, training_dirs):
    from training.merge_runner import merge_run

    (training_dirs / "job-m" / "adapter" / "adapter_model.safetensors").write_bytes(b"not weights")
    job_merge_request(job=trained_job)

    assert merge_run(trained_job.pk) == "failed"
    assert merge_run(trained_job.pk) == "skipped"
    client.force_login(trainer_admin)
    html = client.get(reverse("training:job_detail", args=[trained_job.pk])).content.decode()
    assert "Merging failed:" in html and 'id="merge-button"' in html
    assert AdapterMerge.objects.get(pk=trained_job.pk).error
    assert client.get(reverse("training:job_merged", args=[trained_job.pk])).status_code == 404


def test_a_queued_build_is_cancelled_from_the_job_page_and_asked_again(client, trainer_admin, trained_job):
    from training.merge_runner import merge_run

    job_merge_request(job=trained_job)
    client.force_login(trainer_admin)
    page = reverse("training:job_detail", args=[trained_job.pk])
    assert 'id="merge-cancel-button"' in client.get(page).content.decode()  # the build's allowed action
    client.post(reverse("training:job_merge_cancel", args=[trained_job.pk]))
    assert AdapterMerge.objects.get(pk=trained_job.pk).status == "cancelled"
    assert merge_run(trained_job.pk) == "skipped"  # its message, still on the queue, finds nothing to do
    html = client.get(page).content.decode()
    assert 'id="merge-cancel-button"' not in html and 'id="merge-button"' in html
    answer = client.post(reverse("training:job_merge_cancel", args=[trained_job.pk]), follow=True).content.decode()
    assert "nothing to cancel" in answer
    assert job_merge_request(job=trained_job).status == "queued"


def test_a_running_build_asked_to_stop_leaves_no_merged_model(trained_job, training_dirs, monkeypatch):
    from training import merge_runner
    from training.engine import merge as engine_merge
    from training.services.merges import job_merge_cancel

    real_merge = engine_merge.merge_adapter

    def merge_while_a_person_cancels(*args):
        real_merge(*args)
        job_merge_cancel(job=TrainingJob.objects.get(pk=trained_job.pk))

    monkeypatch.setattr(engine_merge, "merge_adapter", merge_while_a_person_cancels)
    job_merge_request(job=trained_job)
    assert merge_runner.merge_run(trained_job.pk) == "cancelled"
    assert not (training_dirs / "job-m" / "merged").exists() and not (training_dirs / "job-m" / "merged.zip").exists()
    assert AdapterMerge.objects.get(pk=trained_job.pk).allowed_actions() == ("requeue",)
