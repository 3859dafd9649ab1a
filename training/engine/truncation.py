"""Fitting a long prompt into ``max_prompt_length`` without losing the chat template.

The template's fixed tokens are found by encoding an empty user message: the tokens the prompt shares
with it at the start are the *head* (BOS, system prompt, user role header), those it shares at the
end the *tail* (end of turn, assistant header). Both are kept whole; the user content loses its
middle: its first third (usually the instruction) and its last two thirds (the latest turns) stay.
Every cut is logged with the record's id. A response over its room is cut at the end but keeps its
closing tokens (EOS or the template's end of turn), so the model still sees where a response stops.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def common_suffix_length(a: list[int], b: list[int]) -> int:
    return common_prefix_length(a[::-1], b[::-1])


def fit_prompt(prompt_ids: list[int], template_ids: list[int], max_prompt_length: int, record_id: str) -> list[int]:
    """``prompt_ids`` within ``max_prompt_length``: template head and tail kept, user content cut in the middle
    (the last tokens only when the template alone does not fit)."""
    if len(prompt_ids) <= max_prompt_length:
        return prompt_ids
    head = common_prefix_length(template_ids, prompt_ids)
    tail = min(common_suffix_length(template_ids[head:], prompt_ids[head:]), len(prompt_ids) - head)
    budget = max_prompt_length - head - tail
    if budget < 1:
        logger.warning("record %s: prompt of %d tokens cut to its last %d (the chat template alone takes %d)",
                       record_id, len(prompt_ids), max_prompt_length, head + tail)
        return prompt_ids[-max_prompt_length:]
    content = prompt_ids[head : len(prompt_ids) - tail]
    first = budget // 3
    last = budget - first
    logger.warning("record %s: prompt of %d tokens cut to %d: template head (%d) and tail (%d) kept, %d content "
                   "tokens dropped from the middle", record_id, len(prompt_ids), max_prompt_length, head, tail,
                   len(content) - budget)
    return prompt_ids[:head] + content[:first] + content[len(content) - last :] + prompt_ids[len(prompt_ids) - tail :]


def warn_if_not_prefix(prompt_ids: list[int], prompt_len: int, record_id: str) -> None:
    """Warn when the prompt's tokens are not all a prefix of prompt + response (the template or the
    tokenizer merges across the boundary); the response then starts where they diverge."""
    if prompt_len < len(prompt_ids):
        logger.warning("record %s: the tokenized prompt (%d tokens) is not a prefix of prompt + response; they "
                       "diverge at token %d, where the response is taken to start", record_id, len(prompt_ids),
                       prompt_len)


def cut_response(response_ids: list[int], room: int, closing: list[int]) -> list[int]:
    """``response_ids`` within ``room`` tokens: the start kept, and the ``closing`` tokens it ends with
    (EOS, end of turn) kept at the end when there is room for them and one content token."""
    if len(response_ids) <= room:
        return response_ids
    ends_with_closing = bool(closing) and response_ids[len(response_ids) - len(closing) :] == closing
    if not ends_with_closing or room <= len(closing):
        return response_ids[:room]
    return response_ids[: room - len(closing)] + closing
