"""Issue 13, "What broke" 4: every bad input is a 4xx naming the problem, never a 500, and changes nothing."""

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from ranking_app.models import Prompt, Ranking
from ranking_app.safe_json import MAX_DEPTH

from .conftest import client_for

pytestmark = pytest.mark.django_db
DEEP = "[" * 100_000 + "]" * 100_000


def record(**fields):
    return {"id": "r1", "prompt": "Which?", "responses": ["a", "b"], **fields}


def nested(depth: int):
    value: dict = {}
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.fixture
def admin(admin_user):
    client = client_for(admin_user)
    client.raise_request_exception = False
    return client


def test_json_nested_100000_deep_on_the_rankings_api_is_a_400(admin, project):
    reply = admin.post("/api/rankings/", DEEP, content_type="application/json")
    assert reply.status_code == 400
    assert f"nested deeper than {MAX_DEPTH} levels" in reply.json()["detail"]


@pytest.mark.parametrize("body", [DEEP, json.dumps({"records": [record(metadata=nested(500))]})], ids=["deep", "meta"])
def test_deep_json_on_the_import_api_is_a_400(admin, project, body):
    before = Prompt.objects.count()
    reply = admin.post(f"/api/projects/{project.slug}/import/", body, content_type="application/json")
    assert reply.status_code == 400
    assert "nested deeper than" in json.dumps(reply.json())
    assert Prompt.objects.count() == before


@pytest.mark.parametrize("text", [DEEP, json.dumps([record(metadata=nested(500))]), json.dumps(record(metadata=nested(500)))],
                         ids=["deep-array", "deep-metadata", "single-object"])
def test_deep_json_in_an_import_file_is_refused_by_the_upload_api(admin, project, text):
    upload = io.BytesIO(text.encode())
    upload.name = "deep.json"
    reply = admin.post(f"/api/projects/{project.slug}/import/", {"file": upload}, format="multipart")
    assert reply.status_code == 400
    assert "nested deeper than" in reply.json()["errors"][0]


def test_deep_jsonl_line_is_named_by_the_import_command(project, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(record()) + "\n" + DEEP + "\n")
    with pytest.raises(Exception, match="line 2: nested deeper than"):
        call_command("import_rankings", str(path), "--project", project.slug)


