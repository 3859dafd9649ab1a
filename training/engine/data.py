"""Ranked groups for the model: tokenise once per response, batch whole groups (records come from ``records``).

A record (``records.load_records``) holds dense tiers 0, 1, 2, ... with -1 for unranked as ``ranks``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from .records import UNRANKED, has_valid_pair
from .truncation import common_prefix_length, cut_response, fit_prompt, warn_if_not_prefix


def _token_ids(tokenizer, prompt: str, response: str | None) -> list[int]:
    """Token ids of the prompt alone (response None, with generation prompt) or prompt + response."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": prompt}]
        if response is not None:
            messages.append({"role": "assistant", "content": response})
        encoded = tokenizer.apply_chat_template(
            messages, tokenize=True, return_dict=True, add_generation_prompt=response is None
        )
        return list(encoded["input_ids"])
    if response is None:
        return list(tokenizer(text=prompt)["input_ids"])
    eos = tokenizer.eos_token or ""
    text = prompt + response + ("" if response.endswith(eos) else eos)
    return list(tokenizer(text=text)["input_ids"])


def prompt_token_ids(tokenizer, prompt: str, max_prompt_length: int) -> list[int]:
    """The prompt's tokens as a generation starts from them (chat template's generation prompt), left-cut."""
    return _token_ids(tokenizer, prompt, None)[-max_prompt_length:]


def tokenize_group(record: dict, tokenizer, *, max_length: int, max_prompt_length: int) -> dict:
    """Tokenise the prompt and each response once (TRL's rules, see docs/training.md).

    The response starts where the tokenised prompt and prompt+response diverge (with a warning when
    that is before the prompt's end). A prompt over ``max_prompt_length`` keeps its chat template and
    loses the middle of its content (``truncation.fit_prompt``); each response is cut at the end so
    prompt + response fit ``max_length``, keeping its closing tokens (EOS or end of turn,
    ``truncation.cut_response``). ``truncated_prompt`` and ``truncated_responses`` say what was cut.
    """
    prompt_ids = _token_ids(tokenizer, record["prompt"], None)
    full = [_token_ids(tokenizer, record["prompt"], response) for response in record["responses"]]
    prompt_len = min(common_prefix_length(prompt_ids, ids) for ids in full)
    warn_if_not_prefix(prompt_ids, prompt_len, record["id"])
    prompt_part = fit_prompt(prompt_ids[:prompt_len], _token_ids(tokenizer, "", None), max_prompt_length, record["id"])
    room = max_length - len(prompt_part)
    closing = _closing_tokens(tokenizer, record["prompt"], prompt_ids)
    responses = [ids[prompt_len:] for ids in full]
    return {
        "id": record["id"],
        "prompt_ids": prompt_part,
        "response_ids": [cut_response(ids, room, closing) for ids in responses],
        "ranks": list(record["ranks"]),
        "annotator_ranks": [list(a) for a in record.get("annotator_ranks") or [record["ranks"]]],
        "truncated_prompt": len(prompt_part) < prompt_len,
        "truncated_responses": sum(len(ids) > room for ids in responses),
    }


def _closing_tokens(tokenizer, prompt: str, prompt_ids: list[int]) -> list[int]:
    """The tokens that end every response: those after the prompt when the response is empty (EOS, or the
    chat template's end of turn)."""
    empty = _token_ids(tokenizer, prompt, "")
    return empty[common_prefix_length(prompt_ids, empty) :]


def truncation_rates(groups: list[dict]) -> dict[str, float]:
    """Shares of prompts and of responses cut to fit ``max_prompt_length`` / ``max_length``."""
    responses = sum(len(g["response_ids"]) for g in groups)
    return {
        "truncated_prompt_rate": sum(g.get("truncated_prompt", False) for g in groups) / len(groups) if groups else 0.0,
        "truncated_response_rate": sum(g.get("truncated_responses", 0) for g in groups) / responses if responses else 0.0,
    }


