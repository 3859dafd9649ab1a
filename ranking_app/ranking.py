"""Ranking rules: the one home of the web side's ranking semantics.

Import, UI, API, export, agreement and comparison all use this module; the training engine keeps
its own short reader (``training/engine/data.py``, ``losses.py``) because it must not import
Django, and ``tests/unit/test_ranking_engine_agreement.py`` checks that both agree.

Two equivalent forms of one ranking:

* **ranks**: a list aligned with the responses; ``ranks[i]`` is the rank of response ``i``,
  lower is better, equal values are ties, ``None`` means unranked. Any integers are accepted
  and normalised to dense tiers ``0, 1, 2, ...`` (``[1, 3, 3, None]`` -> ``[0, 1, 1, None]``).
* **tiers**: ordered groups of response positions, best first (``[[2], [0, 3], [1]]``);
  positions that appear in no tier are unranked. This is how rankings are stored.

The two round-trip exactly: ``tiers_to_ranks(ranks_to_tiers(r), len(r)) == normalize_ranks(r)``.

Vectorised code needs integer arrays, where ``None`` cannot live: there, and only there, an
unranked response is ``UNRANKED_CODE`` (-1). ``dense_array``/``dense_matrix``/``ranks_array``
are the only ways in. Sections below: forms, arrays, pairs and weights, Kendall tau-b, the
train/test split, validation.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Ranks = list[int | None]
Tiers = list[list[int]]

WEIGHTINGS = ("none", "linear", "quadratic", "log")  # the engine's config.WEIGHTINGS must equal this
UNRANKED_CODE = -1  # "unranked" inside integer numpy arrays; lists say None
TEST_PERCENT = 20  # share of record ids the split rule puts in "test"


class RankingError(ValueError):
    """A ranking that breaks the rules; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class RankingRules:
    allow_ties: bool = True
    allow_partial: bool = True
    min_ranked: int = 2


# ---------------------------------------------------------------------------- forms
def normalize_ranks(ranks: Sequence[int | None]) -> Ranks:
    """Map any integer ranks to dense tiers 0, 1, 2, ... keeping ``None`` as unranked."""
    distinct = sorted({r for r in ranks if r is not None})
    dense = {value: tier for tier, value in enumerate(distinct)}
    return [None if r is None else dense[r] for r in ranks]


def ranks_to_tiers(ranks: Sequence[int | None]) -> Tiers:
    """Per-response ranks -> tiers of positions, best first (positions ascending in a tier)."""
    normalized = normalize_ranks(ranks)
    n_tiers = max((r for r in normalized if r is not None), default=-1) + 1
    tiers: Tiers = [[] for _ in range(n_tiers)]
    for position, tier in enumerate(normalized):
        if tier is not None:
            tiers[tier].append(position)
    return tiers


def tiers_to_ranks(tiers: Sequence[Sequence[int]], n_responses: int) -> Ranks:
    """Tiers of positions -> dense per-response ranks (``None`` where unranked)."""
    ranks: Ranks = [None] * n_responses
    for tier_index, tier in enumerate(t for t in tiers if t):
        for position in tier:
            ranks[position] = tier_index
    return ranks


def canonical_tiers(tiers: Sequence[Sequence[int]]) -> Tiers:
    """Drop empty tiers and sort positions inside each tier."""
    return [sorted(tier) for tier in tiers if tier]


# ---------------------------------------------------------------------------- arrays
def dense_matrix(rankings: Sequence[Sequence[Sequence[int]]], n_responses: int) -> np.ndarray:
    """Many tiers rankings -> int array (rankings, n): dense tier per response, ``UNRANKED_CODE`` where unranked.

    Filled in plain Python (faster than numpy per row for short rows). Raises ``RankingError`` when
    a position is outside ``0..n_responses - 1`` (the prompt's responses changed since).
    """
    rows = []
    for tiers in rankings:
        row = [UNRANKED_CODE] * n_responses
        for tier_index, tier in enumerate(t for t in tiers if t):
            for position in tier:
                if not 0 <= position < n_responses:
                    raise RankingError([f"response position {position} is out of range 0..{n_responses - 1}"])
                row[position] = tier_index
        rows.append(row)
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), n_responses)


