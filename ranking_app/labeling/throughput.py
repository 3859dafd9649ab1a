"""Labeling throughput: seconds and keystrokes per submitted ranking, by K (responses per prompt).

Seconds are what the rank page measured (``Ranking.time_spent_ms``, every save of the ranking
added up; imports keep the times their file gave). Keystrokes are the keys the rank page acted on
(``Ranking.keystrokes``); rankings stored before the page counted keys, or through the API or an
import, have none and are left out of the keystroke figures. Each median comes with a
distribution-free 95% interval (order statistics of the binomial), so a figure from five rankings
says how little it means.
"""

from __future__ import annotations

import math
import statistics

from django.db.models import Count

from ..models import Project, Ranking, Response

Z95 = 1.96


def labeling_throughput(*, project: Project) -> list[dict]:
    """One row per K, smallest first: ``k``, ``rankings``, ``seconds`` and ``keystrokes`` figures (or None)."""
    k_of = dict(
        Response.objects.filter(prompt__project=project).values("prompt_id").annotate(n=Count("id"))
        .values_list("prompt_id", "n")
    )  # fmt: skip
    by_k: dict[int, list[tuple[int, int]]] = {}
    rows = Ranking.objects.filter(prompt__project=project, status=Ranking.Status.SUBMITTED)
    for prompt_id, time_ms, keys in rows.values_list("prompt_id", "time_spent_ms", "keystrokes"):
        by_k.setdefault(k_of.get(prompt_id, 0), []).append((time_ms, keys))
    return [_row(k, entries) for k, entries in sorted(by_k.items()) if k]


def _row(k: int, entries: list[tuple[int, int]]) -> dict:
    seconds = [ms / 1000 for ms, _ in entries if ms > 0]
    keys = [float(n) for _, n in entries if n > 0]
    return {"k": k, "rankings": len(entries), "seconds": median_with_interval(seconds),
            "keystrokes": median_with_interval(keys)}  # fmt: skip


def median_with_interval(values: list[float]) -> dict | None:
    """``{"median", "low", "high", "n"}``: the median and its distribution-free 95% interval; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    half_width = Z95 * math.sqrt(n) / 2
    low = max(0, math.floor(n / 2 - half_width) - 1)
    high = min(n - 1, math.ceil(n / 2 + half_width))
    return {"median": statistics.median(ordered), "low": ordered[low], "high": ordered[high], "n": n}
