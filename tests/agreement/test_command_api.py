"""`manage.py agreement --json` and GET /api/projects/<slug>/agreement/ give the same figures."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from .conftest import submit

AGREE = [[0], [1], [2], [3]]


@pytest.fixture
def ranked(project, annotators):
    p0, p1, _ = project.prompts.all()
    for user in annotators[:3]:
        submit(p0, user, AGREE)
    submit(p1, annotators[0], AGREE)
    submit(p1, annotators[1], [[3], [2], [0, 1]])
    submit(p1, annotators[2], [[1], [0]])  # partial
    return project


def _command_json(slug: str) -> dict:
    out = StringIO()
    call_command("agreement", "--project", slug, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_command_json_has_the_documented_shape(ranked):
    data = _command_json(ranked.slug)
    assert set(data) == {"krippendorff_alpha", "mean_kendall_w", "status_counts", "items", "annotators", "models_included",
                         "model_annotators"}
    assert data["model_annotators"] == [] and data["models_included"] is False
    assert isinstance(data["krippendorff_alpha"], float)
    assert data["status_counts"] == {"validated": 1, "needs_review": 1, "in_progress": 1}
    assert data["items"][0] == {"id": "p-000", "kendall_w": 1.0, "n_annotators": 3, "status": "validated"}
    assert data["items"][2] == {"id": "p-002", "kendall_w": None, "n_annotators": 0, "status": "in_progress"}
    assert [a["annotator"] for a in data["annotators"]] == ["ann0", "ann1", "ann2"]
    assert all(set(a) == {"annotator", "agreement", "count"} for a in data["annotators"])
    assert data["annotators"][0]["count"] == 2


@pytest.mark.django_db
def test_command_json_equals_the_api(ranked, reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    response = client.get(f"/api/projects/{ranked.slug}/agreement/")
    assert response.status_code == 200
    assert response.json() == _command_json(ranked.slug)


@pytest.mark.django_db
def test_api_matches_the_dashboard_figures(ranked, reviewer, client):
    from django.urls import reverse

    api = APIClient()
    api.force_authenticate(reviewer)
    data = api.get(f"/api/projects/{ranked.slug}/agreement/").json()
    client.force_login(reviewer)
    summary = client.get(reverse("review:dashboard", args=[ranked.slug])).context["summary"]
    assert data["krippendorff_alpha"] == summary["krippendorff_alpha"]
    assert data["mean_kendall_w"] == summary["mean_kendall_w"]
    assert data["status_counts"] == summary["status_counts"]


@pytest.mark.django_db
def test_api_refuses_labelers(ranked, labeler):
    client = APIClient()
    client.force_authenticate(labeler)
    assert client.get(f"/api/projects/{ranked.slug}/agreement/").status_code == 403


@pytest.mark.django_db
def test_unknown_project_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        call_command("agreement", "--project", "nope", "--json")


@pytest.mark.django_db
def test_table_output_names_the_figures(ranked):
    out = StringIO()
    call_command("agreement", "--project", ranked.slug, "--refresh", stdout=out)
    text = out.getvalue()
    assert "Krippendorff's alpha (ordinal)" in text and "mean Kendall's W" in text and "ann0" in text
