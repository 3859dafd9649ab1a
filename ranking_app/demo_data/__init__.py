"""The demo project's content and its simulated annotations (pure data, no database).

64 prompts written for GRPO Studio across coding, maths, science, writing, advice, summaries,
general knowledge and safety-sensitive requests, each with four answers of known quality (best,
good, mediocre, poor). ``python manage.py seed_demo`` stores them; everything here is a pure
function of the content and :data:`SEED`, so every machine gets the same demo.

* **Order**: categories are interleaved so consecutive prompts differ.
* **Positions**: the four answers are shuffled into canonical positions per prompt, so the best
  answer is not always response 0.
* **Split**: within each category every 5th prompt (index 2, 7, ...) is ``test``: 14 of 64.
* **Annotations** by three demo labelers (:func:`demo_annotations`): mostly the true order, with
  deliberate disagreement on about 10% of prompts (one annotator prefers the runner-up, or the
  three genuinely disagree and Kendall's W falls below the default threshold 0.6), some ties,
  some partial rankings, and 10 training prompts with fewer than 3 rankings so the labeling queue
  has work. A few prompts carry the true order as an admin's gold ranking.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from . import coding, knowledge, math_science, safety, writing_advice
from .item import QUALITIES, DemoItem

SEED = 20240601
N_ANNOTATORS = 3
GUIDELINES = (Path(__file__).parent / "guidelines.md").read_text(encoding="utf-8")

_BY_CATEGORY: dict[str, list[DemoItem]] = {}
for _item in coding.ITEMS + math_science.ITEMS + writing_advice.ITEMS + knowledge.ITEMS + safety.ITEMS:
    _BY_CATEGORY.setdefault(_item.category, []).append(_item)

# Per-annotator patterns in quality space (0 = best .. 3 = poor), best tier first.
TRUE_ORDER = [[0], [1], [2], [3]]
MILD_SWAP = [[1], [0], [2], [3]]  # prefers the runner-up
LOW_SWAP = [[0], [1], [3], [2]]  # swaps the two weak answers
TIE_LOW = [[0], [1], [2, 3]]
TIE_TOP = [[0, 1], [2], [3]]
PARTIAL_ONE = [[0], [1], [2]]  # leaves the poor answer unranked
PARTIAL_TWO = [[0], [1]]
# Three annotators who genuinely disagree (W well below 0.6): prompts for the review queue.
CONTESTED = ([[0], [1], [2], [3]], [[1], [0], [3], [2]], [[2], [0], [1], [3]])


@dataclass(frozen=True)
class DemoPrompt:
    """A demo item placed in the project: id, split and the answers in canonical order."""

    external_id: str
    item: DemoItem
    split: str
    positions: tuple[int, ...]  # positions[q] = canonical position of the answer of quality q

    @property
    def responses(self) -> list[str]:
        texts = [""] * len(self.positions)
        for quality, position in enumerate(self.positions):
            texts[position] = self.item.answers[quality]
        return texts

    def quality_of(self, position: int) -> str:
        return QUALITIES[self.positions.index(position)]

    def to_positions(self, quality_tiers: list[list[int]]) -> list[list[int]]:
        return [sorted(self.positions[q] for q in tier) for tier in quality_tiers]


def demo_prompts() -> list[DemoPrompt]:
    """All demo prompts in project order (categories interleaved)."""
    prompts = []
    longest = max(len(items) for items in _BY_CATEGORY.values())
    for index in range(longest):
        for category, items in _BY_CATEGORY.items():
            if index < len(items):
                external_id = f"demo-{category}-{index + 1:02d}"
                positions = list(range(len(QUALITIES)))
                random.Random(f"{SEED}:{external_id}").shuffle(positions)
                split = "test" if index % 5 == 2 else "train"
                prompts.append(DemoPrompt(external_id, items[index], split, tuple(positions)))
    return prompts


@dataclass(frozen=True)
class DemoAnnotations:
    """Per prompt external id: one tiers list (canonical positions) per annotator index 0..2."""

    rankings: dict[str, dict[int, list[list[int]]]]
    contested: frozenset[str]
    gold: dict[str, list[list[int]]]


def demo_annotations(prompts: list[DemoPrompt] | None = None) -> DemoAnnotations:
    """The simulated rankings of the three demo labelers (deterministic)."""
    prompts = demo_prompts() if prompts is None else prompts
    rng = random.Random(SEED)
    train = [p.external_id for p in prompts if p.split == "train"]
    incomplete = train[1::5][:10]
    pool = [p.external_id for p in prompts if p.external_id not in incomplete]
    contested = set(rng.sample([i for i in train if i not in incomplete], 4))
    rest = [i for i in pool if i not in contested]
    rng.shuffle(rest)
    patterns = (
        [MILD_SWAP] * 3 + [LOW_SWAP] * 4 + [TIE_LOW] * 6 + [TIE_TOP] * 2 + [PARTIAL_ONE] * 5 + [PARTIAL_TWO] * 1
    )
    special = dict(zip(rest, patterns, strict=False))
    gold_ids = rest[len(patterns) : len(patterns) + 6]

    rankings: dict[str, dict[int, list[list[int]]]] = {}
    for prompt in prompts:
        pid = prompt.external_id
        if pid in contested:
            chosen = dict(enumerate(CONTESTED))
        else:
            chosen = {a: TRUE_ORDER for a in range(N_ANNOTATORS)}
            if pid in special:
                chosen[rng.randrange(N_ANNOTATORS)] = special[pid]
        if pid in incomplete:
            keep = incomplete.index(pid) % N_ANNOTATORS  # 0, 1 or 2 rankings
            chosen = {a: t for a, t in chosen.items() if a < keep}
        rankings[pid] = {a: prompt.to_positions(tiers) for a, tiers in chosen.items()}
    by_id = {p.external_id: p for p in prompts}
    gold = {pid: by_id[pid].to_positions(TRUE_ORDER) for pid in gold_ids}
    return DemoAnnotations(rankings=rankings, contested=frozenset(contested), gold=gold)


def annotation_seconds(external_id: str, annotator: int) -> int:
    """A plausible time spent on one ranking (20-120 s), stable per prompt and annotator."""
    return random.Random(f"{SEED}:{external_id}:{annotator}").randint(20, 120)