def dense_array(tiers: Sequence[Sequence[int]], n_responses: int) -> np.ndarray:
    """One tiers ranking -> int array (n,): dense tier per response, ``UNRANKED_CODE`` where unranked."""
    return dense_matrix([tiers], n_responses)[0]


def ranks_array(ranks: Sequence[int | None]) -> np.ndarray:
    """Ranks (``None`` = unranked) -> normalised int array with ``UNRANKED_CODE`` where unranked."""
    normalized = normalize_ranks(ranks)
    return np.asarray([UNRANKED_CODE if r is None else r for r in normalized], dtype=np.int64)


def unranked_at_bottom(dense: np.ndarray) -> np.ndarray:
    """Unranked responses moved to one shared tier below the ranking's last tier (along the last axis).

    The agreement measures' reading of "unranked": worse than everything the annotator ranked.
    """
    bottom = dense.max(axis=-1, keepdims=True) + 1
    return np.where(dense == UNRANKED_CODE, bottom, dense)


# ---------------------------------------------------------------------------- pairs and weights
def has_valid_pair(ranks: Sequence[int | None]) -> bool:
    """True when at least two responses are ranked in different tiers (``None`` = unranked)."""
    return len({r for r in ranks if r is not None}) >= 2


def ranking_pairs(ranks: Sequence[int | None]) -> list[tuple[int, int, int]]:
    """Valid training pairs ``(better, worse, rank_gap)``: both ranked, strictly different tiers.

    Pairs are ordered by ``better`` then ``worse`` position; the gap is in dense tiers.
    """
    normalized = normalize_ranks(ranks)
    ranked = [(i, r) for i, r in enumerate(normalized) if r is not None]
    return [
        (i, j, rj - ri)
        for i, ri in ranked
        for j, rj in ranked
        if ri < rj
    ]


def pair_weight(rank_gap: int, weighting: str = "none") -> float:
    """Weight of a pair by its rank gap: none | linear | quadratic | log (= log(1 + gap))."""
    if weighting == "none":
        return 1.0
    if weighting == "linear":
        return float(rank_gap)
    if weighting == "quadratic":
        return float(rank_gap**2)
    if weighting == "log":
        return math.log1p(rank_gap)
    raise ValueError(f"weighting: must be one of {', '.join(WEIGHTINGS)} (got {weighting!r})")


def weighted_pairs(ranks: Sequence[int | None], weighting: str = "none") -> list[tuple[int, int, int, float]]:
    """``(better, worse, rank_gap, weight)`` of every valid pair: what the training loss sums over.

    The engine builds the same pairs and weights as tensors (``training/engine/losses.py``
    ``valid_pair_mask``/``pair_weights``); ``tests/unit/test_ranking_engine_agreement.py`` holds
    the two equal for every weighting.
    """
    return [(i, j, gap, pair_weight(gap, weighting)) for i, j, gap in ranking_pairs(ranks)]


# ---------------------------------------------------------------------------- Kendall tau-b
def tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b (scipy) between two equal-length sequences of numbers; None when undefined.

    Plain numbers only: the caller decides how unranked responses enter (``unranked_at_bottom``,
    or keep only the responses both sides ranked).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(set(x.tolist())) < 2 or len(set(y.tolist())) < 2:
        return None
    from scipy.stats import kendalltau  # lazily: import, API and export never pay for scipy

    value = kendalltau(x, y, variant="b").statistic
    return float(value) if math.isfinite(value) else None


