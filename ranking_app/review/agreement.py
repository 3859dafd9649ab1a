"""Agreement between annotators on rankings: pure functions over plain data (no ORM).

Conventions (see docs/agreement.md):

* A ranking is stored as tiers (best first). For Kendall's W a ranking becomes *mid-ranks* 1..n:
  tied responses share the mean of the places they occupy.
* **Unranked is excluded, not a tier**, everywhere: in the consensus (``borda_consensus``), in the
  engine's soft targets, metrics, human ceiling and the export, and in the agreement figures. An
  unranked response takes no part in the annotator's comparisons; it is neither above nor below
  anything that annotator ranked. So tau-b between two rankings counts the responses both ranked
  (per pair), Kendall's W the responses every annotator of the prompt ranked (per item: W needs
  complete rankings of the same items), and the leave-one-out agreement compares an annotator with
  the others' Borda consensus on the responses both sides ranked.
* For Krippendorff's alpha the unit is one (prompt, response), the value is the response's
  dense tier (0 = best) from each annotator, and an unranked response is a **missing** value.
* Per-prompt figures are vectorised with numpy over prompts that share the same number of
  annotators and responses, so a project of 10,000 prompts is a handful of array operations.

Tiers to arrays and the tau-b kernel come from ``ranking_app.ranking``; this module adds W, mid-ranks, consensus, alpha and the status rule.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import krippendorff
import numpy as np

from ..ranking import UNRANKED_CODE, Tiers, dense_matrix, ranks_to_tiers, tau_b_batch
from ..ranking import tau_b as ranking_tau_b

VALIDATED = "validated"
NEEDS_REVIEW = "needs_review"
IN_PROGRESS = "in_progress"
STATUSES = (VALIDATED, NEEDS_REVIEW, IN_PROGRESS)

# Cells of the largest temporary array (prompts x annotators x n x n) built at once.
_CHUNK_CELLS = 4_000_000
# Tolerance when comparing W to a threshold (W is a ratio of floats).
_EPS = 1e-9


# ---------------------------------------------------------------------------- mid-ranks
def midranks(dense: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Fractional ranks 1..k along the last axis; ties share the mean of their places.

    ``among`` (broadcastable to ``dense``, bool): rank each row only among the responses where it is
    True (the others' values are meaningless); ``None``: among all of them.
    """
    inside = True if among is None else among[..., None, :]
    less = ((dense[..., None, :] < dense[..., :, None]) & inside).sum(-1)
    equal = ((dense[..., None, :] == dense[..., :, None]) & inside).sum(-1)
    return less + (equal + 1) / 2.0


