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
* ``bootstrap_difference``: paired percentile bootstrap over prompts of (B - A) for every metric,
  vectorised with numpy, deterministic for a given seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ranking_app import ranking
from training.engine.metrics import kendall_tau_b, ndcg, pair_outcomes, relevance

METRICS = ("accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy")
METRIC_LABELS = {
    "accuracy": "Top-1 accuracy",
    "ndcg": "nDCG",
    "mrr": "MRR",
    "kendall_tau": "Kendall tau-b",
    "pairwise_accuracy": "Pairwise accuracy",
}
ROBUSTNESS = ("order_consistency", "whitespace_consistency", "whitespace_kendall_tau")
ROBUSTNESS_LABELS = {
    "order_consistency": "Robustness: same ranking with responses reversed",
    "whitespace_consistency": "Robustness: same ranking with whitespace perturbed",
    "whitespace_kendall_tau": "Robustness: tau-b under whitespace perturbation",
}
DEFAULT_N_BOOT = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
FIGURE_DIGITS = 4  # every aggregate figure is rounded to this many decimals (page, export, command)
_BOOT_CELLS = 2_000_000  # largest resample-index array built at once


class CompareError(ValueError):
    """A comparison cannot be made as asked; the message says why."""


# ---------------------------------------------------------------------------- conversions
def rank_scores(ranks: Sequence[int]) -> list[float]:
    """Scores of a person's ranking: ``-rank``, unranked responses sharing a tier below the last."""
    if not len(ranks):
        return []
    return (-ranking.unranked_at_bottom(np.asarray(ranks, dtype=np.int64))).astype(float).tolist()


def clean_scores(scores: Sequence[float | None]) -> list[float]:
    """Stored model scores with missing (non-finite) values put just below the lowest one."""
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    floor = (min(finite) if finite else 0.0) - 1.0
    return [float(s) if s is not None and math.isfinite(s) else floor for s in scores]


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
    order = np.argsort(-s, kind="stable")
    outcomes = pair_outcomes(s, r)
    return {
        "accuracy": float(r[int(np.argmax(s))] == 0),
        "ndcg": ndcg(relevance(r), s),
        "mrr": 1.0 / (int(np.nonzero(r[order] == 0)[0][0]) + 1),
        "kendall_tau": kendall_tau_b(s, r) if tau is None else tau,  # nan when undefined
        "pairs_correct": float(sum(outcomes)),
        "n_pairs": len(outcomes),
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


def metric_table(per_prompt: Sequence[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each metric as (numerator, denominator) per prompt: the aggregate is sum(num) / sum(den).

    Means over prompts have denominator 1 (0 where the value is undefined, e.g. tau); pairwise
    accuracy is pooled over pairs (numerator correct pairs, denominator pairs), as in the engine.
    """
    table = {}
    for key in ("accuracy", "ndcg", "mrr", "kendall_tau"):
        values = np.array([m[key] for m in per_prompt], dtype=float)
        defined = np.isfinite(values)
        table[key] = (np.where(defined, values, 0.0), defined.astype(float))
    table["pairwise_accuracy"] = (
        np.array([m["pairs_correct"] for m in per_prompt], dtype=float),
        np.array([m["n_pairs"] for m in per_prompt], dtype=float),
    )
    return table


def aggregate_metrics(per_prompt: Sequence[dict]) -> dict[str, float | None]:
    """Metrics over prompts (None where undefined for every prompt)."""
    table = metric_table(per_prompt)
    return {key: _ratio(*table[key]) for key in METRICS}


def _ratio(num: np.ndarray, den: np.ndarray) -> float | None:
    total = float(den.sum())
    return float(num.sum()) / total if total > 0 else None


def bootstrap_difference(
    table_a: dict[str, tuple[np.ndarray, np.ndarray]],
    table_b: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> dict[str, tuple[float, float] | None]:
    """Percentile bootstrap CI of (B - A) per metric: prompts resampled with replacement, the same
    resamples for both sources (paired) and for every metric. None where no resample is defined."""
    if n_boot < 1:
        raise CompareError(f"n_boot: must be at least 1 (got {n_boot})")
    if not 0 < confidence < 1:
        raise CompareError(f"confidence: must be between 0 and 1 (got {confidence})")
    n = len(next(iter(table_a.values()))[0]) if table_a else 0
    if n == 0:
        return {key: None for key in table_a}
    rng = np.random.default_rng(seed)
    diffs = {key: np.empty(n_boot) for key in table_a}
    chunk = max(1, _BOOT_CELLS // n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n_boot, chunk):
            size = min(chunk, n_boot - start)
            idx = rng.integers(0, n, size=(size, n))
            for key in table_a:
                (num_a, den_a), (num_b, den_b) = table_a[key], table_b[key]
                a = num_a[idx].sum(1) / den_a[idx].sum(1)
                b = num_b[idx].sum(1) / den_b[idx].sum(1)
                diffs[key][start : start + size] = b - a
    tail = 100 * (1 - confidence) / 2
    result = {}
    for key, values in diffs.items():
        finite = values[np.isfinite(values)]
        result[key] = None if finite.size == 0 else tuple(float(x) for x in np.percentile(finite, [tail, 100 - tail]))
    return result


def compare_aggregates(
    metrics_a: Sequence[dict],
    metrics_b: Sequence[dict],
    *,
    robustness_a: dict | None = None,
    robustness_b: dict | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = DEFAULT_SEED,
) -> dict:
    """Side-by-side aggregate figures of A and B on the same prompts, B - A and its bootstrap CI.

    ``metrics_a[k]`` and ``metrics_b[k]`` are ``prompt_metrics`` of the same prompt. Every figure is
    rounded to ``FIGURE_DIGITS`` decimals: what the page, the exports and the command all show.
    """
    if len(metrics_a) != len(metrics_b):
        raise CompareError(f"A has {len(metrics_a)} prompts, B has {len(metrics_b)}: they must be the same prompts")
    table_a, table_b = metric_table(metrics_a), metric_table(metrics_b)
    cis = bootstrap_difference(table_a, table_b, n_boot=n_boot, seed=seed)
    rows = []
    for key in METRICS:
        a, b = _ratio(*table_a[key]), _ratio(*table_b[key])
        ci = cis[key]
        rows.append({
            "key": key, "label": METRIC_LABELS[key], "a": _round(a), "b": _round(b),
            "difference": _round(b - a) if a is not None and b is not None else None,
            "ci_low": _round(ci[0]) if ci else None, "ci_high": _round(ci[1]) if ci else None,
        })  # fmt: skip
    return {
        "n_prompts": len(metrics_a),
        "n_pairs": int(table_a["pairwise_accuracy"][1].sum()) if metrics_a else 0,
        "n_boot": n_boot,
        "seed": seed,
        "confidence": CONFIDENCE,
        "metrics": rows,
        "robustness": _robustness_rows(robustness_a or {}, robustness_b or {}),
    }


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
