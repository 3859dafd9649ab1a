"""Ranking metrics of model scores against human tiers: pure numpy/scipy, no torch.

Shared by the engine's evaluation and the web app's comparison views, which must not pay for
importing torch. Definitions are in docs/training.md ("Evaluation metrics"):

* every metric looks at a prompt's *ranked* responses only (unranked ones are neither candidates
  nor gains), as training and Kendall tau do;
* tied model scores count as the expectation over random orders of the tie: top-1 is the share of
  the top-scored responses that sit in the best human tier, nDCG averages tied gains
  (``sklearn.metrics.ndcg_score`` with ``ignore_ties=False``), MRR is the expected reciprocal rank
  of the first best-tier response, a tied pair counts half;
  Kendall tau-b keeps its own tie correction, and constant scores (tau-b undefined) count 0;
* so all-tied scores give exactly the expected value under a uniformly random ranking (``chance``).

Each metric is a ratio sum(num) / sum(den) over prompts (``metric_terms``): a mean over prompts
(den 1, 0 where undefined) or pooled over pairs (num correct pairs, den pairs), so a bootstrap over
prompts (``intervals``, ``paired_change``) resamples the (num, den) rows.
"""

from __future__ import annotations

import math

import numpy as np

METRICS = ("accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy", "adjacent_pair_accuracy")
N_BOOT = 1000
BOOT_SEED = 0
CONFIDENCE = 0.95


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


def tie_expected_tau(tau: float, ranks) -> float:
    """``tau`` as the metrics count it: 0 (its expectation over random tie orders) where tau-b is
    undefined because the scores are constant but the humans used at least two tiers."""
    ranks = np.asarray(ranks)
    return 0.0 if math.isnan(tau) and len(set(ranks[ranks >= 0].tolist())) > 1 else tau


def pair_outcomes(scores: np.ndarray, ranks: np.ndarray, adjacent_only: bool = False) -> list[float]:
    """1, 0.5 (tied scores) or 0 for every valid pair i above j: whether the scores agree."""
    i, j = np.nonzero((ranks[:, None] >= 0) & (ranks[None, :] >= 0) & (ranks[:, None] < ranks[None, :]))
    if adjacent_only:
        keep = ranks[j] - ranks[i] == 1
        i, j = i[keep], j[keep]
    return list(np.where(scores[i] > scores[j], 1.0, np.where(scores[i] == scores[j], 0.5, 0.0)))


def _ranked_only(scores, ranks) -> tuple[np.ndarray, np.ndarray]:
    scores, ranks = np.asarray(scores, dtype=float), np.asarray(ranks)
    return scores[ranks >= 0], ranks[ranks >= 0]


def top1_share(scores, ranks) -> float:
    """Share of the top-scored ranked responses that are in the best human tier (expected top-1 hit)."""
    scores, ranks = _ranked_only(scores, ranks)
    top = scores == scores.max()
    return float((ranks[top] == ranks.min()).mean())


def expected_reciprocal_rank(scores, ranks) -> float:
    """E[1 / position of the first best-tier response] among the ranked ones, tied scores in random order."""
    scores, ranks = _ranked_only(scores, ranks)
    best = ranks == ranks.min()
    before = 0
    for level in sorted(set(scores.tolist()), reverse=True):
        members = scores == level
        n, b = int(members.sum()), int((members & best).sum())
        if b:  # the first best response of this tie is at x with probability C(n - x, b - 1) / C(n, b)
            return sum(math.comb(n - x, b - 1) / math.comb(n, b) / (before + x) for x in range(1, n - b + 2))
        before += n
    return 0.0


def ndcg_ranked(scores, ranks) -> float:
    """nDCG over the ranked responses, gain = number of human tiers below the response's tier."""
    scores, ranks = _ranked_only(scores, ranks)
    return ndcg(relevance(ranks), scores)


def prompt_terms(scores, ranks) -> dict[str, tuple[float, float]]:
    """One prompt's (numerator, denominator) of every metric in ``METRICS``."""
    scores, ranks = np.asarray(scores, dtype=float), np.asarray(ranks)
    tau = tie_expected_tau(kendall_tau_b(scores, ranks), ranks)
    pairs, adjacent = pair_outcomes(scores, ranks), pair_outcomes(scores, ranks, adjacent_only=True)
    return {
        "accuracy": (top1_share(scores, ranks), 1.0),
        "ndcg": (ndcg_ranked(scores, ranks), 1.0),
        "mrr": (expected_reciprocal_rank(scores, ranks), 1.0),
        "kendall_tau": (0.0, 0.0) if math.isnan(tau) else (tau, 1.0),
        "pairwise_accuracy": (float(sum(pairs)), float(len(pairs))),
        "adjacent_pair_accuracy": (float(sum(adjacent)), float(len(adjacent))),
    }