class GroupDataset(Dataset):
    """A list of tokenised groups, optionally with cached reference log-probs ("ref_logps")."""

    def __init__(self, groups: list[dict]):
        self.groups = groups

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, index: int) -> dict:
        return self.groups[index]


def build_group_dataset(records: list[dict], tokenizer, *, max_length: int, max_prompt_length: int) -> GroupDataset:
    """Tokenised groups of the records that hold at least one valid pair."""
    groups = [
        tokenize_group(r, tokenizer, max_length=max_length, max_prompt_length=max_prompt_length)
        for r in records
        if has_valid_pair(r["ranks"])
    ]
    return GroupDataset(groups)


@dataclass
class GroupCollator:
    """Batches whole groups: every response of every group becomes one row of ``input_ids``.

    Returns ``input_ids``/``attention_mask``/``completion_mask`` (N, T) right-padded over the N real
    responses of the batch, ``group_index``/``slot_index`` (N,) placing each row in the (G, K) grid,
    ``ranks`` (G, K) padded with -1 (groups of different K mix), ``token_counts`` (G, K),
    ``annotator_ranks`` (G, A, K) (each annotator's tiers, -1 padded; a group without annotations
    holds its consensus as its one annotator) and, when the groups carry them, ``ref_logps`` (G, K).
    """

    pad_token_id: int

    def __call__(self, groups: list[dict]) -> dict[str, torch.Tensor]:
        rows, completion, group_index, slot_index = [], [], [], []
        for g_index, group in enumerate(groups):
            for slot, response in enumerate(group["response_ids"]):
                rows.append(group["prompt_ids"] + response)
                completion.append([0] * len(group["prompt_ids"]) + [1] * len(response))
                group_index.append(g_index)
                slot_index.append(slot)
        length = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
        completion_mask = torch.zeros((len(rows), length), dtype=torch.long)
        for n, (row, mask) in enumerate(zip(rows, completion, strict=True)):
            input_ids[n, : len(row)] = torch.tensor(row)
            attention_mask[n, : len(row)] = 1
            completion_mask[n, : len(row)] = torch.tensor(mask)
        batch = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "completion_mask": completion_mask,
            "group_index": torch.tensor(group_index),
            "slot_index": torch.tensor(slot_index),
        }
        batch.update(group_grid_tensors(groups))
        return batch


def group_grid_tensors(groups: list[dict]) -> dict[str, torch.Tensor]:
    """``ranks`` (G, K) padded with -1, ``token_counts`` (G, K), ``annotator_ranks`` (G, A, K) and,
    when every group has them, ``ref_logps``."""
    width = max(len(g["response_ids"]) for g in groups)
    ranks = torch.full((len(groups), width), -1, dtype=torch.long)
    token_counts = torch.zeros((len(groups), width), dtype=torch.float)
    for g_index, group in enumerate(groups):
        ranks[g_index, : len(group["ranks"])] = torch.tensor(group["ranks"])
        token_counts[g_index, : len(group["response_ids"])] = torch.tensor(
            [float(len(r)) for r in group["response_ids"]]
        )
    grid = {"ranks": ranks, "token_counts": token_counts, "annotator_ranks": _annotator_grid(groups, width)}
    if all("ref_logps" in g for g in groups):
        ref = torch.zeros((len(groups), width), dtype=torch.float)
        for g_index, group in enumerate(groups):
            ref[g_index, : len(group["ref_logps"])] = torch.tensor(group["ref_logps"])
        grid["ref_logps"] = ref
    return grid


def _annotator_grid(groups: list[dict], width: int) -> torch.Tensor:
    annotators = [g.get("annotator_ranks") or [g["ranks"]] for g in groups]
    grid = torch.full((len(groups), max(len(a) for a in annotators), width), UNRANKED, dtype=torch.long)
    for g_index, rows in enumerate(annotators):
        for a_index, row in enumerate(rows):
            grid[g_index, a_index, : len(row)] = torch.tensor(row)
    return grid
