"""The pure figures against direct computations: scipy tau-b, the engine's metrics, a naive bootstrap."""

import math

import numpy as np
import pytest
from scipy import stats

from ranking_app import ranking
from training.compare import aggregates as cmp
from training.engine.metrics import METRICS, intervals, metric_terms, paired_change, ranking_metrics, summarize


def random_prompts(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    scores_a, scores_b, refs = [], [], []
    for _ in range(n):
        k = int(rng.integers(2, 7))
        ref = rng.integers(0, 3, size=k)
        ref[int(rng.integers(0, k))] = 0
        if len(set(ref.tolist())) < 2:
            ref[0], ref[-1] = 0, 1
        ref = np.unique(ref, return_inverse=True)[1]  # dense
        if k > 3 and rng.random() < 0.3:
            ref[int(rng.integers(0, k))] = -1  # unranked
            if len({r for r in ref.tolist() if r >= 0}) < 2 or 0 not in ref:
                ref = np.arange(k)
        scores_a.append(rng.normal(size=k).round(1).tolist())  # rounding makes score ties
        scores_b.append(rng.normal(size=k).tolist())
        refs.append(ref.tolist())
    return scores_a, scores_b, refs


def test_tau_b_matches_scipy_over_responses_both_ranked():
    a, b = [0, 1, 1, 2, -1], [1, 0, 2, -1, 3]
    expected = stats.kendalltau([0, 1, 1], [1, 0, 2], variant="b").statistic
    assert cmp.tau_b_many([a], [b])[0] == pytest.approx(expected)
    assert cmp.tau_b_many([[0, 1, 2, 3]], [[0, 1, 2, 3]])[0] == pytest.approx(1.0)
    assert cmp.tau_b_many([[0, 1, 2, 3]], [[3, 2, 1, 0]])[0] == pytest.approx(-1.0)


def test_tau_b_is_undefined_when_a_side_is_all_ties():
    assert cmp.tau_b_many([[0, 0, 0], [0, -1, -1]], [[0, 1, 2], [0, 1, 2]]) == [None, None]


def test_top1_agreement_is_overlap_of_best_tiers():
    assert cmp.top1_agreement([0, 1, 2], [0, 2, 1]) is True
    assert cmp.top1_agreement([1, 0, 2], [0, 2, 1]) is False
    assert cmp.top1_agreement([0, 0, 1], [1, 0, 2]) is True  # tied top shares response 1
    assert cmp.top1_agreement([-1, -1], [0, 1]) is None


def test_per_prompt_metrics_aggregate_to_the_engines_ranking_metrics():
    scores, _, refs = random_prompts(40)
    per_prompt = [cmp.prompt_metrics(s, r) for s, r in zip(scores, refs, strict=True)]
    ours = cmp.aggregate_metrics(per_prompt)
    engine = ranking_metrics(scores, refs)
    for key in cmp.METRICS:
        assert ours[key] == pytest.approx(engine[key]), key
    assert sum(m["n_pairs"] for m in per_prompt) == engine["n_pairs"]


def test_rank_scores_and_missing_model_scores():
    assert cmp.rank_scores([1, 0, -1, -1]) == [-1.0, -0.0, -2.0, -2.0]
    assert cmp.clean_scores([0.5, None, -1.0]) == [0.5, -2.0, -1.0]


def test_a_response_a_person_left_unranked_is_out_of_the_rows_figures_not_worst():
    person, model, consensus = [0, 1, -1, -1], [0, 0, 0, 0], [1, 3, 0, 2]
    assert cmp.reference_over(consensus, person, model) == [0, 1, -1, -1]  # renumbered densely
    reference = cmp.reference_over(consensus, person, model)
    figures = cmp.prompt_metrics(cmp.rank_scores(person), reference)
    assert (figures["pairs_correct"], figures["n_pairs"]) == (1.0, 1)  # only A above B: right
    # Read as "worst", the two unranked responses would have added 5 pairs, 3.5 of them wrong.
    as_worst = cmp.prompt_metrics(cmp.rank_scores(person), consensus)
    assert (as_worst["pairs_correct"], as_worst["n_pairs"]) == (2.5, 6)


def test_discordant_pairs_are_the_pairs_the_model_orders_against_the_reference():
    assert cmp.discordant_pairs([0.1, 0.3, 0.2], [0, 1, 2]) == [(0, 1), (0, 2)]
    assert cmp.discordant_pairs([0.3, 0.3, 0.1], [0, 1, -1]) == []  # a score tie is not "against"


def _aggregates(scores_a, scores_b, refs, **options):
    a = [cmp.prompt_metrics(s, r) for s, r in zip(scores_a, refs, strict=True)]
    b = [cmp.prompt_metrics(s, r) for s, r in zip(scores_b, refs, strict=True)]
    return cmp.compare_aggregates(a, b, refs, **options)


def test_aggregates_carry_the_engines_intervals_chance_and_paired_change():
    """The job page's statistics: each figure's interval, chance, B - A with its paired interval."""
    scores_a, scores_b, refs = random_prompts(25, seed=7)
    scores_b = [[x + 2 * (-r if r >= 0 else -9) for x, r in zip(s, ref, strict=True)]
                for s, ref in zip(scores_b, refs, strict=True)]  # B is clearly better
    result = _aggregates(scores_a, scores_b, refs)
    terms_a, terms_b = metric_terms(scores_a, refs), metric_terms(scores_b, refs)
    own_a, own_b, change = intervals(terms_a), intervals(terms_b), paired_change(terms_a, terms_b)
    chance = summarize(metric_terms([None] * len(refs), refs))
    assert [m["key"] for m in result["metrics"]] == list(METRICS)
    for m in result["metrics"]:
        key = m["key"]
        assert (m["a"], m["a_low"], m["a_high"]) == tuple(round(own_a[key][f], 4) for f in ("value", "low", "high"))
        assert (m["b"], m["b_low"], m["b_high"]) == tuple(round(own_b[key][f], 4) for f in ("value", "low", "high"))
        assert (m["ci_low"], m["ci_high"]) == (round(change[key]["low"], 4), round(change[key]["high"], 4))
        assert m["chance"] == round(chance[key], 4)
        assert m["significant_unadjusted"] == (change[key]["low"] > 0 or change[key]["high"] < 0), key
        assert m["significant"] == (m["p_holm"] < 0.05) and m["p_holm"] >= m["p_value"], key
    assert {m["key"]: m["significant"] for m in result["metrics"]}["pairwise_accuracy"]


def test_a_change_whose_interval_includes_zero_is_not_significant():
    scores, _, refs = random_prompts(20, seed=3)
    result = _aggregates(scores, scores, refs)  # B = A: every interval is [0, 0]
    assert not any(m["significant"] for m in result["metrics"])
    noisy = _aggregates(*random_prompts(6, seed=5))  # two random rankers on 6 prompts
    for m in noisy["metrics"]:
        assert m["significant_unadjusted"] == (m["ci_low"] is not None and (m["ci_low"] > 0 or m["ci_high"] < 0))
        assert not m["significant"] or m["significant_unadjusted"]  # Holm only removes marks


def test_bootstrap_is_deterministic_for_a_seed_and_changes_with_it():
    scores_a, scores_b, refs = random_prompts(30, seed=3)
    first = _aggregates(scores_a, scores_b, refs, seed=11)
    assert first == _aggregates(scores_a, scores_b, refs, seed=11)
    other = _aggregates(scores_a, scores_b, refs, seed=12)
    assert [m["ci_low"] for m in first["metrics"]] != [m["ci_low"] for m in other["metrics"]]


def test_compare_aggregates_point_figures_and_ci_contain_the_difference():
    scores_a, scores_b, refs = random_prompts(50, seed=9)
    result = _aggregates(scores_a, scores_b, refs, robustness_a={"order_consistency": 0.5},
                         robustness_b={"order_consistency": 0.8})
    ea, eb = ranking_metrics(scores_a, refs), ranking_metrics(scores_b, refs)
    assert result["n_prompts"] == 50 and result["n_pairs"] == ea["n_pairs"]
    for row in result["metrics"]:
        assert row["a"] == round(ea[row["key"]], 4)
        assert row["b"] == round(eb[row["key"]], 4)
        assert row["difference"] == pytest.approx(row["b"] - row["a"], abs=2e-4)
        assert row["ci_low"] <= row["difference"] + 1e-4 and row["difference"] - 1e-4 <= row["ci_high"]
    assert result["robustness"] == [{
        "key": "order_consistency", "label": cmp.ROBUSTNESS_LABELS["order_consistency"],
        "a": 0.5, "b": 0.8, "difference": 0.3,
    }]


def test_compare_aggregates_rejects_unpaired_inputs():
    m = cmp.prompt_metrics([0.2, 0.1], [0, 1])
    with pytest.raises(cmp.CompareError, match="same prompts"):
        cmp.compare_aggregates([m], [m, m])


def test_no_prompts_gives_empty_figures_not_an_error():
    result = cmp.compare_aggregates([], [])
    assert result["n_prompts"] == 0
    assert all(m["a"] is None and m["ci_low"] is None for m in result["metrics"])
    assert not math.isnan(result["n_pairs"])


def test_vectorised_taus_equal_scipy_and_the_engine():
    from training.engine.metrics import kendall_tau_b, tie_expected_tau

    scores, _, refs = random_prompts(60, seed=21)
    others = [list(np.random.default_rng(i).integers(-1, 3, size=len(r))) for i, r in enumerate(refs)]
    many = cmp.tau_b_many(refs, others)
    for ref, other, value in zip(refs, others, many, strict=True):
        both = (np.asarray(ref) >= 0) & (np.asarray(other) >= 0)
        single = ranking.tau_b(np.asarray(ref)[both], np.asarray(other)[both])  # scipy on the responses both ranked
        assert (value is None and single is None) or value == pytest.approx(single)
    batch = cmp.metrics_many(scores, refs)
    for s, r, m in zip(scores, refs, batch, strict=True):
        expected = tie_expected_tau(kendall_tau_b(np.asarray(s), np.asarray(r)), r)  # constant scores count 0
        assert (math.isnan(expected) and math.isnan(m["kendall_tau"])) or m["kendall_tau"] == pytest.approx(expected)
        assert {k: v for k, v in m.items() if k != "kendall_tau"} == {
            k: v for k, v in cmp.prompt_metrics(s, r).items() if k != "kendall_tau"}


def test_valid_pairs_count_only_ranked_responses():
    assert ranking.has_valid_pair(cmp.ranked_ranks([0, -1, -1])) is False
    assert ranking.has_valid_pair(cmp.ranked_ranks([0, -1, 1])) is True


def test_tiers_naming_a_missing_response_are_left_out():
    from training.compare.sources import _human_rankings

    result = _human_rankings([(1, [[3], [0]]), (2, [[2], [0, 1]]), (3, [])], {1: 3, 2: 3, 3: 3})
    assert list(result) == [2]
    assert result[2].ranks == [1, 1, 0] and result[2].scores == [-1.0, -1.0, 0.0]
