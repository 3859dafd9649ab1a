"""The API keeps the labeling pages' rules: the queue (lease and target) and blind labeling."""

import pytest

from ranking_app.labeling.assignments import assignment_claim
from ranking_app.models import Assignment, Ranking, RankingRevision
from ranking_app.models import Response as ResponseModel
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def single():
    """A project whose prompts want one submitted ranking each."""
    return make_project(slug="single", n_prompts=2, target_annotators=1)


def post(user, prompt, **fields):
    body = {"prompt": prompt.id, "rankings": [0, 1, 2, 3], "version": 0, **fields}
    return client_for(user).post("/api/rankings/", body, format="json")


def test_a_prompt_at_its_target_is_refused_and_nothing_is_stored(labeler, labeler2, single):
    prompt = single.prompts.first()
    ranking_save(prompt=prompt, annotator=labeler2, tiers=[[0], [1]], status="submitted")
    for status in ("submitted", "draft", "skipped"):
        response = post(labeler, prompt, status=status, skip_reason="unclear")
        assert response.status_code == 403, (status, response.json())
        assert "already has all the rankings it needs" in response.json()["detail"]
    assert not Ranking.objects.filter(annotator=labeler).exists()
    assert not RankingRevision.objects.filter(changed_by=labeler).exists()
    assert not Assignment.objects.filter(annotator=labeler).exists()


def test_a_prompt_whose_last_slot_is_leased_to_someone_else_is_refused(labeler, labeler2, single):
    prompt = single.prompts.first()
    assignment_claim(prompt=prompt, annotator=labeler2)
    assert post(labeler, prompt).status_code == 403
    assert not Ranking.objects.filter(annotator=labeler).exists()
    # The lease holder submits through the API; that frees the lease and fills the prompt.
    assert post(labeler2, prompt).status_code == 201
    assert not Assignment.objects.exists()
    assert post(labeler, prompt).status_code == 403
    assert Ranking.objects.filter(prompt=prompt, status="submitted").count() == 1


def test_an_api_submit_takes_the_slot_the_queue_would_give(labeler, labeler2, single):
    prompt = single.prompts.first()
    assert post(labeler, prompt).status_code == 201
    assert post(labeler2, prompt).status_code == 403
    assert Ranking.objects.filter(prompt=prompt).count() == 1


def test_changing_ones_own_submitted_ranking_needs_no_free_slot(labeler, single):
    prompt = single.prompts.first()
    created = post(labeler, prompt).json()  # the prompt is now at its target
    changed = client_for(labeler).put(f"/api/rankings/{created['id']}/", {"tiers": [[3], [2]], "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["version"] == 2


def test_a_submitted_ranking_cannot_become_a_draft_or_a_skip(labeler, project):
    prompt = project.prompts.first()
    created = post(labeler, prompt).json()
    client = client_for(labeler)
    url = f"/api/rankings/{created['id']}/"
    draft = client.put(url, {"tiers": [[1], [0]], "status": "draft", "version": 1}, format="json")
    assert draft.status_code == 409 and "already submitted" in draft.json()["detail"]
    assert draft.json()["current_version"] == 1 and draft.json()["current"]["status"] == "submitted"
    skip = client.put(url, {"status": "skipped", "skip_reason": "bored", "version": 1}, format="json")
    assert skip.status_code == 409 and "cannot be skipped" in skip.json()["detail"]
    ranking = Ranking.objects.get(pk=created["id"])
    assert (ranking.status, ranking.version, ranking.tiers) == ("submitted", 1, [[0], [1], [2], [3]])


def test_a_skip_needs_a_reason(labeler, project):
    response = post(labeler, project.prompts.first(), status="skipped", skip_reason="  ")
    assert response.status_code == 400 and response.json() == {"skip_reason": ["say why you are skipping this prompt"]}
    assert not Ranking.objects.exists()


def test_an_api_draft_keeps_the_lease_and_a_submit_frees_it(labeler, project):
    prompt = project.prompts.first()
    draft = post(labeler, prompt, status="draft", rankings=[0, None, None, None])
    assert draft.status_code == 201 and draft.json()["status"] == "draft"
    assert Assignment.objects.filter(prompt=prompt, annotator=labeler).exists()
    done = client_for(labeler).put(f"/api/rankings/{draft.json()['id']}/", {"tiers": [[0], [1]], "version": 1}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    assert not Assignment.objects.filter(prompt=prompt, annotator=labeler).exists()


def test_an_invalid_api_submit_stores_nothing(labeler, project):
    response = post(labeler, project.prompts.first(), rankings=[0, None, None, None])
    assert response.status_code == 400 and "at least 2" in response.json()["rankings"][0]
    assert not Ranking.objects.exists()


@pytest.fixture
def sourced(project):
    ResponseModel.objects.filter(prompt__project=project).update(source="AI-generated", metadata={"model": "m1"})
    project.prompts.update(metadata={"source_model": "m1"})
    return project


def test_labelers_read_prompts_blind(labeler, sourced):
    client = client_for(labeler)
    listed = client.get(f"/api/projects/{sourced.slug}/prompts/").json()["results"]
    prompt = listed[0]
    detail = client.get(f"/api/prompts/{prompt['id']}/").json()
    for body in (prompt, detail):
        assert body["metadata"] == {} and body["responses"][0]["text"]
        assert {(r["source"], str(r["metadata"])) for r in body["responses"]} == {("", "{}")}
    assert "AI-generated" not in str(listed) and "m1" not in str(detail)


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_reviewers_and_admins_see_sources_and_metadata(role, sourced):
    client = client_for(make_user(f"{role}-x", role))
    listed = client.get(f"/api/projects/{sourced.slug}/prompts/").json()["results"]
    detail = client.get(f"/api/prompts/{listed[0]['id']}/").json()
    for body in (listed[0], detail):
        assert body["metadata"] == {"source_model": "m1"}
        assert body["responses"][0]["source"] == "AI-generated" and body["responses"][0]["metadata"] == {"model": "m1"}


def test_labelers_never_read_other_annotators_rankings(labeler, labeler2, project):
    prompt = project.prompts.first()
    ranking_save(prompt=prompt, annotator=labeler2, tiers=[[1], [0]], status="submitted")
    client = client_for(labeler)
    assert client.get("/api/rankings/", {"prompt": prompt.id}).json()["count"] == 0
    assert client.get("/api/rankings/", {"project": project.slug}).json()["count"] == 0
    assert "lab2" not in str(client.get(f"/api/prompts/{prompt.id}/").json())
    assert client.get(f"/api/projects/{project.slug}/agreement/").status_code == 403
