"""Ranking semantics: the one contract shared by import, UI, API, export and training.

Two equivalent forms:

* **ranks**: a list aligned with the responses; ``ranks[i]`` is the rank of response ``i``,
  lower is better, equal values are ties, ``None`` means unranked. Any integers are accepted
  and normalised to dense tiers ``0, 1, 2, ...`` (``[1, 3, 3, None]`` -> ``[0, 1, 1, None]``).
* **tiers**: ordered groups of response positions, best first (``[[2], [0, 3], [1]]``);
  positions that appear in no tier are unranked. This is how rankings are stored.

The two round-trip exactly: ``tiers_to_ranks(ranks_to_tiers(r), len(r)) == normalize_ranks(r)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Ranks = list[int | None]
Tiers = list[list[int]]

WEIGHTINGS = ("none", "linear", "quadratic", "log")


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


def ranking_pairs(ranks: Sequence[int | None]) -> list[tuple[int, int, int]]:
    """Valid training pairs ``(better, worse, rank_gap)``: both ranked, strictly different tiers."""
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
