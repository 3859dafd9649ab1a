"""Fixtures for the engine tests: a tiny local model, synthetic and real ranked data. No Django."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from training.engine import make_tiny_model
from training.engine.synthetic import vowel_ranked_records, write_jsonl

REAL_DATA = Path(__file__).resolve().parents[2] / "data" / "real"

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


def shipped_records(name: str, limit: int | None = None) -> list[dict]:
    """A real data set shipped in data/real/ (see its SOURCES.md), one annotator's ranking as ``rankings``."""
    lines = (REAL_DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
    records = []
    for line in lines:
        record = json.loads(line)
        first = record.pop("annotations")[0]
        records.append({**record, "rankings": first["rankings"]})
    return records


def oasst_records(limit: int | None = None) -> list[dict]:
    """The OpenAssistant sibling groups of 3-9 replies, one merged ranking each."""
    return shipped_records("oasst", limit)


def lamp_records() -> list[dict]:
    """The LAMP writing rankings (3 responses), first annotator's ranking."""
    return shipped_records("lamp")


@pytest.fixture
def oasst_data(tmp_path) -> str:
    return write_jsonl(oasst_records(40), tmp_path / "oasst.jsonl")
