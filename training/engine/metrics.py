"""Ranking metrics of model scores against human tiers: pure numpy/scipy, no torch.

Shared by the engine's evaluation and the web app's comparison views, which must not pay for
importing torch. Definitions are in docs/training.md ("Evaluation metrics").
"""

from __future__ import annotations

import math

import numpy as np


def dense_ranking(scores) -> list[int]:
    """Model ranking as dense tiers, 0 = highest score; equal scores share a tier."""
    distinct = sorted(set(scores), reverse=True)
    tier_of = {value: tier for tier, value in enumerate(distinct)}
    return [tier_of[s] for s in scores]


def relevance(ranks: np.ndarray) -> np.ndarray:
    """nDCG gain of each response: number of tiers below it; unranked responses get 0."""
    worst = ranks.max()
    return np.where(ranks >= 0, worst - ranks, 0).astype(float)


def ndcg(gains: np.ndarray, scores: np.ndarray) -> float:
    """nDCG with tied scores averaged, exactly as ``sklearn.metrics.ndcg_score`` (ignore_ties=False)."""
    discount_cumsum = np.cumsum(1.0 / np.log2(np.arange(len(gains)) + 2))
    ideal = _tie_averaged_dcg(gains, gains, discount_cumsum)
    return 0.0 if ideal == 0 else _tie_averaged_dcg(gains, scores, discount_cumsum) / ideal


def _tie_averaged_dcg(gains, scores, discount_cumsum) -> float:
    _, inverse, counts = np.unique(-np.asarray(scores, dtype=float), return_inverse=True, return_counts=True)
    group_gain = np.zeros(len(counts))
    np.add.at(group_gain, inverse, gains)
    group_gain /= counts
    ends = np.cumsum(counts) - 1
    discount_sums = np.diff(np.concatenate([[0.0], discount_cumsum[ends]]))
    return float((group_gain * discount_sums).sum())


def kendall_tau_b(scores: np.ndarray, ranks: np.ndarray) -> float:
    """Kendall tau-b between model scores and human order over the ranked responses (nan if undefined)."""
    from scipy.stats import kendalltau

    ranked = ranks >= 0
    if ranked.sum() < 2:
        return math.nan
    return float(kendalltau(scores[ranked], -ranks[ranked]).statistic)


def pair_outcomes(scores: np.ndarray, ranks: np.ndarray, adjacent_only: bool = False) -> list[float]:
    i, j = np.nonzero((ranks[:, None] >= 0) & (ranks[None, :] >= 0) & (ranks[:, None] < ranks[None, :]))
    if adjacent_only:
        keep = ranks[j] - ranks[i] == 1
        i, j = i[keep], j[keep]
    return list(np.where(scores[i] > scores[j], 1.0, np.where(scores[i] == scores[j], 0.5, 0.0)))


def _mean(values) -> float | None:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else None


def ranking_metrics(scores_per_prompt: list[list[float]], ranks_per_prompt: list[list[int]]) -> dict:
    """Top-1 accuracy, nDCG, MRR, Kendall tau-b (means over prompts), pairwise and adjacent-tier pairwise
    accuracy (over all valid pairs, a tied score counting half)."""
    top1, ndcgs, rrs, taus, pairs, adjacent = [], [], [], [], [], []
    for raw_scores, raw_ranks in zip(scores_per_prompt, ranks_per_prompt, strict=True):
        scores, ranks = np.asarray(raw_scores, dtype=float), np.asarray(raw_ranks)
        top1.append(float(ranks[int(np.argmax(scores))] == 0))
        ndcgs.append(ndcg(relevance(ranks), scores))
        order = np.argsort(-scores, kind="stable")
        first_top = int(np.nonzero(ranks[order] == 0)[0][0])
        rrs.append(1.0 / (first_top + 1))
        taus.append(kendall_tau_b(scores, ranks))
        pairs += pair_outcomes(scores, ranks)
        adjacent += pair_outcomes(scores, ranks, adjacent_only=True)
    return {
        "n_prompts": len(top1),
        "accuracy": _mean(top1),
        "ndcg": _mean(ndcgs),
        "mrr": _mean(rrs),
        "kendall_tau": _mean(taus),
        "pairwise_accuracy": _mean(pairs),
        "n_pairs": len(pairs),
        "adjacent_pair_accuracy": _mean(adjacent),
    }