def test_metadata_500_deep_is_never_stored_so_exports_keep_working(admin, project):
    reply = admin.post(f"/api/projects/{project.slug}/import/", [record(metadata=nested(500))], format="json")
    assert reply.status_code == 400
    assert not Prompt.objects.filter(external_id="r1").exists()
    assert admin.post(f"/api/projects/{project.slug}/exports/", {"format": "json"}, format="json").status_code == 201


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00", "\x1b[31m"], ids=["lead", "trail", "nul", "escape"])
def test_a_prompt_with_a_lone_surrogate_or_control_character_is_a_400(admin, project, bad):
    body = json.dumps({"records": [record(prompt=f"Which{bad}?")]})  # ensure_ascii keeps the surrogate as \\ud800
    reply = admin.post(f"/api/projects/{project.slug}/import/", body, content_type="application/json")
    assert reply.status_code == 400
    assert "records[0].prompt: contains a" in reply.json()["detail"]
    assert not Prompt.objects.filter(external_id="r1").exists()


def test_a_lone_surrogate_in_an_import_file_names_the_record(admin, project):
    upload = io.BytesIO(json.dumps([record(id="x\ud800", responses=["a", "b\ud800"])]).encode())
    upload.name = "bad.json"
    reply = admin.post(f"/api/projects/{project.slug}/import/", {"file": upload}, format="multipart")
    assert reply.status_code == 400
    assert reply.json()["errors"] == ["record 1 (id x\\ud800): id: contains a lone surrogate (U+D800) at position 1"]


def test_tabs_and_newlines_stay_allowed(admin, project):
    reply = admin.post(f"/api/projects/{project.slug}/import/", [record(prompt="a\tb\r\nc")], format="json")
    assert reply.status_code == 200, reply.content
    assert Prompt.objects.get(external_id="r1").text == "a\tb\r\nc"


@pytest.mark.parametrize("value", ["10000000000000000000000", "²", "-1", "1.5", "", "١"])
def test_rankings_prompt_filter_must_be_a_plain_integer(admin, project, value):
    reply = admin.get("/api/rankings/", {"prompt": value})
    assert reply.status_code == 400
    assert "prompt" in reply.json() and "whole number" in reply.json()["prompt"][0]


@pytest.mark.parametrize("url", ["/api/projects/", "/api/rankings/", "/api/projects/demo/prompts/",
                                 "/api/projects/demo/exports/", "/api/jobs/"])
@pytest.mark.parametrize("query", ["limit=10000000000000000000000", "offset=10000000000000000000000"])
def test_limit_and_offset_are_clamped_on_list_endpoints(admin, project, url, query):
    reply = admin.get(f"{url}?{query}")
    assert reply.status_code == 200, reply.content
    assert len(reply.json()["results"]) <= 1000


@pytest.mark.parametrize("query", ["limit=²", "offset=-1", "limit=1&limit=2", "offset=x"])
def test_limit_and_offset_that_are_not_one_plain_number_are_a_400(admin, project, query):
    reply = admin.get(f"/api/projects/?{query}")
    assert reply.status_code == 400
    assert "whole number" in str(reply.json()) or "more than once" in str(reply.json())


def test_huge_ids_in_urls_are_404(admin, project):
    for url in ("/api/rankings/10000000000000000000000/", "/api/prompts/10000000000000000000000/",
                "/api/jobs/10000000000000000000000/", "/api/exports/10000000000000000000000/"):
        assert admin.get(url).status_code == 404, url


def test_a_bad_token_is_a_401_with_a_challenge(project):
    reply = APIClient().get("/api/projects/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert reply.status_code == 401
    assert reply["WWW-Authenticate"] == "Token"
    assert reply.json() == {"detail": "Invalid token."}


def test_labeling_form_numbers_must_be_ascii(client, labeler, project):
    client.force_login(labeler)
    prompt = project.prompts.first()
    client.get(f"/label/{project.slug}/p/{prompt.pk}/")
    for version in ("²", "10000000000000000000000"):
        reply = client.post(f"/label/{project.slug}/p/{prompt.pk}/save/", {"version": version, "elapsed_ms": "²"})
        assert reply.status_code == 400
        assert "version must be a whole number" in reply.content.decode()
    assert not Ranking.objects.exists()


@pytest.mark.parametrize("prompt", [10**22, "1", True, 1.5])
def test_ranking_for_a_prompt_id_of_the_wrong_type_or_range_is_a_400(admin, project, prompt):
    reply = admin.post("/api/rankings/", {"prompt": prompt, "rankings": [1, 2, 3, 4]}, format="json")
    assert reply.status_code == 400, reply.content
    assert "prompt" in reply.json()


def test_an_export_without_a_creator_matches_the_schema(admin, project, tmp_path):
    from ranking_app.exchange.exports import export_create

    snapshot = export_create(project=project, created_by=None, format="json")
    body = admin.get(f"/api/exports/{snapshot.pk}/").json()
    assert body["created_by"] is None
    schema = admin.get("/api/schema/?format=json").json()
    created_by = schema["components"]["schemas"]["ExportOutput"]["properties"]["created_by"]
    assert created_by["type"] == ["string", "null"]  # OpenAPI 3.1


def test_a_json_body_over_the_size_limit_is_a_json_400(admin, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    reply = admin.post("/api/rankings/", {"prompt": 1, "rankings": [1] * 500}, format="json")
    assert reply.status_code == 400
    assert reply.json() == {"detail": "request body over the limit of 1,000 bytes (send big imports as a multipart file)"}


def test_control_characters_in_forms_and_query_strings_are_refused_before_any_view(client, labeler, project):
    client.force_login(labeler)
    prompt = project.prompts.first()
    reply = client.post(f"/label/{project.slug}/p/{prompt.pk}/submit/",
                        {"action": "skip", "skip_reason": "other", "skip_detail": "bad\x00byte", "version": "0"})
    assert reply.status_code == 400
    assert "'skip_detail': contains a control character (U+0000) at position 3" in reply.content.decode()
    assert not Ranking.objects.exists()
    api = client.get("/api/rankings/", {"project": "x\x1b"})
    assert api.status_code == 400 and "control character" in api.json()["detail"]
