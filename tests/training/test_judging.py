"""A model as one more annotator: `manage.py judge` (tiny causal LM, reward model from train-reward), the
"Rank with a model" job through the StubBroker, and model annotators kept out of targets, consensus and
exports unless asked, but measured on the agreement page and command."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from ranking_app.annotators import MODEL_ANNOTATOR_GROUP
from ranking_app.exchange.exports import export_create, export_path
from ranking_app.labeling.assignments import open_prompts
from ranking_app.labeling.selectors import labeling_progress
from ranking_app.models import Ranking
from ranking_app.review.agreement_store import agreement_payload
from tests.conftest import make_project, make_user
from training.compare.sources import project_sources
from training.engine import make_tiny_model
from training.engine.reward import RewardConfig, train_reward_model
from training.engine.synthetic import vowel_ranked_records, write_jsonl
from training.judging.run import model_rankings_store
from training.models import TrainingJob

from .factories import ranked_project


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("judge") / "tiny", hidden_size=32, num_hidden_layers=1)


@pytest.fixture(scope="module")
def reward_base(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("judge") / "base", hidden_size=64, num_hidden_layers=2)


@pytest.fixture(scope="module")
def reward_model(reward_base, tmp_path_factory) -> str:
    """A reward model trained by train-reward on vowel-ranked prompts (the rule ranked_project follows)."""
    folder = tmp_path_factory.mktemp("rm")
    data = write_jsonl(vowel_ranked_records(48, 4), folder / "train.jsonl")
    train_reward_model(RewardConfig(data_path=data, model_name_or_path=reward_base, output_dir=str(folder / "rm"),
                                    num_train_epochs=3, learning_rate=1e-3))
    return str(folder / "rm")


def _judge(*args) -> str:
    out = StringIO()
    call_command("judge", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _agreement(slug: str, *extra) -> dict:
    out = StringIO()
    call_command("agreement", "--project", slug, "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


def _export(project, **options) -> list[dict]:
    snapshot = export_create(project=project, format="jsonl", validated_only=False, **options)
    return [json.loads(line) for line in export_path(snapshot).read_text().splitlines()]


@pytest.mark.django_db
def test_judge_with_the_tiny_causal_model_stores_model_rankings_and_changes_no_human_figure(tiny, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    project = ranked_project("judged", n_prompts=6)
    before, exported = agreement_payload(project=project), _export(project)
    printed = _judge("--project", "judged", "--model", tiny, "--tie-epsilon", "0.001")
    model = User.objects.get(username="model:tiny")
    assert model.groups.filter(name=MODEL_ANNOTATOR_GROUP).exists() and not model.has_usable_password()
    rankings = Ranking.objects.filter(annotator=model)
    assert rankings.count() == 6 and {(r.status, r.source) for r in rankings} == {("submitted", "model")}
    assert all(r.revisions.count() == 1 for r in rankings)
    assert "model:tiny (causal judge) ranked 6 prompts: 6 stored, 0 unchanged" in printed
    after = agreement_payload(project=project)
    assert after["items"] == before["items"] and after["annotators"] == before["annotators"]
    assert after["krippendorff_alpha"] == before["krippendorff_alpha"]
    assert _export(project) == exported
    with_models = _export(project, include_models=True)
    assert [a["annotator"] for a in with_models[0]["annotations"]] == ["import", "model:tiny"]
    assert [r["rankings"] for r in with_models] == [r["rankings"] for r in exported]  # the consensus stays the people's
    assert "0 stored, 6 unchanged" in _judge("--project", "judged", "--model", tiny, "--tie-epsilon", "0.001")


@pytest.mark.django_db
def test_agreement_json_lists_the_model_annotator_with_a_persons_figures(reward_model):
    ranked_project("listed", n_prompts=8)
    _judge("--project", "listed", "--model", reward_model)
    data = _agreement("listed")
    assert [a["annotator"] for a in data["annotators"]] == ["import"] and data["models_included"] is False
    (row,) = data["model_annotators"]
    assert row["annotator"] == "model:rm" and row["count"] == 8 and row["n_compared"] == 8
    assert row["agreement"] > 0.3  # it learned the rule the people follow
    accuracy = row["metrics"]["pairwise_accuracy"]
    assert accuracy["low"] <= accuracy["value"] <= accuracy["high"] and row["chance"]["pairwise_accuracy"] == 0.5
    assert set(row["strata"]) == {"unanimous", "contested", "adjacent_tier", "distant_tier"}
    assert {"accuracy", "n_pairs", "human_ceiling"} <= set(row["strata"]["adjacent_tier"])
    assert row["alpha_with"] is not None and row["alpha_without"] is None  # one person alone has no alpha
    included = _agreement("listed", "--include-models")
    assert [a["annotator"] for a in included["annotators"]] == ["import", "model:rm"]
    assert included["krippendorff_alpha"] is not None and included["models_included"] is True


@pytest.mark.django_db
def test_judge_with_a_reward_model_from_train_reward_and_with_its_adapter(reward_base, reward_model):
    ranked_project("rewarded", n_prompts=6)
    assert "model:rm (reward judge) ranked 6 prompts" in _judge("--project", "rewarded", "--model", reward_model)
    adapter = str(Path(reward_model) / "adapter")
    printed = _judge("--project", "rewarded", "--model", reward_base, "--adapter", adapter, "--annotator", "model:rm-adapter")
    assert "model:rm-adapter (reward judge) ranked 6 prompts" in printed
    merged = {r.prompt_id: r.tiers for r in Ranking.objects.filter(annotator__username="model:rm")}
    as_adapter = {r.prompt_id: r.tiers for r in Ranking.objects.filter(annotator__username="model:rm-adapter")}
    assert merged == as_adapter


@pytest.mark.django_db
def test_judge_command_names_bad_input(tiny, tmp_path):
    ranked_project("bad", n_prompts=2)
    template = tmp_path / "t.txt"
    template.write_text("no placeholders")
    cases = [
        (["--project", "nope", "--model", tiny], "--project: no project"),
        (["--project", "bad", "--model", str(tmp_path / "missing")], "--model: no model folder"),
        (["--project", "bad", "--model", tiny, "--round", "3"], "--round: bad has no round 3"),
        (["--project", "bad", "--model", tiny, "--template-file", str(template)], "--template: must contain"),
        (["--project", "bad", "--model", tiny, "--tie-epsilon", "-1"], "--tie-epsilon: must be a number"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            _judge(*args)
    make_user("model:taken")
    with pytest.raises(CommandError, match="is a person"):
        _judge("--project", "bad", "--model", tiny, "--annotator", "model:taken")
    assert not Ranking.objects.filter(source="model").exists()


@pytest.mark.django_db
def test_model_rankings_never_fill_a_labelers_slot():
    project = make_project("slots", n_prompts=3, target_annotators=1)
    results = [{"id": str(p.pk), "rankings": [0, 1, 1, 2]} for p in project.prompts.all()]
    assert model_rankings_store(project=project, annotator_name="model:x", results=results)["stored"] == 3
    labeler = make_user("lab9", "labeler")
    assert open_prompts(project=project, annotator=labeler).count() == 3
    assert labeling_progress(project=project, annotator=labeler)["project_done"] == 0
    assert {i["status"] for i in agreement_payload(project=project)["items"]} == {"in_progress"}


@pytest.mark.django_db
def test_a_project_without_ties_gets_the_models_ties_in_canonical_order():
    project = make_project("noties", n_prompts=1, allow_ties=False)
    prompt = project.prompts.get()
    model_rankings_store(project=project, annotator_name="model:x", results=[{"id": str(prompt.pk), "rankings": [1, 0, 0, 2]}])
    assert Ranking.objects.get(prompt=prompt).tiers == [[1], [2], [0], [3]]


@pytest.mark.django_db
def test_the_review_queue_orders_prompts_by_model_vs_people_disagreement(client):
    project = ranked_project("queue", n_prompts=4)
    prompts = list(project.prompts.order_by("id"))
    people = {r.prompt_id: r.tiers for r in Ranking.objects.filter(prompt__project=project)}
    agree = [{"id": str(p.pk), "rankings": _ranks(people[p.pk], 4)} for p in prompts]
    agree[2]["rankings"] = [None if r is None else 3 - r for r in agree[2]["rankings"]]  # the model reverses prompt 2
    model_rankings_store(project=project, annotator_name="model:x", results=agree)
    client.force_login(make_user("rev9", "reviewer"))
    page = client.get("/review/queue/queue/?status=validated&order=model").content.decode()
    rows = [line.split('data-prompt="')[1].split('"')[0] for line in page.splitlines() if 'data-prompt="' in line]
    assert rows[0] == prompts[2].external_id and len(rows) == 4
    dashboard = client.get("/review/queue/").content.decode()
    assert 'id="model-annotators"' in dashboard and 'data-annotator="model:x"' in dashboard
    assert 'id="models-included"' not in dashboard
    what_if = client.get("/review/queue/?include_models=1").content.decode()
    assert 'id="models-included"' in what_if and what_if.count('data-annotator="model:x"') == 1  # now in the people's table
    labels = {source.key: source.label for source in project_sources(project)}
    assert labels["annotator:model:x"] == "model annotator model:x" and labels["annotator:import"] == "annotator import"
    detail = client.get(f"/review/queue/prompts/{prompts[2].pk}/").content.decode()
    assert 'id="prompt-models"' in detail and "Kendall tau-b between annotators" not in detail  # one person, no matrix


def _ranks(tiers, n):
    ranks = [None] * n
    for index, tier in enumerate(tiers):
        for position in tier:
            ranks[position] = index
    return ranks


@pytest.mark.django_db(transaction=True)
def test_rank_with_a_model_runs_as_a_job_from_the_web(client, tiny, broker, worker):
    project = ranked_project("webjudge", n_prompts=4)
    client.force_login(make_user("adm9", "admin"))
    assert "Rank with a model" in client.get(f"/projects/{project.slug}/").content.decode()
    form = {"project": "webjudge", "model": tiny, "kind": "causal", "verdict": " Yes", "template": "{prompt} {response}",
            "tie_epsilon": "0", "max_length": "128", "batch_size": "4"}
    bad = client.post("/jobs/judge/", {**form, "template": "{prompt} only"})
    assert bad.status_code == 200 and "must contain {response}" in bad.content.decode()
    assert not TrainingJob.objects.filter(kind="judge").exists()
    answer = client.post("/jobs/judge/", form)
    job = TrainingJob.objects.get(kind="judge")
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    assert job.config["annotator"] == "model:tiny" and job.data_summary == {"prompts": 4}
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_detail
    assert job.result["stored"] == 4 and (job.step, job.total_steps) == (4, 4)
    assert Ranking.objects.filter(annotator__username="model:tiny", status="submitted").count() == 4
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="judging"' in page and "4 rankings stored" in page


@pytest.mark.django_db
def test_the_api_queues_a_judging_job_and_names_bad_fields(client, tiny, broker):
    ranked_project("apijudge", n_prompts=2)
    client.force_login(make_user("adm8", "admin"))
    cases = [
        ({"project": "apijudge"}, "model"),
        ({"project": "apijudge", "model": tiny, "adapter_job": 999}, "adapter_job"),
        ({"project": "apijudge", "model": tiny, "round": 2}, "round"),
        ({"project": "apijudge", "model": tiny, "template": "{prompt}"}, "template"),
        ({"project": "apijudge", "model": tiny, "tie_epsilon": -1}, "tie_epsilon"),
        ({"project": "apijudge", "model": tiny, "batch_size": "8"}, "batch_size"),
    ]
    for body, field in cases:
        answer = client.post("/api/jobs/judge/", body, content_type="application/json")
        assert answer.status_code == 400 and field in answer.json(), (body, answer.content)
    answer = client.post("/api/jobs/judge/", {"project": "apijudge", "model": tiny, "kind": "causal"},
                         content_type="application/json")
    assert answer.status_code == 201 and answer.json()["id"] == TrainingJob.objects.get(kind="judge").pk
