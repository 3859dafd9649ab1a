"""OpenAssistant message trees (oasst1 / oasst2 message rows).

Rows are messages ``{"message_id", "parent_id", "message_tree_id", "role": "prompter" |
"assistant", "text", "rank", "deleted", ...}``. Each prompter message with at least two ranked
assistant replies becomes one record: the conversation up to it is the prompt (rendered as
``**User:**`` / ``**Assistant:**`` paragraphs when it has earlier turns, as the shipped OASST
copy in ``data/real`` is), its replies are the responses in file order, and OASST's merged
``rank`` (0 = best) is the ranking; replies without a rank are unranked. Deleted messages are
left out. The record id is ``oasst-<prompter message id>``.
"""

from __future__ import annotations

from ...real_data import render_conversation
from .conversion import ImportOptions, RowError, convert_rows

NAME = "oasst"


def mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if {"message_id", "parent_id", "role", "text"} <= set(first):
        return None
    return "rows have no `message_id`, `parent_id`, `role` and `text`"


def convert(rows: list, options: ImportOptions) -> list[dict]:
    messages = {row["message_id"]: row for row in rows if isinstance(row, dict) and "message_id" in row}
    replies: dict[str, list[dict]] = {}
    for row in messages.values():
        if row.get("role") == "assistant" and not row.get("deleted"):
            replies.setdefault(row.get("parent_id"), []).append(row)
    return convert_rows(rows, lambda row: _record(row, messages, replies), lambda row: row.get("message_id"))


def _record(row: dict, messages: dict, replies: dict) -> dict | None:
    if "message_id" not in row:
        raise RowError("message_id", "is required")
    children = replies.get(row["message_id"], [])
    if row.get("role") != "prompter" or row.get("deleted") or sum(c.get("rank") is not None for c in children) < 2:
        return None
    for i, child in enumerate(children):
        if not isinstance(child.get("rank"), (int, type(None))) or isinstance(child.get("rank"), bool):
            raise RowError(f"replies[{i}].rank", f"must be an integer or null (message {child['message_id']})")
    context = _context(row, messages)
    return {
        "id": f"oasst-{row['message_id']}",
        "prompt": render_conversation(context),
        "responses": [child.get("text") for child in children],
        "response_details": [
            {"source": child.get("model_name") or "human", "metadata": {"message_id": child["message_id"]}}
            for child in children
        ],
        "rankings": [child.get("rank") for child in children],
        "metadata": {"dataset": "oasst", "message_tree_id": row.get("message_tree_id"), "lang": row.get("lang")},
    }


def _context(row: dict, messages: dict) -> list[dict]:
    """The turns from the tree's root down to ``row``."""
    turns, current = [], row
    while current is not None:
        turns.append({"role": current.get("role"), "text": current.get("text")})
        parent = current.get("parent_id")
        if parent is not None and parent not in messages:
            raise RowError("parent_id", f"message {parent} of this conversation is not in the file")
        current = messages.get(parent) if parent is not None else None
        if len(turns) > len(messages):
            raise RowError("parent_id", "the messages' parents form a loop")
    return turns[::-1]
