"""Hugging Face ``datasets`` (``--format hf``): a ``DatasetDict`` folder (``save_to_disk``) with a
train and a test split, the exchange record's columns typed by ``hf_features``. Written here; the
engine reads it back (``training.engine.data.load_records``). ``datasets`` is imported only when a
folder is written, so the web process stays free of it."""

from __future__ import annotations

import json
from pathlib import Path


def hf_columns(record: dict) -> dict:
    """One Hugging Face row: the exchange record with ``metadata`` and response details as JSON
    strings and the split the row sits in (unassigned prompts go to ``train``)."""
    return {
        "id": record["id"],
        "prompt": record["prompt"],
        "responses": record["responses"],
        "rankings": record["rankings"] if record["rankings"] is not None else [None] * len(record["responses"]),
        "annotations": record["annotations"],
        "split": record["split"] or "train",
        "metadata": json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True),
        "response_details": json.dumps(record.get("response_details"), ensure_ascii=False, sort_keys=True),
        "agreement": record["agreement"],
    }


def hf_features():
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "prompt": Value("string"),
            "responses": List(Value("string")),
            "rankings": List(Value("int32")),
            "annotations": List({"annotator": Value("string"), "rankings": List(Value("int32"))}),
            "split": Value("string"),
            "metadata": Value("string"),
            "response_details": Value("string"),
            "agreement": {"kendall_w": Value("float64"), "n_annotators": Value("int32"), "status": Value("string")},
        }
    )


def write(records: list[dict], path: Path) -> dict:
    import datasets

    datasets.disable_progress_bars()
    features = hf_features()
    by_split: dict[str, list[dict]] = {"train": [], "test": []}
    for record in records:
        columns = hf_columns(record)
        by_split.setdefault(columns["split"], []).append(columns)  # "validation" when the data has one
    dataset = datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict(
                {column: [r[column] for r in split_rows] for column in features}, features=features
            )
            for name, split_rows in by_split.items()
        }
    )
    dataset.save_to_disk(str(path))
    return {"splits": {name: len(split_rows) for name, split_rows in by_split.items()}}
