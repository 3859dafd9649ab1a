"""Comparing two ranking sources (people or models) prompt by prompt: pure functions, no ORM.

A *ranking* here is a list of dense ranks aligned with the prompt's responses in canonical order:
0 is best, equal values tie, ``UNRANKED_CODE`` (-1) means unranked: the integer-array form of
``ranking_app.ranking`` (``dense_array``), whose rules (valid pairs, tau-b, the bottom tier of
unranked responses) this module uses rather than restates. A model's ranking comes with its scores
(higher is better); a person's ranking gets scores ``-rank`` with unranked responses on one bottom tier.

* ``tau_b_many(a_list, b_list)``: Kendall's tau-b over the responses *both* sources ranked
  (``ranking.tau_b_batch`` with a mask). With a model against the consensus this is exactly the
  engine's per-prompt Kendall tau.
* ``top1_agreement(a, b)``: the two sources' top tiers share a response.
* ``prompt_metrics(scores, ranks)``: one prompt's share of the engine's metrics (top-1 accuracy,
  nDCG, reciprocal rank, Kendall tau, pair outcomes) using ``training.engine.evaluate``'s helpers,
  so ``aggregate_metrics`` over prompts equals ``ranking_metrics`` on the same prompts.
* ``compare_aggregates``: the figures over prompts with the engine's statistics (the job page's):
  each figure's 95% bootstrap interval, the chance level, and B - A with its paired interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ranking_app import ranking
from training.engine.metrics import (
    BOOT_SEED,
    CONFIDENCE,
    HOLM_NOTE,
    N_BOOT,
    expected_reciprocal_rank,
    holm,
    intervals,
    kendall_tau_b,
    ndcg_ranked,
    pair_outcomes,
    paired_change,
    summarize,
    tie_expected_tau,
    top1_share,
)

METRICS = ("accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy", "adjacent_pair_accuracy")
METRIC_LABELS = {
    "accuracy": "Top-1 accuracy",
    "ndcg": "nDCG",
    "mrr": "MRR",
    "kendall_tau": "Kendall tau-b",
    "pairwise_accuracy": "Pairwise accuracy",
    "adjacent_pair_accuracy": "Adjacent-tier pair accuracy",
}
# pooled metrics: their (numerator, denominator) keys in ``prompt_metrics``
PAIR_TERMS = {"pairwise_accuracy": ("pairs_correct", "n_pairs"),
              "adjacent_pair_accuracy": ("adjacent_correct", "n_adjacent")}
ROBUSTNESS = ("order_consistency", "whitespace_consistency", "whitespace_kendall_tau")
ROBUSTNESS_LABELS = {
    "order_consistency": "Robustness: same ranking with responses reversed",
    "whitespace_consistency": "Robustness: same ranking with whitespace perturbed",
    "whitespace_kendall_tau": "Robustness: tau-b under whitespace perturbation",
}
DEFAULT_SEED = BOOT_SEED
FIGURE_DIGITS = 4  # every aggregate figure is rounded to this many decimals (page, export, command)
_BOOT_CELLS = 2_000_000  # largest resample-index array built at once


class CompareError(ValueError):
    """A comparison cannot be made as asked; the message says why."""


# ---------------------------------------------------------------------------- conversions
def rank_scores(ranks: Sequence[int]) -> list[float]:
    """Scores of a person's ranking: ``-rank``. An unranked response gets a placeholder below the
    last tier that no figure reads: a row's reference leaves it out (``reference_over``)."""
    if not len(ranks):
        return []
    return (-ranking.unranked_at_bottom(np.asarray(ranks, dtype=np.int64))).astype(float).tolist()


def clean_scores(scores: Sequence[float | None]) -> list[float]:
    """Stored model scores with missing (non-finite) values put just below the lowest one."""
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    floor = (min(finite) if finite else 0.0) - 1.0
    return [float(s) if s is not None and math.isfinite(s) else floor for s in scores]


def reference_over(reference: Sequence[int], *sides: Sequence[int]) -> list[int]:
    """The reference over the responses every side ranked, tiers renumbered densely.

    Unranked is never a tier: a response a person left unranked is out of every pair and every
    metric of the row, for both sides alike, so the two are compared on the same pairs.
    """
    out = ranking.UNRANKED_CODE
    return ranking.ranks_array([None if r == out or any(side[i] == out for side in sides) else r
                                for i, r in enumerate(reference)]).tolist()


def ranked_ranks(ranks: Sequence[int]) -> list[int]:
    """The ranks of the responses a ranking ranked (``UNRANKED_CODE`` dropped): ``ranking.has_valid_pair``'s input."""
    return [r for r in ranks if r != ranking.UNRANKED_CODE]


