"""Exports for the next tool: Label Studio tasks with the consensus as a prediction, TRL pairs."""

import json

import pytest

from ranking_app.exchange.exports import export_create, export_path
from ranking_app.exchange.imports import import_file, rankings_import
from tests.conftest import make_project

from .conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(db):
    project = make_project("next", n_prompts=0, target_annotators=1)
    rankings_import(project=project, records=[
        record("tied", rankings=[1, 0, 1, None], split="test"),
        record("strict", k=3, rankings=[2, 0, 1]),
    ])
    return project


def test_label_studio_tasks_carry_the_consensus_as_bucketed_prediction(project, tmp_path):
    snapshot = export_create(project=project, format="label-studio")
    tasks = json.loads(export_path(snapshot).read_text(encoding="utf-8"))

    assert snapshot.counts["tasks"] == 2 and snapshot.counts["predictions"] == 2
    tied = tasks[0]
    assert tied["data"]["external_id"] == "tied" and tied["data"]["split"] == "test"
    assert [item["body"] for item in tied["data"]["items"]] == [f"Answer {i} to tied" for i in range(4)]
    result = tied["predictions"][0]["result"][0]
    assert (result["from_name"], result["to_name"], result["type"]) == ("rank", "answers", "ranker")
    assert result["value"]["ranker"] == {"tier-1": ["r1"], "tier-2": ["r0", "r2"], "_": ["r3"]}

    # Back from Label Studio (the prediction accepted as an annotation): same prompts, same tiers.
    for task in tasks:
        task["annotations"] = [{"completed_by": 5, "result": task.pop("predictions")[0]["result"]}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    report = import_file(file=path, slug="next", format="label-studio")
    assert (report.created, report.updated) == (0, 2)
    assert project.prompts.get(external_id="tied").rankings.get(annotator__username="ls-5").tiers == [[1], [0, 2]]


def test_trl_export_writes_conversational_preference_pairs(project):
    snapshot = export_create(project=project, format="trl")
    pairs = [json.loads(line) for line in export_path(snapshot).read_text(encoding="utf-8").splitlines()]

    assert snapshot.counts["pairs"] == len(pairs) == 2 + 3  # tied: r1 over r0 and r2; strict: 3 pairs
    assert pairs[0] == {
        "prompt": [{"role": "user", "content": "Question tied?"}],
        "chosen": [{"role": "assistant", "content": "Answer 1 to tied"}],
        "rejected": [{"role": "assistant", "content": "Answer 0 to tied"}],
    }
