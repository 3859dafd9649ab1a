"""Sources of a project and the per-prompt rows, checked against direct computations."""

import pytest
from scipy import stats

from ranking_app.ranking import dense_array, has_valid_pair
from ranking_app.review.validated import prompt_statuses
from training.compare import aggregates as cmp
from training.compare.selectors import comparison_build
from training.compare.sources import project_sources, source_get, source_rankings
from training.engine.metrics import ranking_metrics

from .factories import BASE, HUMAN, TUNED, add_evaluation, finished_job


def consensus_ranks(project):
    statuses = prompt_statuses(project)
    return [dense_array(statuses[p.pk].consensus, 4).tolist() for p in project.prompts.order_by("id")]


def test_sources_are_consensus_annotators_then_models_newest_job_first(cmp_project, job):
    later = finished_job(cmp_project, name="second")
    add_evaluation(later, "tuned", TUNED)
    add_evaluation(job, "tuned", BASE, split="train")
    keys = [s.key for s in project_sources(cmp_project)]
    assert keys == ["consensus", "annotator:alice", "annotator:bob", f"job:{later.pk}", f"base:{job.pk}",
                    f"job:{job.pk}", f"job:{job.pk}:train"]
    assert source_get(cmp_project, f"job:{job.pk}").base_key == f"base:{job.pk}"
    assert source_get(cmp_project, f"job:{job.pk}:train").base_key == f"base:{job.pk}:train"


def test_unknown_or_malformed_sources_are_refused_with_the_choices(cmp_project, job):
    with pytest.raises(cmp.CompareError, match=r"not available in project cmp \(available: consensus, annotator:alice"):
        source_get(cmp_project, "job:999")
    with pytest.raises(cmp.CompareError, match="expected consensus, annotator:NAME"):
        source_get(cmp_project, "model-7")


def test_the_latest_evaluation_of_a_job_on_a_split_is_the_source(cmp_project, job):
    from training.models import EvaluationResult

    export2 = type(job.export).objects.create(project=cmp_project, format="json", sha256="1" * 64, path="cmp/y.json")
    again = EvaluationResult.objects.create(job=job, model="tuned", project=cmp_project, export=export2, split="test")
    assert source_get(cmp_project, f"job:{job.pk}").evaluation_id == again.pk


def test_model_rankings_come_from_prompt_evaluations(cmp_project, job):
    ranked = source_rankings(cmp_project, source_get(cmp_project, f"job:{job.pk}"))
    first = cmp_project.prompts.order_by("id").first()
    assert ranked[first.pk].ranks == [3, 0, 1, 2]
    assert ranked[first.pk].raw_scores == TUNED[0]


def test_rows_hold_tau_b_and_top1_between_the_two_sources(cmp_project, job):
    result = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}", sort="prompt")
    assert len(result.rows) == len(HUMAN) == result.n_compared
    refs = consensus_ranks(cmp_project)
    for index, row in enumerate(result.rows):
        expected = stats.kendalltau(BASE[index], TUNED[index], variant="b").statistic
        assert row["tau_b"] == pytest.approx(expected)
        assert row["top1_agree"] == (max(range(4), key=BASE[index].__getitem__) == max(range(4), key=TUNED[index].__getitem__))
        engine_a = ranking_metrics([BASE[index]], [refs[index]])["kendall_tau"]
        assert row["a_tau"] == pytest.approx(engine_a)


def test_aggregates_equal_the_engine_on_the_compared_prompts(cmp_project, job):
    result = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    refs = consensus_ranks(cmp_project)
    kept = [i for i in range(6) if has_valid_pair(cmp.ranked_ranks(refs[i]))]  # as evaluate_model: a valid pair needed
    assert kept == [0, 1, 2, 3, 5]  # p-004's consensus ties every response
    base = ranking_metrics([BASE[i] for i in kept], [refs[i] for i in kept])
    tuned = ranking_metrics([TUNED[i] for i in kept], [refs[i] for i in kept])
    assert result.aggregates["n_prompts"] == 5 and len(result.rows) == 6
    figures = {m["key"]: m for m in result.aggregates["metrics"]}
    for key in cmp.METRICS:
        assert figures[key]["a"] == round(base[key], 4)
        assert figures[key]["b"] == round(tuned[key], 4)
    robustness = {m["key"]: m for m in result.aggregates["robustness"]}
    assert robustness["order_consistency"]["difference"] == 0.5
    assert robustness["whitespace_consistency"]["difference"] == -0.25


