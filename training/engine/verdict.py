"""The verdict of an evaluation: one pre-declared comparison of the tuned model with its base model.

Pure numpy (the web app reads the same definitions). docs/training.md ("The verdict") explains it:

* the **metric** is picked at launch (``primary_metric``, default pairwise accuracy over ranked pairs);
* the **scoring** is a policy log-prob both models have, matching the loss (``verdict_scoring``):
  mean token log-prob for length-normalised or ORPO runs, summed log-prob otherwise;
* tuned minus base on the held-out prompts, with the 95% paired bootstrap interval over prompts,
  gives the **outcome**: "better than base" (interval above 0), "worse than base" (below 0), else
  "no detectable change"; it is one comparison declared in advance, so it is not adjusted;
* **length**: the same paired comparison of the tuned model with the "longer is better" baseline,
  and pairwise accuracy on the pairs whose better response is the shorter one (length-controlled).
"""

from __future__ import annotations

import numpy as np

from .metrics import BOOT_SEED, METRICS, intervals, metric_terms, paired_change

PRIMARY_METRIC = "pairwise_accuracy"
VERDICT_SCORINGS = ("sum_logp", "mean_logp")
BETTER, NO_CHANGE, WORSE = "better than base", "no detectable change", "worse than base"
BEATS_LONGER, TIES_LONGER, LOSES_LONGER = ("beats longer is better", "no detectable difference from longer is better",
                                           "worse than longer is better")  # fmt: skip


def verdict_scoring(loss: str | None = None, length_normalize: bool | None = False) -> str:
    """The log-prob scoring that matches the loss: mean for ORPO or length-normalised runs, else sum."""
    return "mean_logp" if loss == "orpo" or length_normalize else "sum_logp"


def check_primary_metric(metric: str | None) -> str:
    """``metric`` (default pairwise accuracy) if the engine computes it; ValueError naming the choices."""
    metric = metric or PRIMARY_METRIC
    if metric not in METRICS:
        raise ValueError(f"primary_metric: must be one of {', '.join(METRICS)} (got {metric!r})")
    return metric


def outcome(low: float | None, high: float | None, words: tuple[str, str, str] = (BETTER, NO_CHANGE, WORSE)) -> str:
    """The sentence of a paired interval: above 0, below 0, or straddling it (or undefined)."""
    if low is not None and low > 0:
        return words[0]
    if high is not None and high < 0:
        return words[2]
    return words[1]


def shorter_better_terms(scores_per_prompt, ranks_per_prompt, lengths_per_prompt) -> np.ndarray:
    """(n_prompts, 2) (correct, pairs) over the ranked pairs whose better response is strictly shorter;
    a tied score counts half."""
    rows = []
    for scores, ranks, lengths in zip(scores_per_prompt, ranks_per_prompt, lengths_per_prompt, strict=True):
        s, r, n = np.asarray(scores, dtype=float), np.asarray(ranks), np.asarray(lengths, dtype=float)
        i, j = np.nonzero((r[:, None] >= 0) & (r[None, :] >= 0) & (r[:, None] < r[None, :]) & (n[:, None] < n[None, :]))
        correct = np.where(s[i] > s[j], 1.0, np.where(s[i] == s[j], 0.5, 0.0))
        rows.append((float(correct.sum()), float(len(i))))
    return np.array(rows, dtype=float).reshape(len(rows), 2)


def _paired(before: np.ndarray, after: np.ndarray, seed: int) -> dict:
    change = paired_change({"x": before}, {"x": after}, seed)["x"]
    return {key: change[key] for key in ("delta", "low", "high", "p_value")}


def _figure(terms: np.ndarray, seed: int) -> dict:
    return intervals({"x": terms}, seed)["x"]


def length_controlled(base, tuned, ranks, lengths, seed: int = BOOT_SEED) -> dict:
    """Pairwise accuracy of base and tuned on the pairs where the better response is the shorter one."""
    before = shorter_better_terms(base, ranks, lengths)
    after = shorter_better_terms(tuned, ranks, lengths)
    base_figure, tuned_figure = _figure(before, seed), _figure(after, seed)
    return {
        "metric": "pairwise_accuracy", "n_pairs": int(before[:, 1].sum()),
        "base": base_figure["value"], "base_low": base_figure["low"], "base_high": base_figure["high"],
        "tuned": tuned_figure["value"], "tuned_low": tuned_figure["low"], "tuned_high": tuned_figure["high"],
        **_paired(before, after, seed),
    }  # fmt: skip


def build_verdict(metric: str, scoring: str, base, tuned, ranks, lengths, seed: int = BOOT_SEED) -> dict:
    """The verdict of ``tuned`` vs ``base`` scores (per prompt, one ``scoring``) on ``metric``:
    base, tuned, delta, low, high, outcome, plus the "longer is better" comparison and the
    length-controlled pairwise accuracy (see the module doc)."""
    metric = check_primary_metric(metric)
    before, after = metric_terms(base, ranks)[metric], metric_terms(tuned, ranks)[metric]
    longer = metric_terms([np.asarray(n, dtype=float) for n in lengths], ranks)[metric]
    change, base_figure, tuned_figure = _paired(before, after, seed), _figure(before, seed), _figure(after, seed)
    versus_longer = _paired(longer, after, seed)
    return {
        "metric": metric, "scoring": scoring, "split": "test", "n_prompts": len(ranks),
        "n_pairs": int(metric_terms(tuned, ranks)["pairwise_accuracy"][:, 1].sum()),
        "base": base_figure["value"], "tuned": tuned_figure["value"], **change,
        "base_low": base_figure["low"], "base_high": base_figure["high"],
        "tuned_low": tuned_figure["low"], "tuned_high": tuned_figure["high"],
        "outcome": outcome(change["low"], change["high"]),
        "longer": {"value": _figure(longer, seed)["value"], **versus_longer,
                   "outcome": outcome(versus_longer["low"], versus_longer["high"],
                                      (BEATS_LONGER, TIES_LONGER, LOSES_LONGER))},
        "length_controlled": length_controlled(base, tuned, ranks, lengths, seed),
    }  # fmt: skip


def verdict_sentence(verdict: dict) -> str:
    """One line: the outcome with its figures (CLI, logs, the model card)."""
    def fmt(value):
        return "n/a" if value is None else f"{value:.3f}"

    return (f"{verdict['outcome']}: {verdict['metric']} ({verdict['scoring']}) base {fmt(verdict['base'])} -> tuned "
            f"{fmt(verdict['tuned'])}, change {fmt(verdict['delta'])} [{fmt(verdict['low'])}, {fmt(verdict['high'])}]"
            f" (95% paired bootstrap over {verdict['n_prompts']} held-out prompts); "
            f"{verdict['longer']['outcome']} ({fmt(verdict['longer']['value'])})")
