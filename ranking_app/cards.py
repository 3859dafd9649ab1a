"""How responses appear on a labeler's screen: their shuffled order and their card names (A, B, ...).

Core, no web: the rank widget, the labeling and review reads and the comparison pages all name
cards the same way.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Sequence


def card_label(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the name of the ``index``-th card on screen."""
    letters = string.ascii_uppercase
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = letters[rest] + label
    return label


def display_order(items: Sequence, *, annotator_id: int, prompt_id: int) -> list:
    """``items`` shuffled the same way every time for this (annotator, prompt) pair."""
    digest = hashlib.sha256(f"grpo-rank-order:{annotator_id}:{prompt_id}".encode()).digest()
    shuffled = list(items)
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(shuffled)
    return shuffled