def test_largest_disagreement_first(cmp_project, job):
    rows = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}").rows
    taus = [r["tau_b"] for r in rows]
    assert taus == sorted(taus)
    assert rows[0]["id"] == "p-001"  # base reversed, tuned in order: tau -1


def test_ambiguous_filter_keeps_prompts_people_disagree_on(cmp_project, job):
    result = comparison_build(cmp_project, "consensus", f"job:{job.pk}", ambiguous=True)
    statuses = prompt_statuses(cmp_project)
    expected = {p.external_id for p in cmp_project.prompts.all()
                if statuses[p.pk].status == "needs_review" or (statuses[p.pk].kendall_w or 0) < 0.7}
    assert {r["id"] for r in result.rows} == expected
    assert "p-002" in expected and "p-000" not in expected
    assert result.aggregates["n_prompts"] == len(expected - {"p-004"})  # p-004: consensus ties all


def test_worse_filter_keeps_prompts_where_the_tuned_model_lost_tau_against_its_base(cmp_project, job):
    refs = consensus_ranks(cmp_project)
    expected = {f"p-{i:03d}" for i in range(6) if has_valid_pair(cmp.ranked_ranks(refs[i]))
                and ranking_metrics([TUNED[i]], [refs[i]])["kendall_tau"] < ranking_metrics([BASE[i]], [refs[i]])["kendall_tau"]}
    result = comparison_build(cmp_project, "consensus", f"job:{job.pk}", worse=True)
    assert {r["id"] for r in result.rows} == expected
    assert {"p-000", "p-003"} <= expected and "p-001" not in expected
    assert all(r["tau_change_vs_base"][f"job:{job.pk}"] < 0 for r in result.rows)


def test_worse_filter_needs_a_tuned_source(cmp_project, job):
    with pytest.raises(cmp.CompareError, match="pick a job's tuned model"):
        comparison_build(cmp_project, "consensus", "annotator:alice", worse=True)


def test_annotator_vs_consensus_rows_only_cover_prompts_the_annotator_ranked(cmp_project, job):
    from ranking_app.models import Ranking

    Ranking.objects.filter(annotator__username="alice", prompt__external_id="p-005").delete()
    result = comparison_build(cmp_project, "annotator:alice", "consensus")
    assert len(result.rows) == 5 and "p-005" not in {r["id"] for r in result.rows}
    assert {m["key"]: m["b"] for m in result.aggregates["metrics"]}["kendall_tau"] == 1.0


def test_a_prompt_whose_responses_changed_is_left_out_of_a_model_source(cmp_project, job):
    from ranking_app.models import Response

    prompt = cmp_project.prompts.get(external_id="p-004")
    Response.objects.create(prompt=prompt, position=4, text="added later")
    result = comparison_build(cmp_project, f"base:{job.pk}", f"job:{job.pk}")
    assert "p-004" not in {r["id"] for r in result.rows}



def test_a_person_is_measured_against_the_consensus_only_on_what_they_ranked(cmp_project, job):
    from ranking_app.models import Ranking
    from ranking_app.ranking import ranks_to_tiers

    first = cmp_project.prompts.order_by("id").first()
    Ranking.objects.filter(prompt=first, annotator__username="alice").update(tiers=ranks_to_tiers([1, 0, None, None]))
    result = comparison_build(cmp_project, "annotator:alice", f"base:{job.pk}")
    row = next(r for r in result.rows if r["prompt_id"] == first.pk)
    reference = row["_reference"]
    assert reference[2:] == [-1, -1]  # what alice left unranked is in no pair, for either side
    assert (row["_a_metrics"]["n_pairs"], row["_b_metrics"]["n_pairs"]) == (1, 1)
    assert reference[:2] in ([0, 1], [1, 0])
    assert row["_a_metrics"]["pairs_correct"] == float(reference[1] < reference[0])  # alice put B above A
