"""The admin import / export page at /data/projects/<slug>/."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ranking_app.models import ExportSnapshot, Prompt

from .conftest import db_state, record

pytestmark = pytest.mark.django_db


def upload(name, records):
    return SimpleUploadedFile(name, "".join(json.dumps(r) + "\n" for r in records).encode())


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_page_is_for_admins_only(client, labeler, reviewer, project):
    url = reverse("exchange:project_data", args=[project.slug])
    assert client.get(url).status_code == 302  # to the login page
    for user in (labeler, reviewer):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(reverse("exchange:project_import", args=[project.slug])).status_code == 403
        assert client.post(reverse("exchange:project_export", args=[project.slug]), {"format": "json"}).status_code == 403


def test_page_shows_how_many_prompts_each_export_scope_holds(admin_client, project):
    admin_client.post(reverse("exchange:project_import", args=[project.slug]), {"file": upload("x.jsonl", [record("r")])})
    page = admin_client.get(reverse("exchange:project_data", args=[project.slug])).content.decode()
    assert "validated only (0)" in page and "all prompts (4)" in page  # target 3 annotators: not validated yet


def test_project_page_links_to_the_exchange_page_for_admins(admin_client, project):
    page = admin_client.get(reverse("project_detail", args=[project.slug])).content.decode()
    assert reverse("exchange:project_data", args=[project.slug]) in page


def test_upload_imports_and_reports_counts(admin_client, project):
    response = admin_client.post(
        reverse("exchange:project_import", args=[project.slug]),
        {"file": upload("new.jsonl", [record("n-1"), record("n-2")]), "source": "team"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Imported new.jsonl: 2 created, 0 updated, 0 unchanged" in response.content.decode()
    assert Prompt.objects.get(external_id="n-1").rankings.get().annotator.username == "team"


def test_bad_upload_lists_every_problem_and_changes_nothing(admin_client, project):
    before = db_state()
    response = admin_client.post(
        reverse("exchange:project_import", args=[project.slug]),
        {"file": upload("bad.jsonl", [record("a", split="dev"), record("b", rankings=[0, 1])])},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in page and "bad.jsonl" in page
    assert "record 1 (id a): split:" in page and "record 2 (id b): rankings: has 2 entries" in page
    assert db_state() == before


def test_missing_file_is_a_clear_error(admin_client, project):
    response = admin_client.post(reverse("exchange:project_import", args=[project.slug]), {})
    assert response.status_code == 400 and "choose a JSON or JSONL file" in response.content.decode()


def test_export_button_creates_a_snapshot_listed_with_a_download_link(admin_client, project, admin_user):
    admin_client.post(reverse("exchange:project_import", args=[project.slug]), {"file": upload("x.jsonl", [record("r")])})
    response = admin_client.post(
        reverse("exchange:project_export", args=[project.slug]), {"format": "pairs", "scope": "all"}, follow=True
    )
    snapshot = ExportSnapshot.objects.get()
    assert snapshot.format == "pairs" and snapshot.filters == {"validated_only": False} and snapshot.created_by == admin_user
    page = response.content.decode()
    download = reverse("exchange:export_download", args=[snapshot.pk])
    assert download in page and snapshot.sha256[:12] in page
    file = admin_client.get(download)
    assert file.status_code == 200 and b'"chosen"' in b"".join(file.streaming_content)


def test_unknown_export_format_is_reported(admin_client, project):
    response = admin_client.post(reverse("exchange:project_export", args=[project.slug]), {"format": "xml"}, follow=True)
    assert "format: must be one of" in response.content.decode()
    assert not ExportSnapshot.objects.exists()


def test_upload_of_a_label_studio_export_with_its_labeling_config(admin_client, project):
    task = {"id": 4, "data": {"prompt": "Which?", "items": [{"id": "a", "body": "A"}, {"id": "b", "body": "B"}]},
            "annotations": [{"completed_by": 3, "result": [{"from_name": "r", "type": "ranker", "value": {"ranker": {"bad": ["a"], "good": ["b"]}}}]}]}
    config = SimpleUploadedFile("config.xml", b'<View><Ranker name="r" toName="l"><Bucket name="good"/><Bucket name="bad"/></Ranker></View>')
    url = reverse("exchange:project_import", args=[project.slug])

    response = admin_client.post(url, {"file": upload("ls.json", [task]), "import_format": "label-studio", "label_config": config})

    assert response.status_code == 302
    assert Prompt.objects.get(external_id="ls-4").rankings.get().tiers == [[1], [0]]
    page = admin_client.post(url, {"file": upload("ls.json", [task]), "import_format": "auto"}).content.decode()
    assert "have no known order: pass --label-config or --buckets" in page
