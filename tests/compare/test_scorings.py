"""The comparison page ranks a job's responses by the job page's scorings and shows the job page's figures."""

import csv
import io
import json
import re

import numpy as np
import pytest
from django.core.management import CommandError
from django.urls import reverse

from ranking_app.ranking import has_valid_pair
from training.compare.selectors import comparison_build
from training.compare.sources import project_sources, source_rankings
from training.selectors import SCORINGS, evaluation_table
from training.services.evaluations import base_half, evaluation_store

from .factories import HUMAN, finished_job
from .test_command import run

pytestmark = pytest.mark.django_db


def _records(project) -> list[dict]:
    """The project's prompts as the job's export gives them: consensus ranks, every annotator's ranks."""
    consensus = source_rankings(project, project_sources(project)[0])
    records = []
    for index, prompt in enumerate(project.prompts.order_by("id")):
        ranks = consensus[prompt.pk].ranks
        if has_valid_pair([r for r in ranks if r >= 0]):
            records.append({"id": prompt.external_id, "ranks": ranks, "annotator_ranks": list(HUMAN[index]),
                            "responses": [r.text for r in prompt.responses.order_by("position")]})
    return records


@pytest.fixture
def scored_job(cmp_project):
    """A job evaluated by the engine's own report (tuned + base, every scoring), stored as the runner does."""
    from training.engine.evaluate import _report

    records = _records(cmp_project)
    rng = np.random.default_rng(4)
    sums = [(-np.asarray(r["ranks"]) + rng.normal(scale=1.5, size=4)).tolist() for r in records]
    base_sums = [rng.normal(size=4).tolist() for _ in records]
    means, base_means = ([[x / 7 + rng.normal() for x in s] for s in group] for group in (sums, base_sums))
    result = _report(records, sums, means, (base_sums, base_means), beta=0.1,
                     declared={"metric": "pairwise_accuracy", "scoring": "sum_logp"})
    job = finished_job(cmp_project)
    evaluation_store(job=job, model="tuned", result=result)
    evaluation_store(job=job, model="base", result=base_half(result))
    return job


def _rounded(value):
    return None if value is None else round(value, 4) + 0.0


@pytest.mark.parametrize("scoring", ["implicit_reward", "mean_logp", "sum_logp"])
def test_base_vs_tuned_on_the_test_split_equals_the_job_pages_figures(cmp_project, scored_job, scoring):
    table = evaluation_table(job=scored_job, scoring=scoring)
    comparison = comparison_build(cmp_project, f"base:{scored_job.pk}", f"job:{scored_job.pk}", scoring=scoring)
    assert table["scoring"] == comparison.scoring == scoring
    shown = {m["key"]: m for m in comparison.aggregates["metrics"]}
    assert comparison.aggregates["n_prompts"] == len(_records(cmp_project)) and len(shown) == len(table["rows"])
    for row in table["rows"]:
        m = shown[row["key"]]
        pairs = {"a": "base", "a_low": "base_low", "a_high": "base_high", "b": "tuned", "b_low": "tuned_low",
                 "b_high": "tuned_high", "chance": "chance", "difference": "change", "ci_low": "change_low",
                 "ci_high": "change_high"}
        if table["vs_chance"]:  # the implicit reward has no base-model column: the base scores chance
            assert row["base"] is None and m["a"] == m["chance"]
            pairs = {k: v for k, v in pairs.items() if not k.startswith("a")}
        for ours, theirs in pairs.items():
            assert m[ours] == _rounded(row[theirs]), (row["key"], ours)
        assert m["significant"] == row["significant"]
    against = comparison_build(cmp_project, "consensus", f"job:{scored_job.pk}", scoring=scoring)
    for row, m in zip(table["rows"], against.aggregates["metrics"], strict=True):
        assert (m["b"], m["b_low"], m["b_high"]) == tuple(_rounded(row[k]) for k in ("tuned", "tuned_low", "tuned_high"))


def test_the_default_is_the_verdicts_scoring_and_the_base_is_its_own_reference(cmp_project, scored_job):
    pair = (f"base:{scored_job.pk}", f"job:{scored_job.pk}")
    comparison = comparison_build(cmp_project, *pair)
    assert comparison.scoring == "sum_logp" and set(comparison.scorings) == set(SCORINGS)
    rewards = comparison_build(cmp_project, *pair, scoring="implicit_reward")
    pairwise = {m["key"]: m for m in rewards.aggregates["metrics"]}["pairwise_accuracy"]
    assert pairwise["a"] == pairwise["chance"] == 0.5  # tied implicit rewards of 0: exactly chance
    assert comparison_build(cmp_project, "consensus", pair[0]).scoring == "sum_logp"  # the base's declared scoring
    assert comparison_build(cmp_project, "consensus", "annotator:alice").scoring is None
    by_mean = comparison_build(cmp_project, *pair, scoring="mean_logp")
    assert by_mean.aggregates != comparison.aggregates


def test_a_scoring_the_sources_do_not_store_is_an_error_naming_the_choices(cmp_project, job):
    # the factory's evaluations store mean log-probs only
    assert comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}").scoring == "mean_logp"
    with pytest.raises(ValueError, match=r"scoring 'implicit_reward'.*available: mean_logp"):
        comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}", scoring="implicit_reward")
    with pytest.raises(CommandError, match="available: mean_logp"):
        run("--project", cmp_project.slug, "--a", "consensus", "--b", f"job:{job.pk}", "--scoring", "sum_logp")


