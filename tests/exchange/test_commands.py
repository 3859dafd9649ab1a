"""import_rankings and export_rankings management commands."""

import json

import pytest
from django.core.management import CommandError, call_command

from ranking_app.models import ExportSnapshot, Project, Prompt

from .conftest import db_state, record, write_jsonl

pytestmark = pytest.mark.django_db


def test_import_command_reports_counts(tmp_path, capsys):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a"), record("b")])
    call_command("import_rankings", str(path), "--project", "cmd", "--create", "--source", "vendor")
    assert "imported into cmd: 2 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    call_command("import_rankings", str(path), "--project", "cmd", "--source", "vendor")
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    project = Project.objects.get(slug="cmd")
    assert project.target_annotators == 1 and project.allow_ties and project.allow_partial


def test_import_command_create_flags(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a")])
    call_command(
        "import_rankings", str(path), "--project", "strict", "--create", "--no-ties", "--no-partial",
        "--target-annotators", "3",
    )
    project = Project.objects.get(slug="strict")
    assert (project.allow_ties, project.allow_partial, project.target_annotators) == (False, False, 3)


def test_import_command_lists_every_problem_and_changes_nothing(tmp_path, project):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a", rankings=[0]), record("b"), record("c", split="x")])
    before = db_state()
    with pytest.raises(CommandError) as caught:
        call_command("import_rankings", str(path), "--project", project.slug)
    message = str(caught.value)
    assert "import failed, nothing was changed (2 problem(s))" in message
    assert "record 1 (id a): rankings:" in message and "record 3 (id c): split:" in message
    assert db_state() == before


def test_import_command_without_create_needs_an_existing_project(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a")])
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        call_command("import_rankings", str(path), "--project", "nope")


def test_export_command_writes_the_snapshot_to_output(tmp_path, capsys):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a"), record("b", rankings=None)])
    call_command("import_rankings", str(path), "--project", "cmd", "--create")
    out = tmp_path / "out" / "all.json"
    call_command("export_rankings", "--project", "cmd", "--format", "json", "--output", str(out), "--all")
    assert [r["id"] for r in json.loads(out.read_text())] == ["a", "b"]
    snapshot = ExportSnapshot.objects.get()
    assert snapshot.filters == {"validated_only": False}
    assert snapshot.sha256 in capsys.readouterr().out


def test_export_command_refuses_to_replace_output_without_force(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a")])
    call_command("import_rankings", str(path), "--project", "cmd", "--create")
    out = tmp_path / "pairs.jsonl"
    out.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("export_rankings", "--project", "cmd", "--format", "pairs", "--output", str(out))
    assert out.read_text() == "keep me"
    call_command("export_rankings", "--project", "cmd", "--format", "pairs", "--output", str(out), "--force")
    assert len(out.read_text().splitlines()) == 6  # 4 strictly ordered responses: 4 * 3 / 2 pairs


def test_export_command_hf_writes_a_directory(tmp_path):
    path = write_jsonl(tmp_path / "f.jsonl", [record("a"), record("b", split="test")])
    call_command("import_rankings", str(path), "--project", "cmd", "--create")
    out = tmp_path / "hf"
    call_command("export_rankings", "--project", "cmd", "--format", "hf", "--output", str(out))
    assert (out / "dataset_dict.json").exists() and (out / "train").is_dir() and (out / "test").is_dir()


def test_export_command_unknown_project(tmp_path):
    with pytest.raises(CommandError, match="no project"):
        call_command("export_rankings", "--project", "nope", "--format", "json", "--output", str(tmp_path / "x"))


def test_default_export_follows_the_validation_rule(tmp_path):
    """With a target of 3 annotators, a prompt with one imported ranking is not validated yet."""
    path = write_jsonl(tmp_path / "f.jsonl", [record("a")])
    call_command("import_rankings", str(path), "--project", "three", "--create", "--target-annotators", "3")
    out = tmp_path / "v.jsonl"
    call_command("export_rankings", "--project", "three", "--format", "jsonl", "--output", str(out))
    assert out.read_text() == ""
    assert Prompt.objects.count() == 1
