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
    from ranking_app.exchange.imports import import_file

    report = import_file(file=output, slug="seed")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


ARCHITECTURE_EXAMPLE = {  # the seed document's example as given: no id
    "prompt": "Explain how transformers work.",
    "responses": ["...", "...", "...", "..."],
    "rankings": [0, 1, 2, 3],
}


def test_a_record_without_id_gets_a_stable_id_and_round_trips(tmp_path):
    from ranking_app.exchange.imports import import_file

    source = write_jsonl(tmp_path / "seed.jsonl", [ARCHITECTURE_EXAMPLE, {**ARCHITECTURE_EXAMPLE, "prompt": "Other?"}])
    call_command("import_rankings", str(source), "--project", "seed", "--create")
    again = import_file(file=source, slug="seed")
    output = tmp_path / "out.jsonl"
    call_command("export_rankings", "--project", "seed", "--format", "jsonl", "--output", str(output))

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    exported = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    first = next(r for r in exported if r["prompt"] == ARCHITECTURE_EXAMPLE["prompt"])
    assert {key: first[key] for key in ARCHITECTURE_EXAMPLE} == ARCHITECTURE_EXAMPLE
    assert first["id"].startswith("sha256-") and len({r["id"] for r in exported}) == 2
    assert import_file(file=output, slug="seed").unchanged == 2
