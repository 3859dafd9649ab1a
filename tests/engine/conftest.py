"""Fixtures for the engine tests: a tiny local model, synthetic and real ranked data. No Django."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from training.engine import make_tiny_model
from training.engine.synthetic import vowel_ranked_records, write_jsonl

REAL_DATA = Path("/work/shared/data/real")

# Tiny models on a shared CPU: one thread per process avoids OpenMP oversubscription, which made
# training steps ~15x slower here; subprocesses (CLI, accelerate launch) inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A 2-layer, 64-wide random Llama with the byte tokenizer (about 0.1M parameters)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", hidden_size=64, num_hidden_layers=2)


@pytest.fixture
def vowel_data(tmp_path) -> str:
    """48 train + 16 test prompts, K=4, ranked by vowel count (ties possible)."""
    return write_jsonl(vowel_ranked_records(64, 4), tmp_path / "vowels.jsonl")


def oasst_records(limit: int | None = None) -> list[dict]:
    """The OpenAssistant sibling groups (SOURCES.md) in the exchange format, every 5th as "test"."""
    lines = (REAL_DATA / "oasst1_en_100_ranked_sibling_groups.jsonl").read_text(encoding="utf-8").splitlines()
    records = []
    for index, line in enumerate(lines[:limit]):
        group = json.loads(line)
        records.append({
            "id": f"oasst-{index}",
            "prompt": group["context"][-1]["text"],
            "responses": [reply["text"] for reply in group["replies"]],
            "rankings": [reply["rank"] for reply in group["replies"]],
            "split": "test" if index % 5 == 4 else "train",
        })
    return records


def lamp_records() -> list[dict]:
    """The LAMP writing rankings (SOURCES.md): first annotator's ranking, ids made unique."""
    records = []
    for index, line in enumerate((REAL_DATA / "lamp_preference_rankings_consolidated.jsonl").read_text().splitlines()):
        item = json.loads(line)
        keys = sorted(item["responses"])
        first = item["annotations"][0]["rank"]
        records.append({"id": f"{item['id']}-{index}", "prompt": item["instruction"],
                        "responses": [item["responses"][k] for k in keys], "rankings": [first.get(k) for k in keys]})
    return records


@pytest.fixture
def oasst_data(tmp_path) -> str:
    if not REAL_DATA.exists():
        pytest.skip("real data folder not present")
    return write_jsonl(oasst_records(40), tmp_path / "oasst.jsonl")
