"""UltraFeedback-style scored completions (``openbmb/UltraFeedback``).

A row is ``{"source", "instruction", "completions": [{"model", "response", "overall_score",
"fine-grained_score", "annotations": {"<aspect>": {"Rating": "1".."5" | "N/A", ...}}}]}``.
``--score`` picks the score that ranks the completions: ``overall`` (``overall_score``),
``fine-grained`` (``fine-grained_score``) or an aspect (``helpfulness``, ``honesty``,
``instruction_following``, ``truthfulness``; ``-`` or ``_`` alike). Higher is better, equal
scores tie, a missing or ``N/A`` score leaves that completion unranked (a prompt with fewer than
two scored completions is imported without a ranking). The ranking is the
file's one ranking per prompt (stored under the import's ``--source`` user).
"""

from __future__ import annotations

from ..jsonl import ExchangeError
from .conversion import ImportOptions, RowError, convert_rows, dense_ranks, text_of

NAME = "ultrafeedback"
SCORE_FIELDS = {"overall": "overall_score", "fine-grained": "fine-grained_score"}


def mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if "instruction" in first and isinstance(first.get("completions"), list):
        return None
    return "rows have no `instruction` and `completions`"


def convert(rows: list, options: ImportOptions) -> list[dict]:
    if not options.score.strip():
        raise ExchangeError(["score: name the score that ranks the completions (overall, fine-grained or an aspect)"])
    return convert_rows(rows, lambda row: _record(row, options.score), lambda row: row.get("id"))


def _record(row: dict, score: str) -> dict:
    completions = row.get("completions")
    if not isinstance(completions, list) or not all(isinstance(c, dict) for c in completions):
        raise RowError("completions", "must be a list of objects")
    responses = [text_of(c.get("response"), f"completions[{i}].response") for i, c in enumerate(completions)]
    scores = [_score(c, score, i) for i, c in enumerate(completions)]
    record = {
        "prompt": text_of(row.get("instruction"), "instruction"),
        "responses": responses,
        "response_details": [{"source": str(c.get("model") or ""), "metadata": {}} for c in completions],
        "rankings": dense_ranks(scores, higher_is_better=True) if sum(x is not None for x in scores) >= 2 else None,
        "metadata": {"dataset": "ultrafeedback", "source": row.get("source"), "score": score},
    }
    if row.get("id") is not None:
        record["id"] = f"ultrafeedback-{row['id']}"
    return record


def _score(completion: dict, score: str, index: int) -> float | None:
    if score in SCORE_FIELDS:
        value, field = completion.get(SCORE_FIELDS[score]), f"completions[{index}].{SCORE_FIELDS[score]}"
    else:
        aspects = {k.replace("-", "_"): v for k, v in (completion.get("annotations") or {}).items()}
        aspect = aspects.get(score.replace("-", "_"))
        if aspect is None:
            raise RowError(f"completions[{index}].annotations", f"no aspect {score!r} (has {sorted(aspects)})")
        aspect = aspect[0] if isinstance(aspect, list) and len(aspect) == 1 else aspect
        value, field = aspect.get("Rating") if isinstance(aspect, dict) else aspect, f"completions[{index}].annotations.{score}"
    if value is None or value == "N/A":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RowError(field, f"must be a number or \"N/A\" (got {value!r})") from None
