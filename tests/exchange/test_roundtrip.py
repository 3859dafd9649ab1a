"""Done-when check: import the seed's example record, export JSONL, get it back exactly."""

import json

import pytest
from django.core.management import call_command

from .conftest import SEED_RECORD, write_jsonl

pytestmark = pytest.mark.django_db

EXPORT_ADDS = {"annotations", "agreement"}


def test_seed_record_round_trips_through_import_and_jsonl_export(tmp_path):
    source = write_jsonl(tmp_path / "seed.jsonl", [SEED_RECORD])
    call_command("import_rankings", str(source), "--project", "seed", "--create")
    output = tmp_path / "out.jsonl"
    call_command("export_rankings", "--project", "seed", "--format", "jsonl", "--output", str(output))

    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    exported = json.loads(lines[0])
    assert {key: exported[key] for key in SEED_RECORD} == SEED_RECORD
    assert set(exported) - set(SEED_RECORD) == EXPORT_ADDS
    assert exported["annotations"] == [{"annotator": "import", "rankings": [0, 1, 2, 3]}]
    assert exported["agreement"]["n_annotators"] == 1


def test_reimporting_an_export_changes_nothing(tmp_path):
    source = write_jsonl(tmp_path / "seed.jsonl", [SEED_RECORD])
    call_command("import_rankings", str(source), "--project", "seed", "--create")
    output = tmp_path / "out.jsonl"
    call_command("export_rankings", "--project", "seed", "--format", "jsonl", "--output", str(output))
    from ranking_app.services.imports import project_import_file

    report = project_import_file(path=output, slug="seed")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
