"""Ranked records: read the exchange format once (file or saved DatasetDict), normalise, split. No torch.

A record is one prompt with K responses and a ranking aligned with them (ARCHITECTURE.md,
"Ranking semantics"): lower is better, equal is a tie, null is unranked. Rankings are normalised to
dense tiers 0, 1, 2, ... with -1 for unranked. The web process uses this module too (a job's launch
summary), so it imports only the standard library and ``dataset_hash``; tokenisation and batching,
which need torch, are in ``data``.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .dataset_hash import directory_sha256

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
    return RankedData(str(data_path), records_from_raw(raw_records), sha256)


def records_from_raw(raw_records: list) -> list[dict]:
    """Exchange-format records (parsed JSON objects) normalised as ``load_records`` returns them.

    The web side summarises the records of an export it has just written with this, from memory:
    the file itself is parsed once per job, by the engine."""
    return [_normalise_record(raw, number) for number, raw in enumerate(raw_records, start=1)]


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