def chance_terms(ranks) -> dict[str, tuple[float, float]]:
    """The exact expectation of each metric's terms under a uniformly random ranking of the prompt:
    the terms of all-tied scores, since ties count as that expectation."""
    return prompt_terms(np.zeros(len(ranks)), ranks)


def metric_terms(scores_per_prompt, ranks_per_prompt) -> dict[str, np.ndarray]:
    """{metric: (n_prompts, 2) array of (num, den)}; ``scores_per_prompt`` None gives the chance terms."""
    rows = [prompt_terms(s, r) if s is not None else chance_terms(r)
            for s, r in zip(scores_per_prompt, ranks_per_prompt, strict=True)]
    return {key: np.array([row[key] for row in rows], dtype=float).reshape(len(rows), 2) for key in METRICS}


def _ratio(terms: np.ndarray) -> float | None:
    total = float(terms[:, 1].sum())
    return float(terms[:, 0].sum()) / total if total > 0 else None


def summarize(terms: dict[str, np.ndarray]) -> dict[str, float | None]:
    return {key: _ratio(values) for key, values in terms.items()}


def _bootstrap_run(arrays, statistic, seed: int):
    """scipy's 95% percentile bootstrap over prompts (rows resampled together); None for fewer than 2 prompts."""
    from scipy.stats import bootstrap

    if len(arrays[0]) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return bootstrap(arrays, statistic, paired=True, vectorized=True, n_resamples=N_BOOT,
                         confidence_level=CONFIDENCE, method="percentile", rng=np.random.default_rng(seed))


def _bootstrap(arrays, statistic, seed: int) -> tuple[float, float] | None:
    """The 95% percentile bootstrap interval over prompts; None for fewer than 2 prompts."""
    result = _bootstrap_run(arrays, statistic, seed)
    if result is None:
        return None
    low, high = result.confidence_interval
    return (float(low), float(high)) if math.isfinite(low) and math.isfinite(high) else None


def _bootstrap_p_value(result) -> float | None:
    """Two-sided bootstrap p-value of "no change": twice the smaller share of resampled differences
    on either side of 0 (below 0.05 exactly when the 95% percentile interval excludes 0, up to ties)."""
    if result is None:
        return None
    draws = np.asarray(result.bootstrap_distribution, dtype=float)
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return None
    return float(min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean())))


def _ratio_statistic(num, den, axis=-1):
    return num.sum(axis=axis) / den.sum(axis=axis)


def intervals(terms: dict[str, np.ndarray], seed: int = BOOT_SEED) -> dict[str, dict]:
    """{metric: {"value", "low", "high"}}: the metric and its 95% bootstrap interval over prompts."""
    result = {}
    for key, values in terms.items():
        value = _ratio(values)
        ci = _bootstrap((values[:, 0], values[:, 1]), _ratio_statistic, seed) if value is not None else None
        result[key] = {"value": value, "low": ci[0] if ci else None, "high": ci[1] if ci else None}
    return result


def _difference_statistic(num_a, den_a, num_b, den_b, axis=-1):
    return _ratio_statistic(num_b, den_b, axis) - _ratio_statistic(num_a, den_a, axis)


def paired_change(before: dict[str, np.ndarray], after: dict[str, np.ndarray], seed: int = BOOT_SEED) -> dict:
    """{metric: {"before", "after", "delta", "low", "high", "p_value", "significant"}} for the same prompts
    in the same order: after - before with a paired 95% bootstrap interval and its bootstrap p-value;
    significant when the interval excludes 0 (one comparison alone: ``holm`` adjusts a family)."""
    result = {}
    for key in before:
        a, b = _ratio(before[key]), _ratio(after[key])
        delta = None if a is None or b is None else b - a
        arrays = (before[key][:, 0], before[key][:, 1], after[key][:, 0], after[key][:, 1])
        run = _bootstrap_run(arrays, _difference_statistic, seed) if delta is not None else None
        low, high = run.confidence_interval if run is not None else (math.nan, math.nan)
        ci = (float(low), float(high)) if math.isfinite(low) and math.isfinite(high) else None
        result[key] = {"before": a, "after": b, "delta": delta, "low": ci[0] if ci else None,
                       "high": ci[1] if ci else None, "p_value": _bootstrap_p_value(run) if ci else None,
                       "significant": bool(ci and (ci[0] > 0 or ci[1] < 0))}
    return result


