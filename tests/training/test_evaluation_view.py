"""The job page's evaluation: the verdict first (tuned vs base, one metric, one scoring), then every
figure for one scoring at a time with chance, length baselines, intervals and Holm-adjusted significance."""

import numpy as np
import pytest
from django.urls import reverse

from training.engine.metrics import evaluation_report, ranking_metrics, scoring_changes
from training.engine.verdict import build_verdict
from training.selectors import evaluation_table
from training.services.evaluations import evaluation_store
from training.services.jobs import job_launch

RANKS = [[0, 1, 2, 3], [1, 0, 2, -1], [0, 0, 1, 2], [2, 1, 0, 3]] * 5
LENGTHS = [[40, 30, 20, 10]] * len(RANKS)
ANNOTATORS = [[r, r] for r in RANKS]


def _result(scorings: dict, scoring: str = "sum_logp") -> dict:
    """What ``evaluate_model`` returns without an adapter (the flat metrics those of ``scoring``)."""
    report = evaluation_report(scorings, RANKS, ANNOTATORS, LENGTHS)
    return {**ranking_metrics(scorings[scoring], RANKS), **report, "scoring": scoring, "default_scoring": scoring,
            "robustness": {"whitespace_consistency": 1.0}, "per_prompt": []}


def _tuned(scorings: dict, base_scores: dict, scoring: str = "sum_logp") -> dict:
    """What ``evaluate_model`` returns with an adapter: its base half, the paired changes and the verdict."""
    before = _result({**base_scores, "implicit_reward": [[0.0] * 4 for _ in RANKS]}, scoring)
    result = {**_result(scorings, scoring), "base": before}
    result["change"] = scoring_changes(before, result)
    result["verdict"] = build_verdict("pairwise_accuracy", scoring, base_scores[scoring], scorings[scoring], RANKS,
                                      LENGTHS)
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
    tuned = _tuned({"mean_logp": noise, "sum_logp": perfect, "implicit_reward": perfect},
                   {"mean_logp": noise, "sum_logp": noise})
    evaluation_store(job=job, model="base", result=base)
    evaluation_store(job=job, model="tuned", result=tuned)
    return job


def test_table_defaults_to_the_verdict_scoring_and_its_base_column_is_the_verdict_base(evaluated_job):
    table = evaluation_table(job=evaluated_job)
    verdict = table["verdict"]
    assert table["scoring"] == verdict["scoring"] == "sum_logp" and verdict["outcome"] == "better than base"
    rows = {row["key"]: row for row in table["rows"]}
    pairs = rows["pairwise_accuracy"]
    assert (pairs["base"], pairs["tuned"]) == (verdict["base"], verdict["tuned"]) and pairs["tuned"] == 1.0
    assert pairs["significant"] and pairs["change_low"] > 0
    assert pairs["longer"] == 1.0 - pairs["shorter"]
    assert rows["ndcg"]["tuned_low"] <= rows["ndcg"]["tuned"] <= rows["ndcg"]["tuned_high"]
    same = evaluation_table(job=evaluated_job, scoring="mean_logp")
    assert not any(row["significant"] for row in same["rows"]) and same["rows"][0]["change"] == 0
    assert table["length"]["tuned"] == pytest.approx(table["length"]["human"]) and table["length"]["human"] > 0.5
    strata = {row["key"]: row for row in table["strata"]}
    assert strata["unanimous"]["human_ceiling"] == 1.0 and strata["contested"]["n_pairs"] == 0


def test_the_implicit_reward_is_shown_vs_chance_never_in_a_base_model_column(client, trainer_admin, evaluated_job):
    table = evaluation_table(job=evaluated_job, scoring="implicit_reward")
    assert table["vs_chance"] and all(row["base"] is None for row in table["rows"])
    assert "compared with chance" in table["explanation"]
    client.force_login(trainer_admin)
    html = client.get(reverse("training:job_detail", args=[evaluated_job.pk]) + "?scoring=implicit_reward")
    evaluation = html.content.decode().split('id="eval-table"')[1].split("</table>")[0]
    assert "<th>Change vs chance</th>" in evaluation and "<th>Base model</th>" not in evaluation