def test_page_exports_and_command_carry_the_scoring(client, reviewer, cmp_project, scored_job):
    client.force_login(reviewer)
    params = {"a": f"base:{scored_job.pk}", "b": f"job:{scored_job.pk}"}
    html = client.get(reverse("compare:project", args=[cmp_project.slug]), params).content.decode()
    assert 'data-scoring="sum_logp"' in html and SCORINGS["sum_logp"] in html
    assert 'name="scoring"' in html and "not significant" in html and 'data-figure="ndcg-chance"' in html
    page = client.get(reverse("compare:project", args=[cmp_project.slug]), {**params, "scoring": "sum_logp"})
    assert 'data-scoring="sum_logp"' in page.content.decode() and "scoring=sum_logp" in page.content.decode()
    bad = client.get(reverse("compare:project", args=[cmp_project.slug]), {**params, "scoring": "nonsense"})
    assert bad.status_code == 400 and "scoring" in bad.content.decode()
    exported = client.get(reverse("compare:export_json", args=[cmp_project.slug]), {**params, "scoring": "mean_logp"})
    assert json.loads(exported.content)["scoring"] == "mean_logp"
    lines = list(csv.reader(io.StringIO(client.get(reverse("compare:export_csv", args=[cmp_project.slug]),
                                                   params).content.decode())))
    assert lines[0][-2:] == ["scoring", "sum_logp"]
    data = json.loads(run("--project", cmp_project.slug, "--a", params["a"], "--b", params["b"], "--json",
                          "--scoring", "sum_logp"))
    assert data["scoring"] == "sum_logp"
    assert "scored by sum_logp" in run("--project", cmp_project.slug, "--a", params["a"], "--b", params["b"])


def test_prompt_view_ranks_each_model_by_the_chosen_scoring(client, reviewer, cmp_project, scored_job):
    client.force_login(reviewer)
    prompt = cmp_project.prompts.order_by("id").first()
    url = reverse("compare:prompt", args=[cmp_project.slug, prompt.pk])
    html = client.get(url).content.decode()
    tuned = html.split(f'data-source="job:{scored_job.pk}"')[1]
    assert 'data-scoring="sum_logp"' in tuned.split("</th>")[0]  # the verdict's scoring
    base = html.split(f'data-source="base:{scored_job.pk}"')[1]
    assert 'data-scoring="sum_logp"' in base.split("</th>")[0]
    by_mean = client.get(url, {"scoring": "mean_logp"}).content.decode()
    assert by_mean.count('data-scoring="mean_logp"') == 2


def test_the_job_pages_link_keeps_its_scoring(client, admin_user, cmp_project, scored_job):
    client.force_login(admin_user)
    url = reverse("training:job_detail", args=[scored_job.pk])
    for query, scoring in (({}, "sum_logp"), ({"scoring": "mean_logp"}, "mean_logp")):
        html = client.get(url, query).content.decode()
        link = re.search(r'id="compare-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert link == f"/compare/{cmp_project.slug}/?a=base:{scored_job.pk}&b=job:{scored_job.pk}&scoring={scoring}"
        assert f'data-scoring="{scoring}"' in client.get(link).content.decode()


def test_every_change_says_whether_it_is_significant(client, reviewer, cmp_project, scored_job):
    client.force_login(reviewer)
    url = reverse("compare:project", args=[cmp_project.slug])
    for params in ({"a": f"base:{scored_job.pk}", "b": f"job:{scored_job.pk}"},
                   {"a": "consensus", "b": f"job:{scored_job.pk}", "ambiguous": "1"}):  # 1 prompt: no interval
        html = client.get(url, params).content.decode()
        data = comparison_build(cmp_project, params["a"], params["b"], ambiguous="ambiguous" in params)
        for m in data.aggregates["metrics"]:
            row = html.split(f'<tr data-metric="{m["key"]}">')[1].split("</tr>")[0]
            verdict = row.split('class="significance">')[1].split("<")[0]
            assert verdict == ("significant" if m["significant"] else "not significant"), (params, m)
            assert m["significant"] == (m["p_holm"] is not None and m["p_holm"] < 0.05)
            assert not m["significant"] or m["ci_low"] > 0 or m["ci_high"] < 0


def test_job_compare_and_timeline_pages_show_the_same_verdict(client, admin_user, cmp_project, scored_job):
    from training.generation.selectors import project_timeline
    from training.selectors import job_verdict

    verdict = job_verdict(job=scored_job)
    assert verdict["scoring"] == "sum_logp" and verdict["metric"] == "pairwise_accuracy"
    base, tuned = f"{verdict['base']:.3f}", f"{verdict['tuned']:.3f}"
    client.force_login(admin_user)
    compare = client.get(reverse("compare:project", args=[cmp_project.slug]),
                         {"a": f"base:{scored_job.pk}", "b": f"job:{scored_job.pk}"}).content.decode()
    block = compare.split(f'id="verdict-{scored_job.pk}"')[1].split("</section>")[0]
    assert f'<span data-verdict="base">{base}</span>' in block and f'<span data-verdict="tuned">{tuned}</span>' in block
    assert "Significance is Holm-adjusted over the 6 changes in this table" in compare
    job_page = client.get(reverse("training:job_detail", args=[scored_job.pk])).content.decode()
    assert f'<td id="verdict-base">{base} ' in job_page and f'<td id="verdict-tuned">{tuned} ' in job_page
    row = next(r for e in project_timeline(project=cmp_project) for r in e["training_jobs"] if r["job"] == scored_job)
    assert row["metrics"]["pairwise_accuracy"] == [verdict["base"], verdict["tuned"]]
    timeline = client.get(reverse("training:project_timeline", args=[cmp_project.slug])).content.decode()
    assert f"{base} → {tuned}" in timeline.split('class="verdict-cell"')[1]
    exported = json.loads(run("--project", cmp_project.slug, "--a", f"base:{scored_job.pk}", "--b",
                              f"job:{scored_job.pk}", "--json"))
    assert exported["verdicts"] == {str(scored_job.pk): verdict}
