"""export_create: content of every format, determinism, immutability, validated-only filter."""

import json
import os

import pytest
from django.contrib.auth.models import User

from ranking_app.exchange.exports import ExportError, export_create, export_path
from ranking_app.exchange.imports import rankings_import
from ranking_app.exchange.jsonl import read_exchange_file
from ranking_app.models import ExportSnapshot, Project, Prompt
from training.engine.dataset_hash import directory_sha256, file_sha256

from .conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported_project(db):
    """Three prompts: one ranked by two annotators, one only by `import` with a tie, one unranked."""
    project = Project.objects.create(name="Exp", slug="exp", target_annotators=1)
    rankings_import(
        project=project,
        records=[
            record(
                "p-1",
                rankings=None,
                annotations=[
                    {"annotator": "bob", "rankings": [0, 1, 2, 3]},
                    {"annotator": "alice", "rankings": [0, 2, 1, 3]},
                ],
                metadata={"z": 1, "a": {"y": 2, "b": 3}},
                response_details=[{"source": "m1", "metadata": {}}, {}, {}, {}],
            ),
            record("p-2", k=3, rankings=[1, 0, 0], split="test"),
            record("p-3", rankings=None, split=None, prompt="Ünïcode prompt ✓"),
        ],
    )
    return project


def records_of(snapshot):
    return read_exchange_file(export_path(snapshot))


def test_jsonl_export_holds_consensus_annotations_agreement_validated_only(exported_project):
    snapshot = export_create(project=exported_project, format="jsonl")
    records = records_of(snapshot)
    assert [r["id"] for r in records] == ["p-1", "p-2"]  # p-3 has no submitted ranking: not validated
    first, second = records
    assert list(first) == [
        "id", "prompt", "responses", "response_details", "rankings", "annotations", "split", "metadata", "agreement"
    ]
    assert first["annotations"] == [
        {"annotator": "alice", "rankings": [0, 2, 1, 3]},
        {"annotator": "bob", "rankings": [0, 1, 2, 3]},
    ]  # by username
    assert first["rankings"][0] == 0 and first["rankings"][3] == max(first["rankings"])
    assert list(first["metadata"]) == ["a", "z"] and list(first["metadata"]["a"]) == ["b", "y"]
    assert first["response_details"][0] == {"source": "m1", "metadata": {}}
    assert first["agreement"]["n_annotators"] == 2 and first["agreement"]["status"] == "validated"
    assert "kendall_w" in first["agreement"]
    assert second["rankings"] == [1, 0, 0] and second["split"] == "test"
    assert "response_details" not in second
    assert snapshot.counts["prompts"] == 2 and snapshot.filters == {"validated_only": True}
    assert snapshot.sha256 == file_sha256(export_path(snapshot))


def test_all_exports_unvalidated_prompts_with_null_rankings_and_null_split(exported_project):
    snapshot = export_create(project=exported_project, format="json", validated_only=False)
    records = records_of(snapshot)
    assert [r["id"] for r in records] == ["p-1", "p-2", "p-3"]
    assert records[2]["rankings"] is None and records[2]["split"] is None and records[2]["annotations"] == []
    assert records[2]["prompt"] == "Ünïcode prompt ✓"
    assert "Ünïcode" in export_path(snapshot).read_text(encoding="utf-8")  # UTF-8, not \u escapes
    assert snapshot.filters == {"validated_only": False}


def test_json_and_jsonl_hold_the_same_records(exported_project):
    as_json = records_of(export_create(project=exported_project, format="json"))
    as_jsonl = records_of(export_create(project=exported_project, format="jsonl"))
    assert as_json == as_jsonl
    assert isinstance(json.loads(export_path(ExportSnapshot.objects.filter(format="json").get()).read_text()), list)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "pairs"])
def test_same_database_gives_byte_identical_files_in_new_snapshots(exported_project, fmt):
    first = export_create(project=exported_project, format=fmt)
    second = export_create(project=exported_project, format=fmt)
    assert first.path != second.path
    assert export_path(first).read_bytes() == export_path(second).read_bytes()
    assert first.sha256 == second.sha256