def tau_b_batch(x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Kendall's tau-b along the last axis of ``x`` and ``y`` (broadcasting); NaN where undefined.

    tau_b = sum_{i<j} sgn(x_i - x_j) sgn(y_i - y_j) / sqrt((n0 - n1)(n0 - n2)), equal to scipy's
    ``kendalltau(variant="b")``; summing over all ordered pairs doubles numerator and both pair
    counts alike, so the ratio is unchanged. ``mask`` (same shape, bool) keeps only the pairs of
    responses where it is True in both places.
    """
    sx = np.sign(x[..., :, None] - x[..., None, :])
    sy = np.sign(y[..., :, None] - y[..., None, :])
    if mask is not None:
        pair = mask[..., :, None] & mask[..., None, :]
        sx, sy = sx * pair, sy * pair
    numerator = (sx * sy).sum((-1, -2))
    scale = np.sqrt((sx * sx).sum((-1, -2)) * (sy * sy).sum((-1, -2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, numerator / np.where(scale > 0, scale, 1), np.nan)


# ---------------------------------------------------------------------------- train/test split
def split_bucket(record_id: str) -> int:
    """0..99 from the sha256 of the id: the bucket the split rule compares with the test percent."""
    return int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:8], 16) % 100


def split_for(record_id: str, test_percent: int = TEST_PERCENT) -> str:
    """``"test"`` for about ``test_percent``% of ids, ``"train"`` for the rest (stable per id).

    The engine's ``is_held_out`` (``training/engine/data.py``) applies the same rule to records
    without a split; a test checks that the two agree.
    """
    return "test" if split_bucket(record_id) < test_percent else "train"


# ---------------------------------------------------------------------------- validation
def ranks_errors(
    ranks: object, n_responses: int, rules: RankingRules = RankingRules(), *, submitted: bool = True
) -> list[str]:
    """Every reason ``ranks`` is not acceptable for a prompt with ``n_responses`` responses."""
    if not isinstance(ranks, list):
        return [f"must be a list of integers or nulls (got {type(ranks).__name__})"]
    errors = []
    bad = [i for i, r in enumerate(ranks) if r is not None and (isinstance(r, bool) or not isinstance(r, int))]
    if bad:
        errors.append(f"entries must be integers or null (bad at index {', '.join(map(str, bad))})")
    if len(ranks) != n_responses:
        errors.append(f"has {len(ranks)} entries but there are {n_responses} responses")
    if errors:
        return errors
    ranked = [r for r in ranks if r is not None]
    if not rules.allow_partial and len(ranked) < len(ranks) and submitted:
        errors.append("every response must be ranked (partial rankings are not allowed in this project)")
    if not rules.allow_ties and len(set(ranked)) < len(ranked):
        errors.append("ties are not allowed in this project")
    if submitted and len(ranked) < rules.min_ranked:
        errors.append(f"rank at least {rules.min_ranked} responses")
    return errors


def validate_ranks(
    ranks: object, n_responses: int, rules: RankingRules = RankingRules(), *, submitted: bool = True
) -> Ranks:
    """Return the normalised ranks or raise ``RankingError`` listing every problem."""
    errors = ranks_errors(ranks, n_responses, rules, submitted=submitted)
    if errors:
        raise RankingError(errors)
    return normalize_ranks(ranks)  # type: ignore[arg-type]


def tiers_errors(tiers: object, n_responses: int) -> list[str]:
    """Structural problems of a tiers value (positions out of range or repeated)."""
    if not isinstance(tiers, list) or not all(isinstance(t, list) for t in tiers):
        return ["tiers must be a list of lists of response positions"]
    seen: set[int] = set()
    for tier in tiers:
        for position in tier:
            if isinstance(position, bool) or not isinstance(position, int):
                return [f"tier entries must be integers (got {position!r})"]
            if not 0 <= position < n_responses:
                return [f"response position {position} is out of range 0..{n_responses - 1}"]
            if position in seen:
                return [f"response position {position} appears more than once"]
            seen.add(position)
    return []


def validate_tiers(
    tiers: object, n_responses: int, rules: RankingRules = RankingRules(), *, submitted: bool = True
) -> Tiers:
    """Return canonical tiers or raise ``RankingError`` (structure, then the project's rules)."""
    errors = tiers_errors(tiers, n_responses)
    if errors:
        raise RankingError(errors)
    clean = canonical_tiers(tiers)  # type: ignore[arg-type]
    validate_ranks(tiers_to_ranks(clean, n_responses), n_responses, rules, submitted=submitted)
    return clean
