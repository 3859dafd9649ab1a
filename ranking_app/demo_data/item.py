"""One demo prompt with four answers of known quality."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

QUALITIES = ("best", "good", "mediocre", "poor")


@dataclass(frozen=True)
class DemoItem:
    """A prompt and its answers, best first. The house style, kept on purpose so a small model
    can learn it: the best answer is complete, specific and structured (Markdown lists or code,
    ending in an "In short" line); the good one is correct plain prose; the mediocre one is vague
    or incomplete; the poor one is terse, wrong, off-topic or (for unsafe requests) complies."""

    category: str
    prompt: str
    best: str
    good: str
    mediocre: str
    poor: str

    @property
    def answers(self) -> tuple[str, str, str, str]:
        return (self.best, self.good, self.mediocre, self.poor)


def item(category: str, prompt: str, best: str, good: str, mediocre: str, poor: str) -> DemoItem:
    """A DemoItem from indented triple-quoted strings (dedented and stripped)."""
    clean = [textwrap.dedent(text).strip() for text in (prompt, best, good, mediocre, poor)]
    return DemoItem(category, *clean)
