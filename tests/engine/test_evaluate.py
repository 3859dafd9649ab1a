"""Evaluation metrics against sklearn/scipy, and evaluate_model end to end on the tiny model."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau
from sklearn.metrics import ndcg_score

from training.engine import evaluate_model
from training.engine.evaluate import perturb_whitespace
from training.engine.metrics import (
    METRICS,
    chance_terms,
    dense_ranking,
    evaluation_report,
    intervals,
    metric_terms,
    ndcg,
    ndcg_ranked,
    paired_change,
    prompt_terms,
    ranking_metrics,
    relevance,
    robustness_strata,
    summarize,
)


def random_prompts(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        k = int(rng.integers(2, 9))
        ranks = rng.integers(-1, 4, size=k)
        while len(set(ranks[ranks >= 0].tolist())) < 2:
            ranks = rng.integers(-1, 4, size=k)
        ranks = np.asarray([-1 if r < 0 else sorted(set(ranks[ranks >= 0].tolist())).index(r) for r in ranks])
        scores = np.round(rng.normal(size=k), 1)  # rounding makes tied scores common
        yield scores, ranks


def test_ndcg_equals_sklearn_including_tied_scores_and_unranked_responses():
    for scores, ranks in random_prompts(0):
        gains = relevance(ranks)
        assert ndcg(gains, scores) == pytest.approx(ndcg_score([gains], [scores]), abs=1e-12)


def test_kendall_tau_and_pairwise_accuracy_match_direct_computations():
    prompts = list(random_prompts(1, 50))
    metrics = ranking_metrics([s.tolist() for s, _ in prompts], [r.tolist() for _, r in prompts])
    taus, outcomes = [], []
    for scores, ranks in prompts:
        ranked = ranks >= 0
        tau = kendalltau(scores[ranked], -ranks[ranked], variant="b").statistic
        if not np.isnan(tau):
            taus.append(tau)
        for i in range(len(ranks)):
            for j in range(len(ranks)):
                if ranks[i] >= 0 and ranks[j] >= 0 and ranks[i] < ranks[j]:
                    outcomes.append(1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0)
    assert metrics["kendall_tau"] == pytest.approx(np.mean(taus))
    assert metrics["pairwise_accuracy"] == pytest.approx(np.mean(outcomes))
    assert metrics["n_pairs"] == len(outcomes)


def test_accuracy_and_mrr_on_a_hand_made_example():
    metrics = ranking_metrics([[0.1, 0.9, 0.5], [0.9, 0.1, 0.5]], [[0, 1, 2], [0, 1, 2]])
    assert metrics["accuracy"] == 0.5
    assert metrics["mrr"] == pytest.approx((1 / 3 + 1) / 2)
    assert metrics["adjacent_pair_accuracy"] == pytest.approx(0.5)  # pairs (0,1),(1,2) per prompt


def test_dense_ranking_and_whitespace_variant():
    assert dense_ranking([0.2, 0.9, 0.2]) == [1, 0, 1]
    assert perturb_whitespace("  a b c\n") == "a  b c "


def _orders(scores, ranks):
    """Every order of the ranked responses a random tie-break of ``scores`` can give (equally likely)."""
    ranked = [i for i, r in enumerate(ranks) if r >= 0]
    for order in itertools.permutations(ranked):
        if all(scores[a] >= scores[b] for a, b in itertools.pairwise(order)):
            yield order


def _strict_metrics(order, ranks):
    """top-1, reciprocal rank, DCG / IDCG of one strict order of the ranked responses."""
    best = min(r for r in ranks if r >= 0)
    gains = relevance(np.asarray(ranks))
    dcg = sum(gains[i] / math.log2(p + 2) for p, i in enumerate(order))
    ideal = sum(g / math.log2(p + 2) for p, g in enumerate(sorted((gains[i] for i in order), reverse=True)))
    first = next(p for p, i in enumerate(order) if ranks[i] == best)
    return float(ranks[order[0]] == best), 1 / (first + 1), dcg / ideal


def small_prompts(seed: int, n: int = 60):
    for scores, ranks in random_prompts(seed, n):
        if (ranks >= 0).sum() <= 6:
            yield np.round(scores), ranks  # coarse scores: many ties


def test_top1_mrr_and_ndcg_count_tied_scores_as_the_expectation_over_random_tie_orders():
    for scores, ranks in small_prompts(2):
        outcomes = np.array([_strict_metrics(order, ranks) for order in _orders(scores, ranks)])
        terms = prompt_terms(scores, ranks)
        expected = outcomes.mean(axis=0)
        assert [terms["accuracy"][0], terms["mrr"][0], terms["ndcg"][0]] == pytest.approx(expected.tolist())


def test_ndcg_over_ranked_responses_equals_sklearn_on_them():
    for scores, ranks in random_prompts(3):
        ranked = ranks >= 0
        expected = ndcg_score([relevance(ranks[ranked])], [scores[ranked]], ignore_ties=False)
        assert ndcg_ranked(scores, ranks) == pytest.approx(expected, abs=1e-12)


def test_chance_is_the_exact_mean_over_every_ranking_of_the_ranked_responses():
    for _, ranks in small_prompts(4, 40):
        ranked = [i for i, r in enumerate(ranks) if r >= 0]
        rows = []
        for order in itertools.permutations(ranked):
            scores = np.zeros(len(ranks))
            scores[list(order)] = -np.arange(len(order))
            t = prompt_terms(scores, ranks)
            rows.append([t[k][0] / t[k][1] if t[k][1] else np.nan for k in METRICS])
        chance = chance_terms(ranks)
        expected = np.nanmean(np.array(rows), axis=0)
        got = [chance[k][0] / chance[k][1] if chance[k][1] else np.nan for k in METRICS]
        assert got == pytest.approx(expected.tolist(), nan_ok=True, abs=1e-12)


def test_unranked_responses_are_neither_candidates_nor_gains():
    ranked_only = prompt_terms([0.2, 0.5, 0.1], [1, 0, 2])
    with_unranked = prompt_terms([9.0, 0.2, 0.5, 0.1], [-1, 1, 0, 2])  # the top score is unranked
    assert with_unranked == ranked_only
    assert ranked_only["accuracy"] == (1.0, 1.0)


def test_all_tied_scores_score_chance_not_an_index_artefact():
    ranks = [[0, 1, 2], [2, 1, 0]]
    assert ranking_metrics([[0.0] * 3, [0.0] * 3], ranks)["accuracy"] == pytest.approx(1 / 3)
    assert summarize(metric_terms([None, None], ranks))["ndcg"] == pytest.approx(
        summarize(metric_terms([[0.0] * 3, [0.0] * 3], ranks))["ndcg"])


def test_intervals_are_deterministic_and_paired_change_marks_significance():
    prompts = list(random_prompts(5, 80))
    ranks = [r for _, r in prompts]
    good = metric_terms([-r.astype(float) for r in ranks], ranks)
    noisy = metric_terms([s for s, _ in prompts], ranks)
    first, again = intervals(noisy), intervals(noisy)
    assert first == again
    for value in first.values():
        assert value["low"] <= value["value"] <= value["high"]
    change = paired_change(noisy, good)
    assert change["pairwise_accuracy"]["significant"] and change["pairwise_accuracy"]["low"] > 0
    same = paired_change(noisy, noisy)
    assert not same["ndcg"]["significant"] and same["ndcg"]["delta"] == 0


def test_robustness_strata_with_human_leave_one_out_ceiling():
    ranks = [[0, 1, 2]]
    annotators = [[[0, 1, 2], [0, 2, 1], [0, 1, 2]]]  # (0,1), (0,2) unanimous; (1,2) contested 2:1
    strata = robustness_strata([[3.0, 1.0, 2.0]], ranks, annotators)
    assert strata["unanimous"] == {"accuracy": 1.0, "n_pairs": 2, "human_ceiling": 1.0, "ceiling_pairs": 2,
                                   "accuracy_ceiling_pairs": 1.0}
    # contested pair (1, 2): the model is wrong; annotators 1 and 3 agree with the others' majority
    # (a tie 1:1 for each of them -> 0.5), annotator 2 disagrees with the 2:0 majority -> 0
    assert strata["contested"] == {"accuracy": 0.0, "n_pairs": 1, "human_ceiling": pytest.approx(1 / 3),
                                   "ceiling_pairs": 1, "accuracy_ceiling_pairs": 0.0}
    assert strata["adjacent_tier"]["n_pairs"] == 2 and strata["distant_tier"]["n_pairs"] == 1
    assert robustness_strata([[3.0, 1.0, 2.0]], ranks, [[]])["unanimous"]["n_pairs"] == 0


def test_human_ceiling_is_on_the_model_pairs_each_pair_weighing_the_same():
    # three one-pair prompts: three annotators agree; two annotators disagree; nobody but the consensus
    ranks = [[0, 1], [0, 1], [0, 1]]
    annotators = [[[0, 1], [0, 1], [0, 1]], [[0, 1], [1, 0]], []]
    strata = robustness_strata([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], ranks, annotators)["adjacent_tier"]
    # per pair: 1.0 and 0.0 (each of the two disagrees with the other); not 3 judgements of 1 against 2 of 0
    assert strata["human_ceiling"] == 0.5 and strata["ceiling_pairs"] == 2 and strata["n_pairs"] == 3
    assert strata["accuracy_ceiling_pairs"] == 0.5 and strata["accuracy"] == pytest.approx(1 / 3)


def test_evaluation_report_carries_chance_and_length_baselines():
    ranks = [[0, 1, 2], [1, 0, -1]]
    lengths = [[30, 20, 10], [5, 50, 99]]
    report = evaluation_report({"mean_logp": [[0.3, 0.2, 0.1], [0.0, 1.0, 2.0]]}, ranks, [[], []], lengths)
    assert report["baselines"]["longer"]["pairwise_accuracy"]["value"] == 1.0
    assert report["baselines"]["shorter"]["pairwise_accuracy"]["value"] == 0.0
    assert report["chance"]["pairwise_accuracy"] == 0.5 and report["chance"]["kendall_tau"] == 0.0
    assert report["human_length_spearman"] == pytest.approx(1.0)  # only the first prompt has 3 ranked
    assert report["scorings"]["mean_logp"]["metrics"]["accuracy"]["value"] == 1.0


def test_evaluate_model_reports_every_scoring_with_intervals_chance_and_baselines(tiny_model_dir, vowel_data):
    metrics = evaluate_model(tiny_model_dir, vowel_data, max_length=64, batch_size=4)
    json.dumps(metrics)
    assert metrics["n_prompts"] == 16 and metrics["scoring"] == metrics["default_scoring"] == "sum_logp"
    assert set(metrics["scorings"]) == {"mean_logp", "sum_logp", "implicit_reward"}
    for key in METRICS:
        figure = metrics["scorings"]["sum_logp"]["metrics"][key]
        assert figure["low"] <= figure["value"] <= figure["high"], key
        assert metrics["scorings"]["implicit_reward"]["metrics"][key]["value"] == pytest.approx(
            metrics["chance"][key])  # no adapter: every reward 0, i.e. chance
    assert metrics["accuracy"] == metrics["scorings"]["sum_logp"]["metrics"]["accuracy"]["value"]  # the named scoring
    assert set(metrics["baselines"]) == {"longer", "shorter"}
    assert set(metrics["robustness"]) == {"whitespace_consistency", "whitespace_kendall_tau"}
    assert set(metrics["scorings"]["mean_logp"]["strata"]) == {"unanimous", "contested", "adjacent_tier",
                                                                "distant_tier"}
    first = metrics["per_prompt"][0]
    assert first["id"] == "syn-0048" and len(first["scores"]) == len(first["ranking"]) == len(first["lengths"]) == 4


def test_a_model_spread_by_device_map_scores_as_the_whole_model_does(tmp_path, tiny_model_dir, vowel_data):
    # what `evaluate --device_map auto` does for a job trained with fsdp or zero3 (a base model that may exceed
    # one GPU): transformers places the layers (here, with no GPU, all on the CPU) and the adapter follows them
    from training.engine.modeling import add_lora_adapter, load_base_model

    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0, target_modules="all-linear",
                             quantized=False)
    torch.manual_seed(0)
    for name, weight in model.named_parameters():
        if "lora_B" in name:
            weight.data.normal_(std=0.5)  # a trained-looking adapter: the tuned scores differ from the base's
    model.save_pretrained(tmp_path / "adapter")
    options = {"adapter_dir": str(tmp_path / "adapter"), "max_length": 64, "batch_size": 4, "robustness": False}
    whole = evaluate_model(tiny_model_dir, vowel_data, **options)
    spread = evaluate_model(tiny_model_dir, vowel_data, **options, device_map="auto")
    def scores(report):
        return [score for prompt in report["per_prompt"] for score in prompt["scores"]]

    assert scores(spread) == pytest.approx(scores(whole))
    assert spread["verdict"] == whole["verdict"]
    base = evaluate_model(tiny_model_dir, vowel_data, **{**options, "adapter_dir": None})
    assert scores(whole) != pytest.approx(scores(base))  # the adapter was loaded and counts