def _none_if_nan(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


# ---------------------------------------------------------------------------- Kendall's W
def kendall_w_batch(dense: np.ndarray) -> np.ndarray:
    """Kendall's W with tie correction for each prompt of ``dense`` (prompts, m, n), over the responses
    every annotator of the prompt ranked (unranked is excluded, not a tier; W needs complete rankings).

    With k such responses, each annotator's ranking of them as mid-ranks 1..k:
    W = 12 S / (m^2 (k^3 - k) - m * sum T), S = sum of squared deviations of the rank sums from
    their mean, T = sum over each annotator's tie groups of (t^3 - t). NaN where W is undefined
    (fewer than 2 annotators, fewer than 2 responses ranked by all, or every annotator tied them all).
    """
    _, m, _ = dense.shape
    common = (dense != UNRANKED_CODE).all(axis=1)  # (P, n): ranked by every annotator
    equal = ((dense[..., None, :] == dense[..., :, None]) & common[:, None, None, :]).sum(-1)
    mids = midranks(dense, common[:, None, :])
    k = common.sum(-1)
    deviations = np.where(common, mids.sum(axis=1) - m * (k[:, None] + 1) / 2.0, 0.0)
    ties = np.where(common[:, None, :], equal**2 - 1, 0).sum((-1, -2))  # a group of t: t elements of t^2 - 1
    denominator = m * m * (k**3 - k) - m * ties
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where((denominator > 0) & (m >= 2), 12.0 * (deviations**2).sum(-1) / denominator, np.nan)
    return np.clip(w, 0.0, 1.0)


def kendall_w(rankings: Sequence[Tiers], n_responses: int) -> float | None:
    """Kendall's W of one prompt's rankings (tiers), or None when it is undefined."""
    if len(rankings) < 2:
        return None
    dense = dense_matrix(rankings, n_responses)[None]
    return _none_if_nan(kendall_w_batch(dense)[0])


# ---------------------------------------------------------------------------- Kendall's tau-b
def tau_b(a: Tiers, b: Tiers, n_responses: int) -> float | None:
    """Kendall's tau-b (scipy) between two rankings over the responses both ranked (unranked excluded);
    None when it is undefined (fewer than two such responses, or one side tied them all)."""
    x, y = dense_matrix([a, b], n_responses)
    both = (x != UNRANKED_CODE) & (y != UNRANKED_CODE)
    return ranking_tau_b(x[both], y[both])


def tau_b_matrix(rankings: dict[Hashable, Tiers], n_responses: int) -> dict[Hashable, dict[Hashable, float | None]]:
    """Tau-b between every two annotators of one prompt: ``matrix[a][b]`` (1.0 on the diagonal)."""
    keys = list(rankings)
    matrix: dict[Hashable, dict[Hashable, float | None]] = {a: {} for a in keys}
    for i, a in enumerate(keys):
        matrix[a][a] = 1.0
        for b in keys[i + 1 :]:
            matrix[a][b] = matrix[b][a] = tau_b(rankings[a], rankings[b], n_responses)
    return matrix


# ---------------------------------------------------------------------------- consensus
def consensus_from_rank_sums(rank_sums: Sequence[float], ranked_by_anyone: Sequence[bool]) -> Tiers:
    """Tiers ordered by rank sum (lower is better); equal sums tie; never-ranked stay unranked."""
    return ranks_to_tiers([float(r) if ok else None for r, ok in zip(rank_sums, ranked_by_anyone, strict=True)])


def borda_points(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each annotator's normalised tie-aware Borda points for each response it ranked (unranked excluded).

    ``dense`` (..., m, n): dense tiers, ``UNRANKED_CODE`` where unranked. An annotator who ranked k >= 2
    responses gives each of them (one point per response of those k strictly below it, half a point
    per response tied with it) / (k - 1), in [0, 1]. Returns (points (..., m, n), 0 where none;
    given (..., m, n): True where the annotator gave the response points).
    """
    ranked = dense != UNRANKED_CODE
    both = ranked[..., None, :] & ranked[..., :, None]
    below = ((dense[..., None, :] > dense[..., :, None]) & both).sum(-1)
    tied = ((dense[..., None, :] == dense[..., :, None]) & both).sum(-1) - 1
    k = ranked.sum(-1, keepdims=True)
    given = ranked & (k >= 2)
    return np.where(given, (below + 0.5 * tied) / np.maximum(k - 1, 1), 0.0), given


def borda_scores(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised tie-aware Borda score of each response: the mean of ``borda_points`` over the annotators
    who ranked it with at least one other. Returns (scores (..., n), counted (..., n): True where at
    least one annotator compared the response; its score is 0 elsewhere)."""
    points, given = borda_points(dense)
    counts = given.sum(-2)
    return points.sum(-2) / np.maximum(counts, 1), counts > 0


def consensus_keys(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sort keys, lower is better, rounded so equal scores tie; counted) for ``consensus_batch``."""
    scores, counted = borda_scores(dense)
    return np.round(-scores, 9), counted


def borda_consensus(rankings: Sequence[Tiers], n_responses: int) -> Tiers:
    """Tie-aware Borda consensus of one prompt's rankings, unranked responses excluded (``borda_scores``).

    Responses are ordered by score; equal scores form a tie. A response that no annotator compared
    with another stays unranked. With complete rankings this is the classic Borda count (the order
    of the rank sums Kendall's W uses).
    """
    if not rankings:
        return []
    keys, counted = consensus_keys(dense_matrix(rankings, n_responses))
    return consensus_from_rank_sums(keys.tolist(), counted.tolist())


# ---------------------------------------------------------------------------- Krippendorff's alpha
def krippendorff_alpha_from_counts(value_counts: np.ndarray, level: str = "ordinal") -> float | None:
    """Krippendorff's alpha (the ``krippendorff`` package) from a units x values count matrix.

    None when it is undefined: fewer than two pairable values, or a single value in use.
    """
    counts = np.asarray(value_counts, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] < 2:
        return None
    counts = counts[counts.sum(axis=1) >= 2]  # only units with two or more values are pairable
    if counts.shape[0] == 0 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _none_if_nan(float(krippendorff.alpha(value_counts=counts, level_of_measurement=level)))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None


# ---------------------------------------------------------------------------- status rule
def prompt_status(
    *, n_submitted: int, target: int, kendall_w: float | None, threshold: float, adjudicated: bool
) -> str:
    """The validation rule (one place): adjudicated, or enough rankings that agree enough.

    * ``validated``: adjudicated by a reviewer; or at least ``target`` submitted rankings and
      W >= ``threshold`` (a target of 1 with one ranking has no W to check and is validated).
    * ``needs_review``: at least ``target`` submitted rankings but W below the threshold (or
      undefined, e.g. every annotator tied every response).
    * ``in_progress``: fewer than ``target`` submitted rankings.
    """
    if adjudicated:
        return VALIDATED
    if n_submitted < max(target, 1):
        return IN_PROGRESS
    if n_submitted < 2:
        return VALIDATED
    if kendall_w is not None and kendall_w + _EPS >= threshold:
        return VALIDATED
    return NEEDS_REVIEW


# ---------------------------------------------------------------------------- project figures
@dataclass(frozen=True)
class PromptData:
    """One prompt's submitted rankings (tiers) by annotator key, and its gold ranking if any."""

    prompt_id: int
    n_responses: int
    rankings: dict[Hashable, Tiers]
    gold: Tiers | None = None


@dataclass
class PromptFigures:
    kendall_w: float | None
    n_submitted: int
    consensus: Tiers


@dataclass
class AnnotatorFigures:
    agreement: float | None = None  # mean tau-b with the leave-one-out consensus of the others
    n_compared: int = 0  # prompts that entered ``agreement``
    gold_agreement: float | None = None  # mean tau-b with gold rankings
    n_gold: int = 0


@dataclass
class ProjectFigures:
    krippendorff_alpha: float | None
    prompts: dict[int, PromptFigures]
    annotators: dict[Hashable, AnnotatorFigures] = field(default_factory=dict)


def _chunks(n_items: int, cells_per_item: int) -> Iterable[slice]:
    step = max(1, _CHUNK_CELLS // max(cells_per_item, 1))
    for start in range(0, n_items, step):
        yield slice(start, min(start + step, n_items))


def _group_figures(dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W (P,) and leave-one-out tau-b (P, m) for one (m, n) group.

    Leave-one-out: each annotator against the Borda consensus of the others (``borda_points`` of the
    others, averaged over those who ranked the response), over the responses the annotator ranked
    and at least one other annotator compared; unranked is excluded on both sides."""
    w = kendall_w_batch(dense)
    if dense.shape[1] < 2:
        return w, np.full(dense.shape[:2], np.nan)
    points, given = borda_points(dense)
    others_given = given.sum(-2, keepdims=True) - given
    others = np.round((points.sum(-2, keepdims=True) - points) / np.maximum(others_given, 1), 9)  # equal ties
    compared = (dense != UNRANKED_CODE) & (others_given > 0)
    return w, tau_b_batch(dense.astype(float), -others, compared)


def consensus_batch(rank_sums: np.ndarray, ranked_any: np.ndarray) -> list[Tiers]:
    """``consensus_from_rank_sums`` for many prompts at once (prompts x n arrays)."""
    values = np.where(ranked_any, rank_sums, np.inf)
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    new_tier = np.ones(ordered.shape, dtype=bool)
    new_tier[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    tier_of_sorted = np.cumsum(new_tier, axis=1) - 1
    finite = np.isfinite(ordered)
    result = []
    for order_row, tier_row, finite_row in zip(order.tolist(), tier_of_sorted.tolist(), finite.tolist(), strict=True):
        tiers: Tiers = []
        for position, tier, ok in zip(order_row, tier_row, finite_row, strict=True):
            if not ok:
                break
            if tier == len(tiers):
                tiers.append([])
            tiers[-1].append(position)
        result.append([sorted(t) for t in tiers])
    return result


def project_figures(prompts: Iterable[PromptData]) -> ProjectFigures:
    """W, consensus, annotator agreement (LOO and gold) and alpha for a whole project."""
    groups: dict[tuple[int, int], list[PromptData]] = defaultdict(list)
    figures: dict[int, PromptFigures] = {}
    for prompt in prompts:
        if prompt.rankings:
            groups[(len(prompt.rankings), prompt.n_responses)].append(prompt)
        else:
            figures[prompt.prompt_id] = PromptFigures(None, 0, [])

    loo_sum: dict[Hashable, float] = defaultdict(float)
    loo_n: dict[Hashable, int] = defaultdict(int)
    gold_sum: dict[Hashable, float] = defaultdict(float)
    gold_n: dict[Hashable, int] = defaultdict(int)
    unit_blocks: list[np.ndarray] = []
    for (m, n), members in groups.items():
        for part in _chunks(len(members), m * n * n):
            chunk = members[part]
            keys = [list(p.rankings) for p in chunk]
            flat = dense_matrix([p.rankings[k] for p, ks in zip(chunk, keys, strict=True) for k in ks], n)
            dense = flat.reshape(len(chunk), m, n)
            w, loo = _group_figures(dense)
            consensus = consensus_batch(*consensus_keys(dense))
            w_list = w.tolist()
            for i, prompt in enumerate(chunk):
                figures[prompt.prompt_id] = PromptFigures(_none_if_nan(w_list[i]), m, consensus[i])
            _accumulate(keys, loo, loo_sum, loo_n)
            _gold_agreement(chunk, keys, dense, gold_sum, gold_n)
            unit_blocks.append(_value_counts(dense))

    keys = dict.fromkeys(key for members in groups.values() for prompt in members for key in prompt.rankings)
    annotators = {key: _annotator_figures(key, loo_sum, loo_n, gold_sum, gold_n) for key in keys}
    return ProjectFigures(krippendorff_alpha=project_alpha(unit_blocks), prompts=figures, annotators=annotators)


def _annotator_figures(key: Hashable, loo_sum: dict, loo_n: dict, gold_sum: dict, gold_n: dict) -> AnnotatorFigures:
    return AnnotatorFigures(
        agreement=loo_sum[key] / loo_n[key] if loo_n[key] else None,
        n_compared=loo_n[key],
        gold_agreement=gold_sum[key] / gold_n[key] if gold_n[key] else None,
        n_gold=gold_n[key],
    )


def _accumulate(keys: list[list[Hashable]], taus: np.ndarray, sums: dict, counts: dict) -> None:
    """Add each finite tau (prompts x annotators) to its annotator's running sum and count."""
    for row_keys, row in zip(keys, taus.tolist(), strict=True):
        for key, tau in zip(row_keys, row, strict=True):
            if math.isfinite(tau):
                sums[key] += tau
                counts[key] += 1


def _gold_agreement(chunk, keys, dense, gold_sum, gold_n) -> None:
    with_gold = [i for i, p in enumerate(chunk) if p.gold]
    if not with_gold:
        return
    n = dense.shape[-1]
    gold = dense_matrix([chunk[i].gold for i in with_gold], n)
    own, gold = dense[with_gold], np.broadcast_to(gold[:, None, :], dense[with_gold].shape)
    taus = tau_b_batch(own, gold, (own != UNRANKED_CODE) & (gold != UNRANKED_CODE))  # over what both ranked
    _accumulate([keys[i] for i in with_gold], taus, gold_sum, gold_n)


def _value_counts(dense: np.ndarray) -> np.ndarray:
    """Units (prompt, response) x tier values: how many annotators put the response in each tier."""
    p, _, n = dense.shape
    n_values = int(dense.max()) + 1 if dense.size else 1
    counts = np.zeros((p * n, max(n_values, 1)), dtype=np.int64)
    prompt_index, _, position = np.nonzero(dense != UNRANKED_CODE)
    np.add.at(counts, (prompt_index * n + position, dense[dense != UNRANKED_CODE]), 1)
    return counts


def project_alpha(blocks: Sequence[np.ndarray], level: str = "ordinal") -> float | None:
    """Krippendorff's alpha over value-count blocks of differing widths (padded with zeros)."""
    blocks = [b for b in blocks if b.size]
    if not blocks:
        return None
    width = max(b.shape[1] for b in blocks)
    padded = [np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks]
    return krippendorff_alpha_from_counts(np.concatenate(padded), level)


def alpha_from_prompts(prompts: Iterable[PromptData], level: str = "ordinal") -> float | None:
    """Krippendorff's alpha of the given prompts' rankings (unit = prompt x response)."""
    blocks = []
    for prompt in prompts:
        if prompt.rankings:
            dense = dense_matrix(list(prompt.rankings.values()), prompt.n_responses)
            blocks.append(_value_counts(dense[None]))
    return project_alpha(blocks, level)


def w_histogram(values: Iterable[float | None], bins: int = 10) -> list[dict]:
    """Counts of W in ``bins`` equal bins over [0, 1] (the last bin includes 1.0)."""
    counts = [0] * bins
    for value in values:
        if value is not None:
            counts[min(int(value * bins), bins - 1)] += 1
    return [
        {"low": round(i / bins, 4), "high": round((i + 1) / bins, 4), "count": c} for i, c in enumerate(counts)
    ]