def test_job_page_leads_with_the_verdict_and_keeps_the_data_snapshot(client, trainer_admin, evaluated_job):
    client.force_login(trainer_admin)
    url = reverse("training:job_detail", args=[evaluated_job.pk])
    html = client.get(url).content.decode()
    verdict = evaluation_table(job=evaluated_job)["verdict"]
    assert html.index('id="verdict"') < html.index('class="card status-card"') < html.index('id="evaluation"')
    block = html.split('id="verdict"')[1].split("</section>")[0]
    assert "Better than base" in block and f"{verdict['base']:.3f}" in block and f"{verdict['tuned']:.3f}" in block
    assert 'id="verdict-longer"' in block and "where the better response is the shorter one" in block
    assert 'id="readiness"' in block and "Krippendorff" in block  # the agreement snapshot taken at launch
    assert 'data-scoring="sum_logp"' in html
    for column in ("Chance", "Longer is better", "Shorter is better", "Significance"):
        assert f"<th>{column}</th>" in html
    assert "Significance is Holm-adjusted over the 6 changes in this table" in html
    other = client.get(url + "?scoring=mean_logp").content.decode()
    assert 'data-scoring="mean_logp"' in other and "not significant" in other


def test_secondary_significance_is_holm_adjusted_over_the_table(evaluated_job):
    from training.models import EvaluationResult

    tuned = EvaluationResult.objects.get(job=evaluated_job, model="tuned")
    for change in tuned.metrics["change"]["sum_logp"].values():  # each alone just significant: p = 0.04
        change.update(p_value=0.04, significant=True, low=0.01, high=0.2)
    tuned.save()
    rows = evaluation_table(job=evaluated_job)["rows"]
    assert not any(row["significant"] for row in rows)  # 6 x 0.04 = 0.24 after Holm


def test_a_running_job_shows_the_pending_verdict_and_the_launch_snapshot(client, trainer_admin, ranked):
    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny", "primary_metric": "ndcg"},
                     created_by=trainer_admin, validated_only=False)
    assert set(job.data_summary["readiness"]) >= {"krippendorff_alpha", "contested_pair_share",
                                                  "single_annotator_share", "warnings"}
    client.force_login(trainer_admin)
    html = client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
    assert 'id="verdict-pending"' in html and "tuned vs base on nDCG" in html and 'id="readiness"' in html


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


def test_the_timeline_shows_the_job_pages_base_and_tuned_figures(client, trainer_admin, evaluated_job):
    from training.generation.selectors import project_timeline
    from training.models import EvaluationResult

    base = EvaluationResult.objects.get(job=evaluated_job, model="base")
    base.metrics["pairwise_accuracy"] = 0.123  # a flat figure of another scoring, as stored before verdicts
    base.save()
    verdict = evaluation_table(job=evaluated_job)["verdict"]
    rows = [row for entry in project_timeline(project=evaluated_job.project) for row in entry["training_jobs"]]
    figures = rows[0]["metrics"]
    assert figures["pairwise_accuracy"] == [verdict["base"], verdict["tuned"]] and figures["verdict"] == verdict
    client.force_login(trainer_admin)
    html = client.get(reverse("training:project_timeline", args=[evaluated_job.project.slug])).content.decode()
    cell = html.split('class="verdict-cell"')[1].split("</td>")[0]
    assert "better than base" in cell and f"{verdict['base']:.3f} → {verdict['tuned']:.3f}" in cell
    assert "0.123" not in html


def test_the_job_api_carries_the_verdict_and_names_the_scoring_of_its_figures(trainer_admin, evaluated_job):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(trainer_admin)
    evaluation = client.get(f"/api/jobs/{evaluated_job.pk}/").json()["evaluation"]
    verdict = evaluation_table(job=evaluated_job)["verdict"]
    assert evaluation["verdict"] == verdict and evaluation["scoring"] == "sum_logp"
    pairs = next(r for r in evaluation["comparison"] if r["key"] == "pairwise_accuracy")
    assert (pairs["base"], pairs["tuned"]) == (verdict["base"], verdict["tuned"])
    assert evaluation["tuned"]["scoring"] == "sum_logp"


