"""The pure figures against direct computations: scipy tau-b, the engine's metrics, a naive bootstrap."""

import math

import numpy as np
import pytest
from scipy import stats

from ranking_app import ranking
from training.compare import metrics as cmp
from training.engine.metrics import ranking_metrics


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


def test_rank_scores_put_unranked_responses_on_one_bottom_tier():
    assert cmp.rank_scores([1, 0, -1, -1]) == [-1.0, -0.0, -2.0, -2.0]
    assert cmp.clean_scores([0.5, None, -1.0]) == [0.5, -2.0, -1.0]


def test_discordant_pairs_are_the_pairs_the_model_orders_against_the_reference():
    assert cmp.discordant_pairs([0.1, 0.3, 0.2], [0, 1, 2]) == [(0, 1), (0, 2)]
    assert cmp.discordant_pairs([0.3, 0.3, 0.1], [0, 1, -1]) == []  # a score tie is not "against"


def naive_bootstrap(scores_a, scores_b, refs, *, n_boot, seed):
    """Resample prompt lists with the same generator draws and call the engine on each resample."""
    rng = np.random.default_rng(seed)
    n = len(refs)
    idx = rng.integers(0, n, size=(n_boot, n))
    diffs = {key: [] for key in cmp.METRICS}
    for row in idx:
        a = ranking_metrics([scores_a[i] for i in row], [refs[i] for i in row])
        b = ranking_metrics([scores_b[i] for i in row], [refs[i] for i in row])
        for key in cmp.METRICS:
            if a[key] is not None and b[key] is not None:
                diffs[key].append(b[key] - a[key])
    return {key: tuple(np.percentile(v, [2.5, 97.5])) for key, v in diffs.items()}


def test_bootstrap_ci_equals_a_naive_resampling_loop_over_the_engine():
    scores_a, scores_b, refs = random_prompts(12, seed=7)
    table_a = cmp.metric_table([cmp.prompt_metrics(s, r) for s, r in zip(scores_a, refs, strict=True)])
    table_b = cmp.metric_table([cmp.prompt_metrics(s, r) for s, r in zip(scores_b, refs, strict=True)])
    ours = cmp.bootstrap_difference(table_a, table_b, n_boot=300, seed=5)
    expected = naive_bootstrap(scores_a, scores_b, refs, n_boot=300, seed=5)
    for key in cmp.METRICS:
        assert ours[key] == pytest.approx(expected[key]), key


def test_bootstrap_is_deterministic_for_a_seed_and_changes_with_it():
    scores_a, scores_b, refs = random_prompts(30, seed=3)
    a = [cmp.prompt_metrics(s, r) for s, r in zip(scores_a, refs, strict=True)]
    b = [cmp.prompt_metrics(s, r) for s, r in zip(scores_b, refs, strict=True)]
    first = cmp.compare_aggregates(a, b, n_boot=500, seed=11)
    again = cmp.compare_aggregates(a, b, n_boot=500, seed=11)
    other = cmp.compare_aggregates(a, b, n_boot=500, seed=12)
    assert first == again
    assert [m["ci_low"] for m in first["metrics"]] != [m["ci_low"] for m in other["metrics"]]


def test_bootstrap_in_chunks_equals_one_draw(monkeypatch):
    scores_a, scores_b, refs = random_prompts(20, seed=4)
    ta = cmp.metric_table([cmp.prompt_metrics(s, r) for s, r in zip(scores_a, refs, strict=True)])
    tb = cmp.metric_table([cmp.prompt_metrics(s, r) for s, r in zip(scores_b, refs, strict=True)])
    whole = cmp.bootstrap_difference(ta, tb, n_boot=100, seed=2)
    monkeypatch.setattr(cmp, "_BOOT_CELLS", 20 * 7)  # 7 resamples per chunk
    assert cmp.bootstrap_difference(ta, tb, n_boot=100, seed=2) == whole


def test_compare_aggregates_point_figures_and_ci_contain_the_difference():
    scores_a, scores_b, refs = random_prompts(50, seed=9)
    a = [cmp.prompt_metrics(s, r) for s, r in zip(scores_a, refs, strict=True)]
    b = [cmp.prompt_metrics(s, r) for s, r in zip(scores_b, refs, strict=True)]
    result = cmp.compare_aggregates(a, b, robustness_a={"order_consistency": 0.5}, robustness_b={"order_consistency": 0.8})
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


def test_compare_aggregates_rejects_unpaired_inputs_and_bad_settings():
    m = cmp.prompt_metrics([0.2, 0.1], [0, 1])
    with pytest.raises(cmp.CompareError, match="same prompts"):
        cmp.compare_aggregates([m], [m, m])
    table = cmp.metric_table([m])
    with pytest.raises(cmp.CompareError, match="n_boot"):
        cmp.bootstrap_difference(table, table, n_boot=0)


def test_no_prompts_gives_empty_figures_not_an_error():
    result = cmp.compare_aggregates([], [])
    assert result["n_prompts"] == 0
    assert all(m["a"] is None and m["ci_low"] is None for m in result["metrics"])
    assert not math.isnan(result["n_pairs"])


def test_vectorised_taus_equal_scipy_and_the_engine():
    from training.engine.metrics import kendall_tau_b

    scores, _, refs = random_prompts(60, seed=21)
    others = [list(np.random.default_rng(i).integers(-1, 3, size=len(r))) for i, r in enumerate(refs)]
    many = cmp.tau_b_many(refs, others)
    for ref, other, value in zip(refs, others, many, strict=True):
        both = (np.asarray(ref) >= 0) & (np.asarray(other) >= 0)
        single = ranking.tau_b(np.asarray(ref)[both], np.asarray(other)[both])  # scipy on the responses both ranked
        assert (value is None and single is None) or value == pytest.approx(single)
    batch = cmp.metrics_many(scores, refs)
    for s, r, m in zip(scores, refs, batch, strict=True):
        expected = kendall_tau_b(np.asarray(s), np.asarray(r))
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
