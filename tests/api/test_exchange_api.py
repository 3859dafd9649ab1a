"""/api/projects/<slug>/import/ and exports: admins only, counts or every record error, downloads."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ranking_app.models import ExportSnapshot, Prompt
from tests.exchange.conftest import db_state, record

from .conftest import client_for

pytestmark = pytest.mark.django_db


def jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_import_by_json_body_reports_counts_and_is_idempotent(admin_user, project):
    client = client_for(admin_user)
    payload = {"records": [record("new-1"), record("new-2")], "source": "vendor"}
    first = client.post("/api/projects/demo/import/", payload, format="json")
    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0, "rankings_saved": 2, "users_created": ["vendor"]}
    again = client.post("/api/projects/demo/import/", payload, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_import_accepts_a_bare_json_array(admin_user, project):
    response = client_for(admin_user).post("/api/projects/demo/import/", [record("x")], format="json")
    assert response.status_code == 200 and response.json()["created"] == 1


def test_import_by_multipart_upload(admin_user, project):
    upload = SimpleUploadedFile("data.jsonl", jsonl([record("up-1")]), content_type="application/jsonl")
    response = client_for(admin_user).post("/api/projects/demo/import/", {"file": upload, "source": "up"}, format="multipart")
    assert response.status_code == 200, response.json()
    assert Prompt.objects.get(external_id="up-1").rankings.get().annotator.username == "up"


def test_bad_import_is_400_listing_every_record_and_changes_nothing(admin_user, project):
    before = db_state()
    upload = SimpleUploadedFile("bad.jsonl", jsonl([record("a", rankings=[0]), record("b"), record("a")]))
    response = client_for(admin_user).post("/api/projects/demo/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "record 1 (id a): rankings: has 1 entries but there are 4 responses",
        "record 3 (id a): id: duplicate of record 1 in this file",
    ]
    assert db_state() == before


def test_malformed_upload_reports_the_line(admin_user, project):
    upload = SimpleUploadedFile("bad.jsonl", b'{"id": "a"}\n{oops\n')
    response = client_for(admin_user).post("/api/projects/demo/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0].startswith("line 2: malformed JSON")


def test_oversize_upload_is_rejected(admin_user, project, settings):
    settings.IMPORT_MAX_FILE_BYTES = 50
    upload = SimpleUploadedFile("big.jsonl", jsonl([record("a")]))
    response = client_for(admin_user).post("/api/projects/demo/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "too big" in response.json()["errors"][0]


def test_import_and_export_are_for_admins_only(labeler, reviewer, project):
    for user in (labeler, reviewer):
        client = client_for(user)
        assert client.post("/api/projects/demo/import/", [record("x")], format="json").status_code == 403
        assert client.get("/api/projects/demo/exports/").status_code == 403
        assert client.post("/api/projects/demo/exports/", {"format": "json"}, format="json").status_code == 403
    assert not Prompt.objects.filter(external_id="x").exists()


def test_export_create_list_and_download(admin_user, project):
    client = client_for(admin_user)
    client.post("/api/projects/demo/import/", [record("r-1"), record("r-2", split="test")], format="json")
    created = client.post("/api/projects/demo/exports/", {"format": "jsonl", "validated_only": False}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["format"] == "jsonl" and body["filters"] == {"validated_only": False} and body["created_by"] == "adm1"
    assert body["counts"]["prompts"] == 5 and len(body["sha256"]) == 64
    listed = client.get("/api/projects/demo/exports/").json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]
    assert client.get(f"/api/exports/{body['id']}/").json()["sha256"] == body["sha256"]
    download = client.get(body["download_url"])
    assert download.status_code == 200
    content = b"".join(download.streaming_content)
    assert [json.loads(line)["id"] for line in content.decode().splitlines()] == ["p-000", "p-001", "p-002", "r-1", "r-2"]
    import hashlib

    assert hashlib.sha256(content).hexdigest() == body["sha256"]


def test_export_rejects_an_unknown_format(admin_user, project):
    response = client_for(admin_user).post("/api/projects/demo/exports/", {"format": "csv"}, format="json")
    assert response.status_code == 400 and "format" in response.json()
    assert not ExportSnapshot.objects.exists()


def test_hf_export_downloads_as_a_zip(admin_user, project):
    client = client_for(admin_user)
    client.post("/api/projects/demo/import/", [record("r-1")], format="json")
    body = client.post("/api/projects/demo/exports/", {"format": "hf"}, format="json").json()
    download = client.get(body["download_url"])
    assert download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert any(n.endswith("dataset_dict.json") for n in names) and any("/train/" in n for n in names)


def test_missing_snapshot_and_file_are_404(admin_user, project, export_dir):
    client = client_for(admin_user)
    assert client.get("/api/exports/999/download/").status_code == 404
    body = client.post("/api/projects/demo/exports/", {"format": "json", "validated_only": False}, format="json").json()
    (export_dir / body["path"]).unlink()
    assert client.get(body["download_url"]).status_code == 404


def test_oversize_json_body_is_rejected_before_parsing(admin_user, project, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    response = client_for(admin_user).post("/api/projects/demo/import/", [record("a"), record("b")], format="json")
    assert response.status_code == 400 and "too big" in response.json()["errors"][0]
    assert not Prompt.objects.filter(external_id="a").exists()


def test_import_of_trl_pairs_by_json_body_and_an_unknown_format(admin_user, project):
    client = client_for(admin_user)
    pairs = [{"prompt": "Q?", "chosen": "a", "rejected": "b"}, {"prompt": "Q?", "chosen": "b", "rejected": "c"}]

    response = client.post("/api/projects/demo/import/", {"records": pairs, "format": "trl"}, format="json")

    assert response.status_code == 200, response.json()
    assert Prompt.objects.get(text="Q?").rankings.get().tiers == [[0], [1], [2]]
    unknown = client.post("/api/projects/demo/import/", [{"q": 1}], format="json")
    assert unknown.status_code == 400 and "format: not recognised" in unknown.json()["errors"][0]
