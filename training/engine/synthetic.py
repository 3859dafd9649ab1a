"""A synthetic ranked data set with a rule a tiny model can learn (demos, tests, benchmarks).

Each response is a random string over "aeioubcdfg"; more vowels rank better (equal counts tie).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

VOWELS = set("aeiou")
ALPHABET = "aeioubcdfg"


def vowel_ranked_records(n_prompts: int, k: int, *, response_chars: int = 12, seed: int = 0,
                         test_fraction: float = 0.25) -> list[dict]:
    """Exchange-format records: tiers by descending vowel count, the last ``test_fraction`` as "test"."""
    rng = random.Random(seed)
    records = []
    n_test = int(round(n_prompts * test_fraction))
    for index in range(n_prompts):
        responses = ["".join(rng.choice(ALPHABET) for _ in range(response_chars)) for _ in range(k)]
        vowel_counts = [sum(ch in VOWELS for ch in r) for r in responses]
        records.append({
            "id": f"syn-{index:04d}",
            "prompt": f"Write letters ({index}): ",
            "responses": responses,
            "rankings": [-count for count in vowel_counts],
            "split": "test" if index >= n_prompts - n_test else "train",
        })
    return records


def write_jsonl(records: list[dict], path: str | Path) -> str:
    """Write records one per line; returns the path."""
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)
