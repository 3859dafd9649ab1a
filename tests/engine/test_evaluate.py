"""Evaluation metrics against sklearn/scipy, and evaluate_model end to end on the tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import kendalltau
from sklearn.metrics import ndcg_score

from training.engine import evaluate_model
from training.engine.evaluate import perturb_whitespace
from training.engine.metrics import dense_ranking, ndcg, ranking_metrics, relevance


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


def test_evaluate_model_returns_json_metrics_and_per_prompt_rankings(tiny_model_dir, vowel_data):
    metrics = evaluate_model(tiny_model_dir, vowel_data, max_length=64, batch_size=4)
    json.dumps(metrics)
    assert metrics["n_prompts"] == 16
    for key in ["accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy"]:
        assert 0 <= metrics[key] <= 1 or key == "kendall_tau"
    assert set(metrics["robustness"]) == {"adjacent_pair_accuracy", "order_consistency", "whitespace_consistency",
                                          "whitespace_kendall_tau"}
    first = metrics["per_prompt"][0]
    assert first["id"] == "syn-0048" and len(first["scores"]) == len(first["ranking"]) == 4
    assert metrics["robustness"]["order_consistency"] == 1.0  # scores do not depend on presentation order
