"""The job page's evaluation: one scoring at a time with chance, length baselines, intervals and significance."""

import numpy as np
import pytest
from django.urls import reverse

from training.engine.metrics import evaluation_report, ranking_metrics, scoring_changes
from training.selectors import evaluation_table
from training.services.evaluations import evaluation_store
from training.services.jobs import job_launch

RANKS = [[0, 1, 2, 3], [1, 0, 2, -1], [0, 0, 1, 2], [2, 1, 0, 3]] * 5
LENGTHS = [[40, 30, 20, 10]] * len(RANKS)
ANNOTATORS = [[r, r] for r in RANKS]


def _result(scorings: dict, before: dict | None = None) -> dict:
    report = evaluation_report(scorings, RANKS, ANNOTATORS, LENGTHS)
    result = {**ranking_metrics(scorings["mean_logp"], RANKS), **report,
              "robustness": {"whitespace_consistency": 1.0}, "per_prompt": []}
    if before is not None:
        result["change"] = scoring_changes(before, report)
    return result


@pytest.fixture
def evaluated_job(db, ranked, trainer_admin):
    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny"}, created_by=trainer_admin,
                     validated_only=False)
    rng = np.random.default_rng(0)
    noise = [rng.normal(size=4).tolist() for _ in RANKS]
    perfect = [(-np.asarray(r, dtype=float)).tolist() for r in RANKS]
    zeros = [[0.0] * 4 for _ in RANKS]
    base = _result({"mean_logp": noise, "sum_logp": noise, "implicit_reward": zeros})
    tuned = _result({"mean_logp": noise, "sum_logp": noise, "implicit_reward": perfect}, before=base)
    evaluation_store(job=job, model="base", result=base)
    evaluation_store(job=job, model="tuned", result=tuned)
    return job


def test_table_defaults_to_the_implicit_reward_with_chance_baselines_and_significance(evaluated_job):
    table = evaluation_table(job=evaluated_job)
    assert table["scoring"] == "implicit_reward" and "training optimises" in table["explanation"]
    rows = {row["key"]: row for row in table["rows"]}
    pairs = rows["pairwise_accuracy"]
    assert pairs["base"] == pairs["chance"] == 0.5  # the base model is its own reference
    assert pairs["tuned"] == 1.0 and pairs["significant"] and pairs["change_low"] > 0
    assert pairs["longer"] == 1.0 - pairs["shorter"]
    assert rows["ndcg"]["tuned_low"] <= rows["ndcg"]["tuned"] <= rows["ndcg"]["tuned_high"]
    same = evaluation_table(job=evaluated_job, scoring="mean_logp")
    assert not any(row["significant"] for row in same["rows"]) and same["rows"][0]["change"] == 0
    assert table["length"]["tuned"] == pytest.approx(table["length"]["human"]) and table["length"]["human"] > 0.5
    strata = {row["key"]: row for row in table["strata"]}
    assert strata["unanimous"]["human_ceiling"] == 1.0 and strata["contested"]["n_pairs"] == 0


def test_job_page_shows_the_scoring_its_explanation_and_the_extra_columns(client, trainer_admin, evaluated_job):
    client.force_login(trainer_admin)
    url = reverse("training:job_detail", args=[evaluated_job.pk])
    html = client.get(url).content.decode()
    assert 'data-scoring="implicit_reward"' in html and "training optimises" in html
    for column in ("Chance", "Longer is better", "Shorter is better", "Significance"):
        assert f"<th>{column}</th>" in html
    assert "not significant" not in html.split('data-metric="pairwise_accuracy"')[1].split("</tr>")[0]
    assert 'data-stratum="unanimous"' in html
    other = client.get(url + "?scoring=sum_logp").content.decode()
    assert 'data-scoring="sum_logp"' in other and "not significant" in other


def test_drift_series_and_the_kl_warning_reach_the_page(client, trainer_admin, ranked):
    from training.models import JobMetric

    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny", "kl_warning": 1.5},
                     created_by=trainer_admin, validated_only=False)
    JobMetric.objects.bulk_create([
        JobMetric(job=job, step=step, loss=0.5, reward_best=0.1 * step, reward_worst=-0.1 * step,
                  logp_best_policy=-2.0 - step, logp_best_reference=-2.0, kl=kl)
        for step, kl in ((1, None), (2, 0.4), (3, None), (4, 2.5))
    ])  # fmt: skip
    client.force_login(trainer_admin)
    series = client.get(reverse("training:job_metrics", args=[job.pk])).json()
    assert series["kl"] == [None, 0.4, None, 2.5] and series["logp_best_policy"][-1] == -6.0
    assert (series["kl_warning"], series["kl_max"], series["kl_exceeded"]) == (1.5, 2.5, True)
    html = client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
    assert 'id="kl-alert"' in html and 'id="chart-kl"' in html
    JobMetric.objects.filter(job=job, step=4).update(kl=1.0)
    assert 'id="kl-alert"' not in client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