SIGNIFICANCE = 0.05
HOLM_NOTE = ("Significance is Holm-adjusted over the {n} changes in this table (family-wise error 5%); "
             "an interval that excludes 0 can still be not significant after adjustment.")


def holm_adjust(p_values: dict[str, float | None]) -> dict[str, float | None]:
    """Holm's step-down adjusted p-values of a family (None stays None and is not counted)."""
    ordered = sorted((key for key, p in p_values.items() if p is not None), key=lambda key: p_values[key])
    adjusted: dict[str, float | None] = dict.fromkeys(p_values)
    running = 0.0
    for index, key in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - index) * p_values[key]))
        adjusted[key] = running
    return adjusted


def holm(changes: dict[str, dict]) -> dict[str, dict]:
    """``changes`` ({name: paired_change entry}) as one family: each entry gains ``p_holm`` and its
    ``significant`` becomes Holm-adjusted p < 0.05 (``significant_unadjusted`` keeps the interval's word)."""
    adjusted = holm_adjust({key: change.get("p_value") for key, change in changes.items()})
    return {key: {**change, "p_holm": adjusted[key],
                  "significant_unadjusted": bool(change.get("significant")),
                  "significant": adjusted[key] is not None and adjusted[key] < SIGNIFICANCE}
            for key, change in changes.items()}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else None


def ranking_metrics(scores_per_prompt: list[list[float]], ranks_per_prompt: list[list[int]]) -> dict:
    """Top-1 accuracy, nDCG, MRR, Kendall tau-b (means over prompts), pairwise and adjacent-tier pairwise
    accuracy (over all valid pairs, a tied score counting half), as defined in the module doc."""
    terms = metric_terms(scores_per_prompt, ranks_per_prompt)
    return {
        "n_prompts": len(ranks_per_prompt),
        **summarize(terms),
        "n_pairs": int(terms["pairwise_accuracy"][:, 1].sum()),
    }


def length_correlation(values_per_prompt, lengths_per_prompt, ranks_per_prompt) -> float | None:
    """Mean over prompts of the Spearman correlation of ``values`` with response length (ranked
    responses only; prompts where it is undefined are skipped)."""
    from scipy.stats import spearmanr

    rhos = []
    for values, lengths, ranks in zip(values_per_prompt, lengths_per_prompt, ranks_per_prompt, strict=True):
        ranked = np.asarray(ranks) >= 0
        x, y = np.asarray(values, dtype=float)[ranked], np.asarray(lengths, dtype=float)[ranked]
        if len(set(x.tolist())) > 1 and len(set(y.tolist())) > 1:
            rhos.append(float(spearmanr(x, y).statistic))
    return _mean(rhos)


STRATA = ("unanimous", "contested", "adjacent_tier", "distant_tier")


def _verdict(outcomes: list[float]) -> float:
    share = sum(outcomes) / len(outcomes)
    return 1.0 if share > 0.5 else 0.0 if share < 0.5 else 0.5


def _pair_judgements(annotators, i: int, j: int) -> list[float]:
    """Each annotator's outcome for i over j (1 above, 0.5 tie, 0 below), for those who ranked both."""
    return [1.0 if a[i] < a[j] else 0.5 if a[i] == a[j] else 0.0 for a in annotators if a[i] >= 0 and a[j] >= 0]


def _leave_one_out_agreement(judgements: list[float]) -> list[float]:
    """How far each annotator agrees with the others' majority verdict on the pair (1, 0.5 or 0)."""
    return [1.0 - abs(own - _verdict(judgements[:k] + judgements[k + 1 :])) for k, own in enumerate(judgements)]


def _pair_strata(gap: int, judgements: list[float]) -> list[str]:
    strata = ["adjacent_tier" if gap == 1 else "distant_tier"]
    if len(judgements) >= 2:
        strata.append("unanimous" if len(set(judgements)) == 1 and judgements[0] != 0.5 else "contested")
    return strata


