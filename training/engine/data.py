"""Ranked groups: read the exchange format, split, tokenise once per response, batch whole groups.

A record is one prompt with K responses and a ranking aligned with them (ARCHITECTURE.md,
"Ranking semantics"): lower is better, equal is a tie, null is unranked. Rankings are normalised to
dense tiers 0, 1, 2, ... with -1 for unranked.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .dataset_hash import directory_sha256
from .truncation import common_prefix_length, cut_response, fit_prompt, warn_if_not_prefix

UNRANKED = -1


class DataError(ValueError):
    """The data file cannot be used for training or evaluation; the message says why."""


def dense_tiers(rankings: list[int | None]) -> list[int]:
    """[1, 3, 3, None] -> [0, 1, 1, -1]: dense tiers, 0 best, -1 for unranked."""
    distinct = sorted({r for r in rankings if r is not None})
    tier_of = {value: tier for tier, value in enumerate(distinct)}
    return [UNRANKED if r is None else tier_of[r] for r in rankings]


def has_valid_pair(ranks: list[int]) -> bool:
    """True when at least two responses sit in different tiers."""
    return len({r for r in ranks if r != UNRANKED}) >= 2


def _read_json_records(content: bytes, path: Path) -> list[dict]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise DataError(f"{path}: line {number} is not valid JSON ({error.msg})") from None
    return records


def _read_dataset_dict(path: Path) -> list[dict]:
    from datasets import load_from_disk

    try:
        loaded = load_from_disk(str(path))
    except Exception as error:  # datasets raises several types for a non-dataset folder
        raise DataError(f"{path}: not a saved datasets DatasetDict ({error})") from None
    splits = loaded.items() if hasattr(loaded, "keys") else [(None, loaded)]
    records = []
    for split_name, split in splits:
        for row in split:
            row = dict(row)
            if split_name is not None:
                row.setdefault("split", split_name)
                row["split"] = row["split"] or split_name
            records.append(row)
    return records


def _normalise_record(raw: dict, number: int) -> dict:
    if not isinstance(raw, dict):
        raise DataError(f"record {number}: expected an object, got {type(raw).__name__}")
    responses = raw.get("responses")
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
        raise DataError(f"record {number}: responses: expected a list of strings")
    if not isinstance(raw.get("prompt"), str):
        raise DataError(f"record {number}: prompt: expected a string")
    rankings = raw.get("rankings")
    if rankings is None:
        rankings = [None] * len(responses)
    if not isinstance(rankings, list) or len(rankings) != len(responses):
        raise DataError(f"record {number}: rankings: expected a list aligned with responses ({len(responses)} items)")
    if not all(r is None or (isinstance(r, int) and not isinstance(r, bool)) for r in rankings):
        raise DataError(f"record {number}: rankings: expected integers or null")
    return {
        "id": str(raw.get("id", number)),
        "prompt": raw["prompt"],
        "responses": responses,
        "ranks": dense_tiers(rankings),
        "annotator_ranks": _annotator_ranks(raw.get("annotations"), len(responses), number),
        "split": raw.get("split") or None,
    }


def _annotator_ranks(annotations, n_responses: int, number: int) -> list[list[int]]:
    """Each annotator's ranking of the exchange ``annotations`` field as dense tiers (-1 unranked)."""
    if annotations is None:
        return []
    if not isinstance(annotations, list):
        raise DataError(f"record {number}: annotations: expected a list of {{annotator, rankings}} objects")
    result = []
    for index, annotation in enumerate(annotations):
        rankings = annotation.get("rankings") if isinstance(annotation, dict) else None
        if not isinstance(rankings, list) or len(rankings) != n_responses or not all(
            r is None or (isinstance(r, int) and not isinstance(r, bool)) for r in rankings
        ):
            raise DataError(f"record {number}: annotations[{index}].rankings: expected integers or null, "
                            f"one per response ({n_responses})")
        result.append(dense_tiers(rankings))
    return result


