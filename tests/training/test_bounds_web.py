"""The engine's bounds (``training.engine.config.CHECKS``) reach the launch form and the job API:
a value outside them is a field error naming the range, and no job is made."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from training.models import TrainingJob
from training.services.job_config import config_field_help

from .test_views import _field_errors, _form_data

FAKE = {"model_name_or_path": "fake/tiny", "save_steps": 2, "logging_steps": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "range_"), [
    ("lora_alpha", 1e308, "[1, 4096]"), ("beta", 1e308, "(0, 100]"), ("margin", 1e308, "[0, 100]"),
    ("kl_warning", 1e308, "(0, 1000000]"), ("tie_strength", 1e308, "(0, 100]"), ("lora_alpha", "nan", "[1, 4096]"),
])  # fmt: skip
def test_the_api_refuses_a_value_outside_the_bounds_naming_field_and_range(trainer_admin, ranked, field, value, range_):
    client = APIClient()
    client.force_authenticate(trainer_admin)
    body = {"project": ranked.slug, "preset": "cpu-smoke", "config": {**FAKE, field: value}}
    response = client.post("/api/jobs/", body, format="json")
    assert response.status_code == 400, response.content
    assert range_ in response.json()["config"][field][0]
    assert TrainingJob.objects.count() == 0


@pytest.mark.django_db
def test_the_api_refuses_a_nan_literal_in_the_body(trainer_admin, ranked):
    client = APIClient()
    client.force_authenticate(trainer_admin)
    body = '{"project": "SLUG", "config": {"beta": NaN}}'.replace("SLUG", ranked.slug)
    response = client.post("/api/jobs/", body, content_type="application/json")
    assert response.status_code == 400 and TrainingJob.objects.count() == 0


@pytest.fixture
def admin_client(client, trainer_admin):
    client.force_login(trainer_admin)
    return client


@pytest.mark.parametrize(("field", "value", "said"), [
    ("lora_alpha", "1e308", "[1, 4096]"), ("beta", "1e308", "(0, 100]"), ("kl_warning", "1e308", "(0, 1000000]"),
    ("beta", "nan", "(0, 100] in the digits 0-9"), ("beta", "inf", "(0, 100]"), ("beta", "\u0660.\u0661", "digits 0-9"),
    ("lora_r", "\u0663", "an integer in [1, 4096] in the digits 0-9"), ("lora_r", "1e308", "[1, 4096]"),
])  # fmt: skip
def test_the_form_refuses_a_value_outside_the_bounds_next_to_its_field(admin_client, ranked, field, value, said):
    html = admin_client.post(reverse("training:job_launch"), _form_data(ranked, **{field: value})).content.decode()
    assert said in _field_errors(html, field), _field_errors(html, field)
    assert TrainingJob.objects.count() == 0


def test_the_form_shows_each_numeric_field_s_range(admin_client, ranked):
    html = admin_client.get(reverse("training:job_launch")).content.decode()
    assert "Range: a number in (0, 100]." in html and "Range: an integer in [1, 4096]." in html
    assert all("bounds" in spec for name, spec in config_field_help().items() if spec["type"] in ("int", "float"))