def test_the_launch_form_says_whether_the_data_is_ready_naming_the_figure(admin_client, ranked):
    html = admin_client.get(reverse("training:job_launch"), {"project": ranked.slug}).content.decode()
    panel = html.split('id="readiness"')[1].split("</div>")[0]
    assert "Krippendorff&#x27;s alpha" in panel or "Krippendorff's alpha" in panel
    assert "Warning: prompts with one annotator 100% is above 50%" in panel  # one annotator ranked every prompt
    partial = admin_client.get(reverse("training:launch_readiness"), {"project": ranked.slug, "validated_only": "off"})
    assert partial.status_code == 200 and "prompts with one annotator" in partial.content.decode()
    assert admin_client.get(reverse("training:launch_readiness"), {"project": "nope"}).status_code == 404


def test_launching_on_noisy_data_warns_and_the_job_keeps_the_snapshot(admin_client, ranked, broker):
    from training.forms import launch_initial
    from training.models import TrainingJob

    data = {k: v for k, v in launch_initial(project=ranked).items() if v is not None}
    data.update(model_name_or_path="fake/tiny", project=ranked.slug, validated_only="")
    response = admin_client.post(reverse("training:job_launch"), data, follow=True)
    job = TrainingJob.objects.get()
    assert job.config["primary_metric"] == "pairwise_accuracy"
    assert job.data_summary["readiness"]["single_annotator_share"] == 1.0
    html = response.content.decode()
    assert "Is this data ready? prompts with one annotator 100% is above 50%" in html
    assert html.index('id="verdict"') < html.index('id="readiness"') < html.index('class="card status-card"')


@pytest.mark.parametrize("config, scoring", [({}, "sum_logp"), ({"loss": "orpo"}, "mean_logp"),
                                             ({"length_normalize": True, "primary_metric": "ndcg"}, "mean_logp")])
def test_the_job_evaluates_under_its_declared_metric_and_the_scoring_its_loss_trains(ranked, trainer_admin, config,
                                                                                     scoring):
    from ranking_app.exchange.exports import export_path
    from tests.training.fake_engine import FakeEngine
    from training.services.evaluations import evaluation_compute

    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny", **config}, created_by=trainer_admin,
                     validated_only=False)
    engine = FakeEngine()
    evaluation_compute(engine=engine, job=job, data_path=export_path(job.export), adapter="/some/adapter")
    call = engine.calls[-1]
    assert call["scoring"] == scoring and call["primary_metric"] == config.get("primary_metric", "pairwise_accuracy")


def test_an_evaluation_stored_before_scorings_asks_for_a_new_one_and_keeps_the_compare_link(client, ranked,
                                                                                            trainer_admin):
    job = job_launch(project=ranked, config={"model_name_or_path": "fake/tiny"}, created_by=trainer_admin,
                     validated_only=False)
    old = {k: v for k, v in _result({"sum_logp": [[0.0] * 4 for _ in RANKS]}).items() if k != "scorings"}
    evaluation_store(job=job, model="tuned", result=old)
    table = evaluation_table(job=job)
    assert table["rows"] == [] and table["evaluated"] is True and table["scoring"] is None
    client.force_login(trainer_admin)
    html = client.get(reverse("training:job_detail", args=[job.pk])).content.decode()
    assert 'id="eval-unscored"' in html and 'id="compare-link"' in html and 'id="eval-table"' not in html


def test_the_whitespace_robustness_row_shows_each_model(evaluated_job):
    [row] = evaluation_table(job=evaluated_job)["robustness"]
    assert row == {"key": "whitespace_consistency", "label": "Robustness: same order after whitespace edits",
                   "base": 1.0, "tuned": 1.0}