@dataclass(frozen=True)
class RankedData:
    """A data file read once: its records, normalised, and the ``dataset_sha256`` of the bytes they came from."""

    path: str
    records: list[dict]
    sha256: str


def read_ranked_data(data_path: str | os.PathLike) -> RankedData:
    """Read and parse a JSON array, JSONL file or saved DatasetDict once, hashing what was parsed."""
    path = Path(data_path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        sha256 = directory_sha256(path)  # before loading: nothing the reader might add is counted
        raw_records = _read_dataset_dict(path)
    else:
        content = path.read_bytes()
        sha256, raw_records = hashlib.sha256(content).hexdigest(), _read_json_records(content, path)
    records = [_normalise_record(raw, number) for number, raw in enumerate(raw_records, start=1)]
    return RankedData(str(data_path), records, sha256)


def load_records(data_path: str | os.PathLike) -> list[dict]:
    """All records of a JSON array, JSONL file or saved DatasetDict, normalised (see module doc)."""
    return read_ranked_data(data_path).records


def is_held_out(record_id: str, test_percent: int = 20) -> bool:
    """Deterministic hold-out by id hash, used when no record carries a split.

    The web side's rule (``ranking_app.ranking.split_for``), kept here because the engine does not
    import Django: bucket = first 8 hex digits of sha256(id) mod 100, held out when below the percent.
    """
    bucket = int(hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return bucket < test_percent


def select_split(records: list[dict], split: str) -> list[dict]:
    """Records of ``split``. Without any split field, ~20% (by id hash) are "test", the rest "train";
    with splits present, records lacking one count as "train"."""
    if any(r["split"] for r in records):
        return [r for r in records if (r["split"] or "train") == split]
    wanted_test = split == "test"
    return [r for r in records if is_held_out(r["id"]) == wanted_test]


def normalised_text(text: str) -> str:
    """A prompt's text as duplicates are found: Unicode NFKC, case-folded, whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _bucket(key: str, salt: str) -> float:
    """A number in [0, 1) fixed by ``key`` (first 8 hex digits of sha256(salt + key))."""
    return int(hashlib.sha256(f"{salt}{key}".encode()).hexdigest()[:8], 16) / 16**8


def train_validation_split(records: list[dict], fraction: float) -> tuple[list[dict], list[dict], dict]:
    """(train, validation, report) from all records, prompts with the same ``normalised_text`` kept together.

    Records of split "validation" are the validation split when there are any; otherwise about ``fraction``
    of the train prompts are, chosen by a hash of the smallest id among a text's copies. A train or
    validation record whose text is also a test prompt is dropped (the test split is the export's and
    stays as it is); so is a train copy of a given validation prompt. ``report``: where the validation
    split came from and the counts of duplicates found and dropped.
    """
    text = {id(r): normalised_text(r["prompt"]) for r in records}
    test_texts = {text[id(r)] for r in select_split(records, "test")}
    train = select_split(records, "train")
    given = [r for r in records if r["split"] == "validation"]
    if given:
        validation = given
    else:
        first_id: dict[str, str] = {}
        for record in records:
            first_id[text[id(record)]] = min(first_id.get(text[id(record)], record["id"]), record["id"])
        validation = [r for r in train if _bucket(first_id[text[id(r)]], "validation:") < fraction]
    validation_texts = {text[id(r)] for r in validation} - test_texts
    report = {
        "validation_source": "data" if given else f"{fraction:g} of the train prompts",
        "duplicate_prompts": len(records) - len(set(text.values())),
        "dropped_duplicates_of_test": sum(text[id(r)] in test_texts for r in train + given),
        "dropped_train_duplicates_of_validation": sum(text[id(r)] in validation_texts for r in train) if given else 0,
    }
    validation = [r for r in validation if text[id(r)] in validation_texts]
    kept = [r for r in train if text[id(r)] not in test_texts | validation_texts]
    return kept, validation, report


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
