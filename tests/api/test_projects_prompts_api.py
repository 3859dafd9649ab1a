"""/api/projects/ and prompts."""

import pytest

from ranking_app.models import Project

from .conftest import client_for

pytestmark = pytest.mark.django_db


def test_projects_list_and_detail(labeler, project):
    client = client_for(labeler)
    listed = client.get("/api/projects/").json()
    assert listed["count"] == 1 and listed["results"][0]["slug"] == "demo" and listed["results"][0]["n_prompts"] == 3
    detail = client.get("/api/projects/demo/").json()
    assert detail["allow_ties"] is True and detail["target_annotators"] == 3
    assert client.get("/api/projects/nope/").status_code == 404


def test_only_admins_create_projects(labeler, admin_user):
    payload = {"slug": "new", "name": "New", "allow_ties": False, "target_annotators": 2}
    assert client_for(labeler).post("/api/projects/", payload, format="json").status_code == 403
    response = client_for(admin_user).post("/api/projects/", payload, format="json")
    assert response.status_code == 201 and response.json()["allow_ties"] is False
    assert Project.objects.get(slug="new").created_by == admin_user
    again = client_for(admin_user).post("/api/projects/", payload, format="json")
    assert again.status_code == 409 and "slug" in again.json()  # a taken slug: a conflict, not bad input
    bad = client_for(admin_user).post("/api/projects/", {"slug": "x", "name": "X", "agreement_threshold": 2}, format="json")
    assert bad.status_code == 400 and "agreement_threshold" in bad.json()


def test_prompts_come_with_their_responses_in_order(labeler, project):
    client = client_for(labeler)
    body = client.get("/api/projects/demo/prompts/", {"limit": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    first = body["results"][0]
    assert first["external_id"] == "p-000" and first["project"] == "demo"
    assert [r["position"] for r in first["responses"]] == [0, 1, 2, 3]
    detail = client.get(f"/api/prompts/{first['id']}/").json()
    assert detail["responses"][2]["text"] == "Answer 2 to prompt 0"
    assert client.get("/api/projects/nope/prompts/").status_code == 404
    assert client.get("/api/prompts/999999/").status_code == 404


def test_prompt_list_does_not_query_per_prompt(labeler, project, django_assert_max_num_queries):
    client = client_for(labeler)
    with django_assert_max_num_queries(8):
        client.get("/api/projects/demo/prompts/")
