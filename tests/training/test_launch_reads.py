"""A launch summarises the export it has just written from memory; the file is parsed once per job, by
the engine, and the summary is what the engine's reader makes of that file."""

import pytest

from ranking_app.exchange.exports import export_path
from training.engine import records
from training.services import jobs
from training.services.jobs import job_launch

pytestmark = pytest.mark.django_db


def test_the_launch_never_parses_its_export_and_its_summary_equals_the_engines_reading(ranked, monkeypatch):
    parses = []
    real = records.read_ranked_data
    monkeypatch.setattr(records, "read_ranked_data", lambda path: parses.append(path) or real(path))
    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny"}, validated_only=False)
    assert parses == []

    summary = dict(job.data_summary)
    assert summary["train_prompts"] > 0 and summary["test_prompts"] > 0
    assert summary == jobs._data_summary(_raw(job))  # what was written, read back from the file


def _raw(job) -> list[dict]:
    import json

    return [json.loads(line) for line in export_path(job.export).read_text().splitlines() if line.strip()]
