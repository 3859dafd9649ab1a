"""Done-when check: import the seed's example record, export JSONL, get it back exactly; a "validation"
split survives the import (command and upload form) and the export, and the engine validates on it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from ranking_app.models import Project, Prompt
from training.engine.records import load_records, train_validation_split

from .conftest import SEED_RECORD, record, write_jsonl

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


def test_a_validation_split_round_trips_and_is_what_the_engine_validates_on(tmp_path):
    records = [record("t1"), record("t2"), record("v1", split="validation"), record("h1", split="test")]
    call_command("import_rankings", str(write_jsonl(tmp_path / "in.jsonl", records)), "--project", "val", "--create")
    assert dict(Prompt.objects.values_list("external_id", "split")) == {
        "t1": "train", "t2": "train", "v1": "validation", "h1": "test"}  # fmt: skip
    output = tmp_path / "out.jsonl"
    call_command("export_rankings", "--project", "val", "--format", "jsonl", "--all", "--output", str(output))
    exported = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert {r["id"]: r["split"] for r in exported} == {"t1": "train", "t2": "train", "v1": "validation", "h1": "test"}

    train, validation, report = train_validation_split(load_records(output), fraction=0.5)
    assert [r["id"] for r in validation] == ["v1"] and sorted(r["id"] for r in train) == ["t1", "t2"]
    assert report["validation_source"] == "data"
    hf = tmp_path / "hf"
    call_command("export_rankings", "--project", "val", "--format", "hf", "--all", "--output", str(hf))
    assert (hf / "validation").is_dir() and (hf / "train").is_dir() and (hf / "test").is_dir()


def test_the_upload_form_keeps_a_validation_split(client, admin_user):
    client.force_login(admin_user)
    project = Project.objects.create(name="Upload", slug="upload")
    body = "".join(json.dumps(r) + "\n" for r in [record("v", split="validation"), record("t")]).encode()
    response = client.post(reverse("exchange:project_import", args=[project.slug]),
                           {"file": SimpleUploadedFile("v.jsonl", body)})
    assert response.status_code in (200, 302)
    assert dict(project.prompts.values_list("external_id", "split")) == {"v": "validation", "t": "train"}
