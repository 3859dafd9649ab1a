"""Job pages: admin-only, the launch form with presets and field errors, live partials, downloads."""

import io
import re
import zipfile

import pytest
from django.urls import reverse

from tests.conftest import make_user
from training.models import TrainingJob
from training.services.job_config import config_field_help
from training.services.jobs import job_launch

FAKE = {"model_name_or_path": "fake/tiny", "save_steps": 2, "logging_steps": 1}


@pytest.fixture
def admin_client(client, trainer_admin):
    client.force_login(trainer_admin)
    return client


def test_job_pages_are_for_admins_only(client, db, ranked):
    client.force_login(make_user("rev", "reviewer"))
    for name in ("training:job_list", "training:job_launch"):
        assert client.get(reverse(name)).status_code == 403


def test_launch_form_shows_every_hyperparameter_with_its_help_and_the_cpu_preset(admin_client, ranked):
    html = admin_client.get(reverse("training:job_launch") + f"?project={ranked.slug}").content.decode()
    for name, spec in config_field_help().items():
        assert f'name="{name}"' in html, name
        assert spec["help"].replace("'", "&#x27;")[:40] in html, name
    assert 'value="cpu-smoke" selected' in html
    assert "var/test" in html or "tiny-llama" in html  # the CPU preset's local tiny model


