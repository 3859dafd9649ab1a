"""One demo prompt with four answers of known quality."""

from __future__ import annotations

import re
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
    """A DemoItem from indented, hard-wrapped triple-quoted strings (dedented, stripped, unwrapped)."""
    clean = [unwrap(textwrap.dedent(text).strip()) for text in (prompt, best, good, mediocre, poor)]
    return DemoItem(category, *clean)


_BLOCK_START = re.compile(r"(?:[-*+] |\d+\. |\||#|```)")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines of one paragraph, list item or quote into one line.

    The app renders single newlines as line breaks (like chat UIs), so the source's wrapping
    must not reach the database. Kept as they are: blank lines, code blocks, table rows, lines
    that start a list item, heading or table, and lines ending in a backslash (an explicit line
    break, used for poems and letter sign-offs; the backslash itself is dropped).
    """
    out: list[str] = []
    in_code = prev_code = False
    for line in text.split("\n"):
        stripped = line.strip()
        prev = out[-1] if out else ""
        hard_break = not prev_code and prev.endswith("\\")
        if hard_break:
            out[-1] = prev = prev[:-1].rstrip()
        prev_code = in_code or stripped.startswith("```")
        if prev_code:
            in_code = in_code != stripped.startswith("```")
            out.append(line)
        elif _continues(prev, stripped) and not hard_break:
            quoted = stripped.startswith(">") and prev.lstrip().startswith(">")
            out[-1] = f"{prev} {stripped[1:].strip() if quoted else stripped}"
        else:
            out.append(line)
    return "\n".join(out)


def _continues(prev: str, stripped: str) -> bool:
    prev_stripped = prev.strip()
    if not prev_stripped or not stripped or stripped == ">" or prev_stripped == ">":
        return False
    if prev_stripped.startswith(("|", "```", "#")) or _BLOCK_START.match(stripped):
        return False
    return not (stripped.startswith(">") and not prev_stripped.startswith(">"))