# ---------------------------------------------------------------------------- one prompt, two sources
def top1_agreement(a: Sequence[int], b: Sequence[int]) -> bool | None:
    """Whether the best tier of ``a`` and the best tier of ``b`` share a response (None if one is empty)."""
    top_a = {i for i, r in enumerate(a) if r == 0}
    top_b = {i for i, r in enumerate(b) if r == 0}
    if not top_a or not top_b:
        return None
    return bool(top_a & top_b)


def discordant_pairs(scores: Sequence[float], reference: Sequence[int]) -> list[tuple[int, int]]:
    """Pairs (i, j) the reference ranks i above j but the scores order the other way (ties excluded)."""
    s, r = np.asarray(scores, dtype=float), np.asarray(reference)
    i, j = np.nonzero((r[:, None] >= 0) & (r[None, :] >= 0) & (r[:, None] < r[None, :]) & (s[:, None] < s[None, :]))
    return sorted(zip(i.tolist(), j.tolist(), strict=True))


# ---------------------------------------------------------------------------- metrics against a reference
def prompt_metrics(scores: Sequence[float], reference: Sequence[int], *, tau: float | None = None) -> dict:
    """One prompt's contribution to the engine's ``ranking_metrics`` (reference must hold a valid pair).

    ``tau`` skips the (slow, scipy) Kendall tau when the caller computed it already (``metrics_batch``).
    """
    s, r = np.asarray(scores, dtype=float), np.asarray(reference)
    outcomes, adjacent = pair_outcomes(s, r), pair_outcomes(s, r, adjacent_only=True)
    return {
        "accuracy": top1_share(s, r),
        "ndcg": ndcg_ranked(s, r),
        "mrr": expected_reciprocal_rank(s, r),
        "kendall_tau": tie_expected_tau(kendall_tau_b(s, r) if tau is None else tau, r),  # nan when undefined
        "pairs_correct": float(sum(outcomes)),
        "n_pairs": len(outcomes),
        "adjacent_correct": float(sum(adjacent)),
        "n_adjacent": len(adjacent),
    }


