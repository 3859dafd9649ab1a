"""Consensus pairs (``--format pairs``): one JSON line per valid pair of each record's consensus,
better response first, with the rank gap (``ranking.weighted_pairs``; unweighted in the file, the
trainer weights pairs by ``rank_gap``). Written only: TRL's pair files are read by ``formats.trl``."""

from __future__ import annotations

from pathlib import Path

from ...ranking import weighted_pairs
from ..jsonl import dumps_line

PAIR_WEIGHTING = "none"  # pairs are unweighted in the file (weight 1); the trainer weights them by rank_gap


def pair_records(record: dict) -> list[dict]:
    """Every valid pair of the record's consensus: better response first, with the rank gap."""
    if record["rankings"] is None:
        return []
    return [
        {
            "id": record["id"],
            "prompt": record["prompt"],
            "chosen": record["responses"][better],
            "rejected": record["responses"][worse],
            "rank_gap": gap,
            "weight": weight,
            "split": record["split"],
        }
        for better, worse, gap, weight in weighted_pairs(record["rankings"], PAIR_WEIGHTING)
    ]


def write(records: list[dict], path: Path) -> dict:
    n_pairs = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for record in records:
            for pair in pair_records(record):
                out.write(dumps_line(pair) + "\n")
                n_pairs += 1
    return {"pairs": n_pairs}