def robustness_strata(scores_per_prompt, ranks_per_prompt, annotators_per_prompt) -> dict[str, dict]:
    """Pairwise accuracy on strata of the consensus pairs, each with its pair count and the human ceiling.

    Strata: "unanimous" (every annotator who ranked both, at least two, ordered them the same way),
    "contested" (at least two annotators, not unanimous), "adjacent_tier" and "distant_tier"
    (consensus tiers 1 or more apart). ``human_ceiling``: on the same pairs and the same metric as the
    model (a pair scores 1, 0.5 for a tie, 0; pairs weigh the same), how well one annotator agrees with
    the others' majority, leave-one-out, averaged over the annotators who ranked both. It exists only
    for pairs that at least two annotators ranked (unranked excluded): ``ceiling_pairs`` counts them
    and ``accuracy_ceiling_pairs`` is the model's accuracy on exactly those pairs, the figure to
    compare with the ceiling (None without two annotators).
    """
    model = {name: [] for name in STRATA}
    paired = {name: [] for name in STRATA}  # (model outcome, human agreement) on pairs with a ceiling
    for scores, ranks, annotators in zip(scores_per_prompt, ranks_per_prompt, annotators_per_prompt, strict=True):
        scores, ranks = np.asarray(scores, dtype=float), np.asarray(ranks)
        for i, j in zip(*np.nonzero((ranks[:, None] >= 0) & (ranks[None, :] >= 0) & (ranks[:, None] < ranks[None, :])),
                        strict=True):
            judgements = _pair_judgements(annotators or [], i, j)
            outcome = 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0
            for name in _pair_strata(int(ranks[j] - ranks[i]), judgements):
                model[name].append(outcome)
                if len(judgements) >= 2:
                    paired[name].append((outcome, float(np.mean(_leave_one_out_agreement(judgements)))))
    return {name: {"accuracy": _mean(model[name]), "n_pairs": len(model[name]),
                   "human_ceiling": _mean([h for _, h in paired[name]]), "ceiling_pairs": len(paired[name]),
                   "accuracy_ceiling_pairs": _mean([m for m, _ in paired[name]])}
            for name in STRATA}


def _terms_json(terms: dict[str, np.ndarray]) -> dict[str, list[list[float]]]:
    return {key: values.tolist() for key, values in terms.items()}


def terms_from_json(data: dict[str, list]) -> dict[str, np.ndarray]:
    """Inverse of the stored ``prompt_terms`` of one scoring."""
    return {key: np.asarray(values, dtype=float).reshape(len(values), 2) for key, values in data.items()}


def scoring_report(scores_per_prompt, ranks_per_prompt, annotators_per_prompt, lengths_per_prompt) -> dict:
    """One scoring's metrics with intervals, robustness strata, length correlation and per-prompt terms."""
    terms = metric_terms(scores_per_prompt, ranks_per_prompt)
    return {
        "metrics": intervals(terms),
        "strata": robustness_strata(scores_per_prompt, ranks_per_prompt, annotators_per_prompt),
        "length_spearman": length_correlation(scores_per_prompt, lengths_per_prompt, ranks_per_prompt),
        "prompt_terms": _terms_json(terms),
    }


def evaluation_report(scorings: dict[str, list], ranks_per_prompt, annotators_per_prompt, lengths_per_prompt) -> dict:
    """Every scoring's ``scoring_report`` plus the chance level, the length baselines and the human
    ranking's own correlation with length."""
    lengths = [np.asarray(x, dtype=float) for x in lengths_per_prompt]
    args = (ranks_per_prompt, annotators_per_prompt, lengths_per_prompt)
    baselines = {"longer": lengths, "shorter": [-x for x in lengths]}
    human = [-np.asarray(r, dtype=float) for r in ranks_per_prompt]
    return {
        "scorings": {name: scoring_report(scores, *args) for name, scores in scorings.items()},
        "chance": summarize(metric_terms([None] * len(ranks_per_prompt), ranks_per_prompt)),
        "baselines": {name: intervals(metric_terms(scores, ranks_per_prompt)) for name, scores in baselines.items()},
        "human_length_spearman": length_correlation(human, lengths_per_prompt, ranks_per_prompt),
    }


def scoring_changes(before: dict, after: dict) -> dict[str, dict]:
    """Paired before -> after change of every scoring both reports hold (same prompts, same order),
    Holm-adjusted over each scoring's metrics (the family a page or the CLI shows at once)."""
    shared = [name for name in after["scorings"] if name in before["scorings"]]
    return {name: holm(paired_change(terms_from_json(before["scorings"][name]["prompt_terms"]),
                                     terms_from_json(after["scorings"][name]["prompt_terms"]))) for name in shared}
