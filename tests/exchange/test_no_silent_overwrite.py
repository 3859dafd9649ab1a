"""Re-importing an old export never silently reverts what a person changed afterwards (issue 13, 4)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ranking_app.exchange.imports import rankings_import
from ranking_app.exchange.jsonl import ExchangeError
from ranking_app.models import Ranking
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def record(ranks, annotator="alice"):
    return {"id": "p-000", "prompt": "Prompt 0?", "responses": [f"Answer {i} to prompt 0" for i in range(4)],
            "annotations": [{"annotator": annotator, "rankings": ranks}]}


@pytest.fixture
def edited(db):
    """alice's ranking imported (version 1), then changed by alice in the app (version 2)."""
    project = make_project("ow", n_prompts=1)
    alice = make_user("alice", "labeler")
    rankings_import(project=project, records=[record([1, 2, 3, 4])])
    prompt = project.prompts.get()
    ranking = ranking_save(prompt=prompt, annotator=alice, tiers=[[3], [2], [1], [0]], status="submitted",
                           expected_version=1)
    assert (ranking.version, ranking.source) == (2, "ui")
    return project, ranking


def test_reimporting_the_old_export_is_refused_naming_the_record_and_annotator(edited):
    project, ranking = edited
    with pytest.raises(ExchangeError) as error:
        rankings_import(project=project, records=[record([1, 2, 3, 4])])
    [line] = error.value.errors
    assert line.startswith("record 1 (id p-000): annotator alice: their ranking (version 2, saved in the app via ui)")
    assert "--overwrite" in line
    ranking.refresh_from_db()
    assert (ranking.version, ranking.tiers) == (2, [[3], [2], [1], [0]])


def test_overwrite_replaces_it_reports_it_and_keeps_both_revisions(edited):
    project, ranking = edited
    report = rankings_import(project=project, records=[record([1, 2, 3, 4])], overwrite=True)
    assert report.overwritten == [
        "record 1 (id p-000): annotator alice: their ranking (version 2, saved in the app via ui) differs from the file's"
    ]
    assert "overwrote 1 ranking(s) people had changed" in str(report)
    ranking.refresh_from_db()
    assert (ranking.version, ranking.source, ranking.tiers) == (3, "import:import", [[0], [1], [2], [3]])
    history = list(ranking.revisions.order_by("version").values_list("version", "source", "tiers"))
    assert history == [(1, "import:import", [[0], [1], [2], [3]]), (2, "ui", [[3], [2], [1], [0]]),
                       (3, "import:import", [[0], [1], [2], [3]])]


def test_a_file_that_matches_the_edit_or_only_touches_imported_rankings_passes(edited):
    project, _ = edited
    assert rankings_import(project=project, records=[record([4, 3, 2, 1])]).overwritten == []
    report = rankings_import(project=project, records=[record([1, 2, 3, 4], annotator="bob")])
    assert report.rankings_saved == 1 and report.overwritten == []
    report = rankings_import(project=project, records=[record([2, 1, 3, 4], annotator="bob")])
    assert report.rankings_saved == 1  # bob's ranking came from an import: re-importing may change it


def test_a_draft_in_progress_is_protected_too(db):
    project = make_project("dr", n_prompts=1)
    alice = make_user("alice", "labeler")
    ranking_save(prompt=project.prompts.get(), annotator=alice, tiers=[[1]], status="draft")
    with pytest.raises(ExchangeError, match="annotator alice: their ranking .version 1, saved in the app via ui"):
        rankings_import(project=project, records=[record([1, 2, 3, 4])])


def test_command_refuses_then_overwrites_with_the_flag(edited, tmp_path):
    project, ranking = edited
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(record([1, 2, 3, 4])) + "\n")
    with pytest.raises(CommandError, match="annotator alice"):
        call_command("import_rankings", str(path), "--project", project.slug)
    out = io.StringIO()
    call_command("import_rankings", str(path), "--project", project.slug, "--overwrite", stdout=out)
    assert "overwrote 1 ranking(s)" in out.getvalue()
    assert Ranking.objects.get(pk=ranking.pk).version == 3


def test_api_and_upload_page_take_the_overwrite_flag(edited, admin_user, client):
    from rest_framework.test import APIClient

    project, ranking = edited
    api = APIClient()
    api.force_authenticate(admin_user)
    url = f"/api/projects/{project.slug}/import/"
    refused = api.post(url, {"records": [record([1, 2, 3, 4])]}, format="json")
    assert refused.status_code == 400 and "annotator alice" in refused.json()["errors"][0]
    done = api.post(url, {"records": [record([1, 2, 3, 4])], "overwrite": True}, format="json")
    assert done.status_code == 200 and len(done.json()["overwritten"]) == 1
    ranking_save(prompt=ranking.prompt, annotator=ranking.annotator, tiers=[[1], [0]], status="submitted")
    client.force_login(admin_user)
    upload = io.BytesIO(json.dumps([record([1, 2, 3, 4])]).encode())
    upload.name = "old.json"
    page = client.post(f"/data/projects/{project.slug}/import/", {"file": upload, "source": "import"})
    assert page.status_code == 400 and "annotator alice" in page.content.decode()
    upload.seek(0)
    page = client.post(f"/data/projects/{project.slug}/import/", {"file": upload, "source": "import", "overwrite": "on"})
    assert page.status_code == 302
    assert Ranking.objects.get(pk=ranking.pk).source == "import:import"
