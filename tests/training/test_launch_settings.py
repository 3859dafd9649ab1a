"""GPU launch settings: offered on the form only when the launcher has GPUs, stored on the job, and
turned into an ``accelerate launch`` line with the chosen multi-GPU config."""

import pytest
from django.urls import reverse

from training.launchers.commands import ACCELERATE_CONFIGS, job_run_spec
from training.launchers.local import LocalLauncher
from training.models import TrainingJob

from .test_views import _form_data


@pytest.fixture
def admin_client(client, trainer_admin):
    client.force_login(trainer_admin)
    return client


def test_the_form_offers_gpus_only_when_the_launcher_has_them(admin_client, ranked, settings):
    settings.GRPO_LAUNCHER_GPUS = 0
    assert 'name="accelerate_config"' not in admin_client.get(reverse("training:job_launch")).content.decode()
    settings.GRPO_LAUNCHER_GPUS = 4
    html = admin_client.get(reverse("training:job_launch")).content.decode()
    assert all(f'value="{name}"' in html for name in ("ddp", "fsdp", "zero2", "zero3")) and 'name="num_gpus"' in html
    response = admin_client.post(reverse("training:job_launch"), _form_data(ranked, num_gpus="5"))
    assert response.status_code == 200 and "less than or equal to 4" in response.content.decode()


def test_gpus_from_the_form_become_an_accelerate_launch_with_the_config(admin_client, ranked, settings):
    settings.GRPO_LAUNCHER_GPUS = 4
    response = admin_client.post(reverse("training:job_launch"),
                                 _form_data(ranked, num_gpus="2", accelerate_config="fsdp"))
    assert response.status_code == 302
    job = TrainingJob.objects.get()
    assert job.launch == {"num_gpus": 2, "num_processes": 2, "accelerate_config": "fsdp"}
    spec = job_run_spec(job, LocalLauncher(), evaluate_base=True, evaluate=True)
    train = spec.steps[1]
    assert train[1:5] == ["-m", "accelerate.commands.launch", "--num_processes", "2"]
    assert train[train.index("--config_file") + 1].endswith("training/engine/accelerate/fsdp.yaml")
    assert train[train.index("-m", 2):][:3] == ["-m", "training.engine", "train"]
    assert spec.num_gpus == 2 and "--resume" in train and "--events" in train
    assert [step[3] for step in (spec.steps[0], spec.steps[2])] == ["evaluate", "evaluate"]
    assert "--adapter" in spec.steps[2] and "--adapter" not in spec.steps[0]
    # FSDP shards the base weights (it may be larger than one GPU): each evaluation spreads it over the GPUs
    assert all(step[step.index("--device_map") + 1] == "auto" for step in (spec.steps[0], spec.steps[2]))


@pytest.mark.parametrize(("config", "spread"), [("ddp", False), ("zero2", False), ("fsdp", True), ("zero3", True)])
def test_evaluations_spread_the_model_over_the_gpus_only_for_configs_that_shard_its_weights(
        admin_client, ranked, settings, config, spread):
    settings.GRPO_LAUNCHER_GPUS = 4
    admin_client.post(reverse("training:job_launch"), _form_data(ranked, num_gpus="2", accelerate_config=config))
    spec = job_run_spec(TrainingJob.objects.get(), LocalLauncher(), evaluate_base=True, evaluate=True)
    assert spec.steps[1][spec.steps[1].index("--config_file") + 1].endswith(ACCELERATE_CONFIGS[config][0])
    assert [("--device_map" in step) for step in spec.steps] == [spread, False, spread]


def test_a_job_stored_with_a_config_no_longer_offered_fails_naming_it(admin_client, ranked, settings):
    from training.launchers import LaunchError

    settings.GRPO_LAUNCHER_GPUS = 4
    admin_client.post(reverse("training:job_launch"), _form_data(ranked, num_gpus="2", accelerate_config="fsdp"))
    job = TrainingJob.objects.get()
    job.launch["accelerate_config"] = "zero1"  # e.g. stored by another version of the app
    with pytest.raises(LaunchError, match="accelerate_config 'zero1' is not one of ddp, fsdp, zero2, zero3"):
        job_run_spec(job, LocalLauncher(), evaluate_base=False, evaluate=False)


def test_zero3_with_a_quantized_base_is_refused_on_the_form_naming_both(admin_client, ranked, settings):
    settings.GRPO_LAUNCHER_GPUS = 4
    response = admin_client.post(reverse("training:job_launch"),
                                 _form_data(ranked, num_gpus="2", accelerate_config="zero3", quantization="4bit"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "zero3 cannot load a 4bit base model" in html
    # the page opens on a summary that names the field and links to it (the GPU settings come last)
    summary = html[html.index("data-form-errors"):]
    assert summary.index('href="#id_accelerate_config"') < summary.index("</div>") < summary.index("zero3 cannot")
    assert not TrainingJob.objects.exists()
    # the same base on one GPU, or with a config that loads it whole, launches
    for launch in ({"num_gpus": "1", "accelerate_config": "zero3"}, {"num_gpus": "2", "accelerate_config": "zero2"}):
        assert admin_client.post(reverse("training:job_launch"), _form_data(ranked, quantization="4bit", **launch)
                                 ).status_code == 302
