"""Helpers for the exchange tests: write records to files, snapshot the database state."""

import json

import pytest
from django.test import override_settings

from ranking_app.models import ExportSnapshot, Prompt, Ranking, RankingRevision, Response

SEED_RECORD = {
    "id": "p-001",
    "prompt": "Explain how transformers work.",
    "responses": ["...", "...", "...", "..."],
    "rankings": [0, 1, 2, 3],
    "split": "train",
    "metadata": {},
}


def record(record_id="p-1", k=4, **fields):
    base = {
        "id": record_id,
        "prompt": f"Question {record_id}?",
        "responses": [f"Answer {i} to {record_id}" for i in range(k)],
        "rankings": list(range(k)),
        "split": "train",
        "metadata": {},
    }
    base.update(fields)
    return base


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def db_state():
    """Everything an import may touch, as plain values (to prove a failed import changed nothing)."""
    from django.contrib.auth.models import User

    return (
        list(Prompt.objects.order_by("id").values_list("id", "external_id", "text", "split", "metadata")),
        list(Response.objects.order_by("id").values_list("id", "prompt_id", "position", "text", "source")),
        list(Ranking.objects.order_by("id").values_list("id", "prompt_id", "annotator_id", "tiers", "status", "version")),
        RankingRevision.objects.count(),
        list(User.objects.order_by("id").values_list("username", "is_active")),
        ExportSnapshot.objects.count(),
    )


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


__all__ = ["SEED_RECORD", "record", "write_jsonl", "db_state", "override_settings"]