def test_snapshots_are_never_overwritten(exported_project):
    first = export_create(project=exported_project, format="jsonl")
    original = export_path(first).read_bytes()
    rankings_import(project=exported_project, records=[record("p-4")])
    second = export_create(project=exported_project, format="jsonl")
    assert export_path(first).read_bytes() == original
    assert export_path(second).read_bytes() != original
    assert export_path(first).parent == export_path(second).parent
    assert export_path(first).parent.name == "exp"


def test_pairs_are_every_valid_pair_of_the_consensus(exported_project):
    snapshot = export_create(project=exported_project, format="pairs")
    lines = export_path(snapshot).read_text(encoding="utf-8").splitlines()
    pairs = [json.loads(line) for line in lines]
    p2 = [p for p in pairs if p["id"] == "p-2"]
    # p-2 ranks [1, 0, 0]: responses 1 and 2 tie for best, 0 is worst -> two pairs, no pair for the tie
    assert p2 == [
        {"id": "p-2", "prompt": "Question p-2?", "chosen": "Answer 1 to p-2", "rejected": "Answer 0 to p-2",
         "rank_gap": 1, "weight": 1.0, "split": "test"},
        {"id": "p-2", "prompt": "Question p-2?", "chosen": "Answer 2 to p-2", "rejected": "Answer 0 to p-2",
         "rank_gap": 1, "weight": 1.0, "split": "test"},
    ]
    p1 = [p for p in pairs if p["id"] == "p-1"]
    assert all(p["rank_gap"] >= 1 for p in p1) and len(p1) >= 5
    assert snapshot.counts["pairs"] == len(pairs)


def test_hf_export_is_a_datasetdict_with_train_and_test_splits(exported_project):
    from datasets import load_from_disk

    snapshot = export_create(project=exported_project, format="hf", validated_only=False)
    path = export_path(snapshot)
    assert path.is_dir()
    dataset = load_from_disk(str(path))
    assert set(dataset) == {"train", "test"}
    train = {row["id"]: row for row in dataset["train"]}
    test = {row["id"]: row for row in dataset["test"]}
    assert set(train) == {"p-1", "p-3"} and set(test) == {"p-2"}
    assert test["p-2"]["rankings"] == [1, 0, 0] and test["p-2"]["responses"][0] == "Answer 0 to p-2"
    assert train["p-3"]["rankings"] == [None, None, None, None] and train["p-3"]["split"] == "train"
    assert json.loads(train["p-1"]["metadata"]) == {"a": {"b": 3, "y": 2}, "z": 1}
    assert train["p-1"]["annotations"][0]["annotator"] == "alice"
    assert snapshot.sha256 == directory_sha256(path)
    again = export_create(project=exported_project, format="hf", validated_only=False)
    assert again.sha256 == snapshot.sha256 and again.path != snapshot.path


def test_hf_export_is_readable_by_the_training_engine(exported_project):
    pytest.importorskip("datasets")
    from training.engine.records import load_records

    snapshot = export_create(project=exported_project, format="hf")
    loaded = {r["id"]: r for r in load_records(export_path(snapshot))}
    assert set(loaded) == {"p-1", "p-2"}
    assert loaded["p-2"]["split"] == "test"


def test_snapshot_records_who_and_what(exported_project, admin_user):
    snapshot = export_create(project=exported_project, format="jsonl", created_by=admin_user)
    snapshot.refresh_from_db()
    assert snapshot.created_by == admin_user and snapshot.format == "jsonl"
    assert len(snapshot.sha256) == 64 and not os.path.isabs(snapshot.path)
    assert snapshot.counts == {"prompts": 2, "responses": 7, "annotations": 3, "splits": {"test": 1, "train": 1}}


def test_unknown_format_is_rejected(exported_project):
    with pytest.raises(ExportError, match="format: must be one of json, jsonl, pairs, hf"):
        export_create(project=exported_project, format="csv")
    assert not ExportSnapshot.objects.exists()


def test_export_only_lists_submitted_annotations(exported_project):
    from ranking_app.ranking_store import ranking_save

    carol = User.objects.create_user("carol")
    ranking_save(prompt=Prompt.objects.get(external_id="p-1"), annotator=carol, tiers=[[3], [2]], status="draft")
    records = records_of(export_create(project=exported_project, format="jsonl"))
    assert [a["annotator"] for a in records[0]["annotations"]] == ["alice", "bob"]