# ---------------------------------------------------------------------------- many prompts at once
def _grouped_tau(xs: Sequence[Sequence[float]], ys: Sequence[Sequence[float]], masks) -> np.ndarray:
    """``ranking.tau_b_batch`` with a mask for rows of any lengths: rows of equal length go through numpy together."""
    result = np.full(len(xs), np.nan)
    by_length: dict[int, list[int]] = {}
    for index, row in enumerate(xs):
        by_length.setdefault(len(row), []).append(index)
    for k, indices in by_length.items():
        step = max(1, _BOOT_CELLS // max(1, k * k))
        for start in range(0, len(indices), step):
            chunk = indices[start : start + step]
            x = np.array([xs[i] for i in chunk], dtype=float).reshape(len(chunk), k)
            y = np.array([ys[i] for i in chunk], dtype=float).reshape(len(chunk), k)
            m = np.array([masks[i] for i in chunk], dtype=bool).reshape(len(chunk), k)
            result[chunk] = ranking.tau_b_batch(x, y, m)
    return result


def tau_b_many(a_list: Sequence[Sequence[int]], b_list: Sequence[Sequence[int]]) -> list[float | None]:
    """Kendall's tau-b of each pair of rankings over the responses both ranked; None where undefined.

    Vectorised (``ranking.tau_b_batch``), equal to scipy's tau-b on the responses both ranked.
    """
    masks = [[ranking.UNRANKED_CODE not in (p, q) for p, q in zip(a, b, strict=True)] for a, b in zip(a_list, b_list, strict=True)]
    taus = _grouped_tau(a_list, b_list, masks)
    return [float(t) if math.isfinite(t) else None for t in taus]


def reference_tau_many(scores_list: Sequence[Sequence[float]], refs: Sequence[Sequence[int]]) -> np.ndarray:
    """The engine's per-prompt Kendall tau (scores vs the reference's ranked responses) for many prompts."""
    negated = [[-r for r in ref] for ref in refs]
    masks = [[r != ranking.UNRANKED_CODE for r in ref] for ref in refs]
    return _grouped_tau(scores_list, negated, masks)


def metrics_many(scores_list: Sequence[Sequence[float]], refs: Sequence[Sequence[int]]) -> list[dict]:
    """``prompt_metrics`` for many prompts, the Kendall tau vectorised (equal to the engine's scipy value)."""
    taus = reference_tau_many(scores_list, refs)
    return [prompt_metrics(s, r, tau=float(t)) for s, r, t in zip(scores_list, refs, taus, strict=True)]


def metric_table(per_prompt: Sequence[dict]) -> dict[str, np.ndarray]:
    """Each metric as the engine's per-prompt terms: an (n_prompts, 2) array of (numerator, denominator),
    the aggregate being sum(num) / sum(den) (``training.engine.metrics.metric_terms``' format).

    Means over prompts have denominator 1 (0 where the value is undefined, e.g. tau); pairwise
    accuracies are pooled over pairs (numerator correct pairs, denominator pairs), as in the engine.
    """
    table = {}
    for key in ("accuracy", "ndcg", "mrr", "kendall_tau"):
        values = np.array([m[key] for m in per_prompt], dtype=float)
        defined = np.isfinite(values)
        table[key] = np.column_stack([np.where(defined, values, 0.0), defined.astype(float)]).reshape(-1, 2)
    for key, (num, den) in PAIR_TERMS.items():
        table[key] = np.array([[m[num], m[den]] for m in per_prompt], dtype=float).reshape(-1, 2)
    return table


def aggregate_metrics(per_prompt: Sequence[dict]) -> dict[str, float | None]:
    """Metrics over prompts (None where undefined for every prompt)."""
    return summarize(metric_table(per_prompt))


def chance_metrics(references: Sequence[Sequence[int]]) -> dict[str, float | None]:
    """Each metric's exact expected value under a uniformly random ranking of every prompt: the figures
    of all-tied scores (ties count as that expectation), computed once per distinct reference."""
    distinct = list(dict.fromkeys(tuple(r) for r in references))
    tied = dict(zip(distinct, metrics_many([[0.0] * len(r) for r in distinct], distinct), strict=True))
    return aggregate_metrics([tied[tuple(r)] for r in references])


def compare_aggregates(
    metrics_a: Sequence[dict],
    metrics_b: Sequence[dict],
    references: Sequence[Sequence[int]] | None = None,
    *,
    robustness_a: dict | None = None,
    robustness_b: dict | None = None,
    seed: int = DEFAULT_SEED,
) -> dict:
    """Side-by-side aggregate figures of A and B on the same prompts against ``references`` (the
    consensus ranks, giving each metric's chance level: the figures of all-tied scores), with the job page's statistics: each
    figure's 95% bootstrap interval (``training.engine.metrics.intervals``) and B - A with its paired
    interval (``paired_change``), "significant" only when its Holm-adjusted p-value over the metric rows is
    below 0.05 (``training.engine.metrics.holm``).

    ``metrics_a[k]`` and ``metrics_b[k]`` are ``prompt_metrics`` of the same prompt. Every figure is
    rounded to ``FIGURE_DIGITS`` decimals: what the page, the exports and the command all show.
    """
    if len(metrics_a) != len(metrics_b):
        raise CompareError(f"A has {len(metrics_a)} prompts, B has {len(metrics_b)}: they must be the same prompts")
    table_a, table_b = metric_table(metrics_a), metric_table(metrics_b)
    own_a, own_b = intervals(table_a, seed), intervals(table_b, seed)
    change = holm(paired_change(table_a, table_b, seed))  # the page's family: every metric row
    chance = chance_metrics(references) if references else {}
    return {
        "n_prompts": len(metrics_a),
        "n_pairs": int(table_a["pairwise_accuracy"][:, 1].sum()),
        "n_boot": N_BOOT,
        "seed": seed,
        "confidence": CONFIDENCE,
        "metrics": [_aggregate_row(key, own_a[key], own_b[key], change[key], chance.get(key)) for key in METRICS],
        "holm_note": HOLM_NOTE.format(n=sum(change[key]["delta"] is not None for key in METRICS)),
        "robustness": _robustness_rows(robustness_a or {}, robustness_b or {}),
    }


def _aggregate_row(key: str, a: dict, b: dict, change: dict, chance: float | None) -> dict:
    return {
        "key": key, "label": METRIC_LABELS[key], "chance": _round(chance),
        "a": _round(a["value"]), "a_low": _round(a["low"]), "a_high": _round(a["high"]),
        "b": _round(b["value"]), "b_low": _round(b["low"]), "b_high": _round(b["high"]),
        "difference": _round(change["delta"]), "ci_low": _round(change["low"]), "ci_high": _round(change["high"]),
        "p_value": _round(change["p_value"]), "p_holm": _round(change["p_holm"]),
        "significant": change["significant"], "significant_unadjusted": change["significant_unadjusted"],
    }  # fmt: skip


def _robustness_rows(robustness_a: dict, robustness_b: dict) -> list[dict]:
    """The robustness figures either side reports, side by side (evaluation-time, no CI)."""
    rows = []
    for key in ROBUSTNESS:
        a, b = _number(robustness_a.get(key)), _number(robustness_b.get(key))
        if a is None and b is None:
            continue
        rows.append({
            "key": key, "label": ROBUSTNESS_LABELS[key], "a": _round(a), "b": _round(b),
            "difference": _round(b - a) if a is not None and b is not None else None,
        })  # fmt: skip
    return rows


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), FIGURE_DIGITS) + 0.0  # + 0.0: no -0.0