def test_applying_the_gpu_preset_fills_4bit_qlora_values(admin_client, ranked):
    response = admin_client.get(reverse("training:job_launch") + "?preset=gpu-qlora", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<form")  # htmx gets the form alone
    assert '<option value="4bit" selected>' in html
    assert 'value="Qwen/Qwen2.5-1.5B-Instruct"' in html


def test_the_speed_settings_are_on_the_form_and_the_gpu_preset_packs_by_tokens(admin_client, ranked):
    html = admin_client.get(reverse("training:job_launch") + "?preset=gpu-qlora", HTTP_HX_REQUEST="true").content.decode()
    speed = html.split(">Speed<", 1)[1].split("</fieldset>", 1)[0]
    assert 'name="prefix_sharing"' in speed and 'name="max_tokens_per_batch"' in speed
    assert '<option value="auto" selected>' in speed and 'value="8192"' in speed
    assert "Encode each prompt once per group" in speed and "Fill micro-batches by tokens" in speed


def test_a_token_budget_from_the_form_reaches_the_job_and_a_bad_one_is_refused(admin_client, ranked):
    html = admin_client.post(reverse("training:job_launch"),
                             _form_data(ranked, max_tokens_per_batch="0", prefix_sharing="sometimes")).content.decode()
    assert "integer in [1, 1073741824]" in _field_errors(html, "max_tokens_per_batch")
    assert "sometimes" in _field_errors(html, "prefix_sharing")
    assert TrainingJob.objects.count() == 0
    response = admin_client.post(reverse("training:job_launch"),
                                 _form_data(ranked, max_tokens_per_batch="2048", prefix_sharing="off"))
    assert response.status_code == 302
    config = TrainingJob.objects.get().config
    assert (config["max_tokens_per_batch"], config["prefix_sharing"]) == (2048, "off")


def test_a_bad_value_is_a_form_error_next_to_its_field_and_no_job_is_made(admin_client, ranked):
    data = _form_data(ranked, beta="-0.5")
    response = admin_client.post(reverse("training:job_launch"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="beta"' in html and "must be a number in (0, 100]" in html
    assert TrainingJob.objects.count() == 0


def test_every_bad_field_shows_its_error_at_once_and_no_job_is_made(admin_client, ranked):
    data = _form_data(ranked, seed="-1", gradient_accumulation_steps="0", num_train_epochs="1e308", lora_r="x")
    html = admin_client.post(reverse("training:job_launch"), data).content.decode()
    errors = {name: _field_errors(html, name) for name in
              ("seed", "gradient_accumulation_steps", "num_train_epochs", "lora_r", "beta")}
    assert "integer in [0, 4294967295]" in errors["seed"]
    assert "integer in [1, 65536]" in errors["gradient_accumulation_steps"]
    assert "in (0, 1000]" in errors["num_train_epochs"]
    assert "digits 0-9" in errors["lora_r"] and errors["lora_r"].count("4096") == 1  # the form's own error only
    assert errors["beta"] == ""
    assert TrainingJob.objects.count() == 0


def _field_errors(html: str, name: str) -> str:
    block = html.split(f'data-field="{name}"', 1)[1].split("data-field=", 1)[0]
    return " ".join(re.findall(r'class="error field-error"[^>]*>(.*?)</p>', block, re.S))


def test_a_valid_form_queues_a_job_and_opens_its_page(admin_client, ranked, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("training:job_launch"), _form_data(ranked, lora_r="4"))
    job = TrainingJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("training:job_detail", args=[job.pk])
    assert job.config["lora_r"] == 4 and job.config["activation_checkpointing"] is False
    assert len(broker.queues["training"].queue) == 1
    page = admin_client.get(response.url).content.decode()
    assert 'id="job-status">queued' in page and 'hx-trigger="every 2s"' in page
    assert job.export.sha256 in page


def test_clone_and_edit_prefills_the_form_from_the_job(admin_client, ranked, trainer_admin):
    job = job_launch(project=ranked, config={**FAKE, "beta": 0.37}, created_by=trainer_admin, validated_only=False)
    html = admin_client.get(reverse("training:job_launch") + f"?clone={job.pk}").content.decode()
    assert 'value="0.37"' in html and f"copy of {job.name}" in html


@pytest.mark.django_db(transaction=True)
def test_finished_job_page_shows_the_eval_change_and_serves_the_adapter_zip(client, trainer_admin, ranked, broker,
                                                                          worker, fake_engine):
    client.force_login(trainer_admin)
    job = job_launch(project=ranked, config=FAKE, preset="cpu-smoke", created_by=trainer_admin, validated_only=False)
    broker.join("training")
    worker.join()
    html = client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
    assert 'id="job-status">succeeded' in html and 'hx-trigger="every 2s"' not in html
    accuracy = html.split('<tr data-metric="accuracy">')[1].split("</tr>")[0]  # the fake tuned model is perfect
    assert re.search(r'<td class="change[^"]*">\+0\.\d{3} ', accuracy) and "<td>1.000 " in accuracy
    assert "step 6/6" in html  # log tail
    metrics = client.get(reverse("training:job_metrics", args=[job.pk])).json()
    assert metrics["steps"] == [1, 2, 3, 4, 5, 6] and metrics["active"] is False
    assert metrics["eval_loss"] == [None, 0.6, None, 0.5, None, 0.55]
    assert "Adapter kept: <strong>step 4</strong> of 6" in html and "lowest validation loss, 0.5000" in html
    assert "25.0% of responses" in html
    response = client.get(reverse("training:job_adapter", args=[job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["adapter/adapter_config.json", "adapter/adapter_model.safetensors"]
    rows = client.get(reverse("training:job_list"), HTTP_HX_REQUEST="true").content.decode()
    assert rows.lstrip().startswith('<tbody id="job-rows"') and f"#{job.pk}" in rows and "succeeded" in rows


def _form_data(project, **overrides) -> dict:
    from training.forms import launch_initial

    data = {k: v for k, v in launch_initial(project=project).items() if v is not None}
    data.update(FAKE, project=project.slug, validated_only="", **overrides)
    return data


def test_pages_that_answer_htmx_with_a_partial_say_they_vary_on_it(admin_client, ranked):
    from django.utils.cache import has_vary_header

    job = job_launch(project=ranked, config=FAKE, preset="cpu-smoke", validated_only=False)  # message sent on commit
    pages = [reverse("training:job_list"), reverse("training:job_launch"), reverse("training:job_detail", args=[job.pk])]
    for url in pages:
        for headers in ({}, {"HX-Request": "true"}):
            response = admin_client.get(url, headers=headers)
            assert response.status_code == 200 and has_vary_header(response, "HX-Request"), (url, headers)
    for name in ("training:job_cancel", "training:job_resume"):  # the live partial for htmx, else a redirect
        for headers in ({}, {"HX-Request": "true"}):
            response = admin_client.post(reverse(name, args=[job.pk]), headers=headers)
            assert has_vary_header(response, "HX-Request"), (name, headers)
    response = admin_client.post(reverse("training:job_launch"), _form_data(ranked, beta="-0.5"), headers={"HX-Request": "true"})
    assert response.status_code == 200 and has_vary_header(response, "HX-Request")  # the form with its errors


def test_annotator_soft_targets_need_a_project_with_several_annotators(admin_client, ranked):
    response = admin_client.post(reverse("training:job_launch"), _form_data(ranked, pair_targets="annotators"))
    assert response.status_code == 200 and "soft targets need several annotators" in response.content.decode()
    ranked.target_annotators = 3
    ranked.save()
    response = admin_client.post(reverse("training:job_launch"), _form_data(ranked, pair_targets="annotators"))
    assert response.status_code == 302 and TrainingJob.objects.get().config["pair_targets"] == "annotators"
