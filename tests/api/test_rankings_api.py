"""/api/rankings/: own rankings only for labelers, version check (409), field errors (400)."""

import pytest
from rest_framework.test import APIClient

from ranking_app.models import Prompt, Ranking, RankingRevision
from ranking_app.ranking_store import ranking_save

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompt(project):
    return Prompt.objects.filter(project=project).first()


def test_anonymous_requests_are_refused(project):
    assert APIClient().get("/api/rankings/").status_code in (401, 403)
    assert APIClient().get("/api/projects/").status_code in (401, 403)


def test_labeler_creates_a_ranking_with_version_zero(labeler, prompt):
    response = client_for(labeler).post(
        "/api/rankings/", {"prompt": prompt.id, "rankings": [2, 0, 1, None], "version": 0}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rankings"] == [2, 0, 1, None] and body["tiers"] == [[1], [2], [0]]
    assert body["version"] == 1 and body["status"] == "submitted" and body["annotator"] == "lab1"
    ranking = Ranking.objects.get(annotator=labeler)
    assert ranking.source == "api" and RankingRevision.objects.filter(ranking=ranking).count() == 1


def test_update_with_the_current_version_succeeds(labeler, prompt):
    client = client_for(labeler)
    created = client.post("/api/rankings/", {"prompt": prompt.id, "tiers": [[0], [1]], "version": 0}, format="json").json()
    response = client.put(f"/api/rankings/{created['id']}/", {"tiers": [[1], [0], [2]], "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == 2 and response.json()["rankings"] == [1, 0, 2, None]


def test_stale_version_gets_409_with_the_current_version_and_nothing_is_overwritten(labeler, prompt):
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]], status="submitted")
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]], status="submitted")  # now version 2
    ranking = Ranking.objects.get(annotator=labeler)
    client = client_for(labeler)
    response = client.put(f"/api/rankings/{ranking.id}/", {"rankings": [0, 1, 2, 3], "version": 1}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2 and body["current"]["tiers"] == [[1], [0]]
    assert "version 1" in body["detail"]
    ranking.refresh_from_db()
    assert ranking.tiers == [[1], [0]] and ranking.version == 2
    # creating over an existing ranking (version 0) is a conflict too, never a silent overwrite
    again = client.post("/api/rankings/", {"prompt": prompt.id, "rankings": [0, 1, 2, 3], "version": 0}, format="json")
    assert again.status_code == 409 and again.json()["current_version"] == 2
    ranking.refresh_from_db()
    assert ranking.tiers == [[1], [0]]


def test_validation_errors_name_the_field(labeler, prompt):
    client = client_for(labeler)
    short = client.post("/api/rankings/", {"prompt": prompt.id, "rankings": [0, 1], "version": 0}, format="json")
    assert short.status_code == 400 and "rankings" in short.json()
    assert "2 entries but there are 4 responses" in short.json()["rankings"][0]
    bad_tiers = client.post("/api/rankings/", {"prompt": prompt.id, "tiers": [[0], [9]], "version": 0}, format="json")
    assert bad_tiers.status_code == 400 and "out of range" in bad_tiers.json()["tiers"][0]
    one = client.post("/api/rankings/", {"prompt": prompt.id, "rankings": [0, None, None, None], "version": 0}, format="json")
    assert one.status_code == 400 and "at least 2" in one.json()["rankings"][0]
    missing = client.post("/api/rankings/", {"prompt": prompt.id, "version": 0}, format="json")
    assert missing.status_code == 400 and "rankings" in missing.json()
    no_prompt = client.post("/api/rankings/", {"prompt": 999999, "rankings": [0, 1, 2, 3]}, format="json")
    assert no_prompt.status_code == 404 and no_prompt.json() == {"prompt": ["no prompt 999999"]}
    zero = client.post("/api/rankings/", {"prompt": 0, "rankings": [0, 1, 2, 3]}, format="json")
    assert zero.status_code == 400 and "from 1" in zero.json()["prompt"][0]  # below the documented minimum
    assert not Ranking.objects.exists()


def test_ties_are_rejected_where_the_project_disallows_them(labeler, prompt):
    prompt.project.allow_ties = False
    prompt.project.save()
    response = client_for(labeler).post(
        "/api/rankings/", {"prompt": prompt.id, "rankings": [0, 0, 1, 2], "version": 0}, format="json"
    )
    assert response.status_code == 400 and response.json() == {"rankings": ["ties are not allowed in this project"]}


def test_labeler_cannot_read_or_change_another_labelers_ranking(labeler, labeler2, prompt):
    other = ranking_save(prompt=prompt, annotator=labeler2, tiers=[[0], [1]], status="submitted")
    mine = ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]], status="submitted")
    client = client_for(labeler)
    assert client.get(f"/api/rankings/{other.id}/").status_code == 404
    assert client.put(f"/api/rankings/{other.id}/", {"rankings": [0, 1, 2, 3], "version": 1}, format="json").status_code == 404
    listed = client.get("/api/rankings/", {"prompt": prompt.id}).json()["results"]
    assert [r["id"] for r in listed] == [mine.id]
    assert client.get("/api/rankings/", {"annotator": "lab2"}).json()["results"] == []
    other.refresh_from_db()
    assert other.tiers == [[0], [1]]


def test_reviewer_reads_every_ranking_but_cannot_change_others(reviewer, labeler, labeler2, prompt):
    first = ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]], status="submitted")
    ranking_save(prompt=prompt, annotator=labeler2, tiers=[[1], [0]], status="submitted")
    client = client_for(reviewer)
    body = client.get("/api/rankings/", {"project": prompt.project.slug}).json()
    assert body["count"] == 2
    assert client.get(f"/api/rankings/{first.id}/").json()["annotator"] == "lab1"
    assert client.put(f"/api/rankings/{first.id}/", {"rankings": [0, 1, 2, 3], "version": 1}, format="json").status_code == 403


def test_skipping_needs_no_ranking(labeler, prompt):
    response = client_for(labeler).post(
        "/api/rankings/", {"prompt": prompt.id, "status": "skipped", "skip_reason": "unclear", "version": 0}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "skipped" and response.json()["tiers"] == []


def test_token_authentication_works(labeler, prompt):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=labeler)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/rankings/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/rankings/").status_code in (401, 403)
