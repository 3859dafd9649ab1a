"""Evaluation scores at the adapter's training precision, quantization and prompt budget."""

from __future__ import annotations

import json

import pytest

from training.engine import evaluate_model
from training.engine.evaluate import training_settings


@pytest.fixture
def adapter_dir(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    config = {"bf16": True, "quantization": "4bit", "max_prompt_length": 32, "max_length": 64}
    (folder / "grpo_training.json").write_text(json.dumps({"config": config}))
    return str(folder)


def test_settings_follow_the_training_run_unless_given(adapter_dir):
    trained = training_settings(adapter_dir, quantization=None, dtype=None, max_prompt_length=None, max_length=512,
                                device="cpu")
    assert trained == {"dtype": "bf16", "quantization": "4bit", "max_prompt_length": 32}
    given = training_settings(adapter_dir, quantization="none", dtype="fp32", max_prompt_length=100, max_length=512,
                              device="cpu")
    assert given == {"dtype": "fp32", "quantization": "none", "max_prompt_length": 100}


def test_without_an_adapter_cpu_scores_in_fp32_with_half_the_length_for_the_prompt():
    assert training_settings(None, quantization=None, dtype="auto", max_prompt_length=None, max_length=64,
                             device="cpu") == {"dtype": "fp32", "quantization": "none", "max_prompt_length": 32}
    with pytest.raises(ValueError, match="dtype"):
        training_settings(None, quantization=None, dtype="fp8", max_prompt_length=None, max_length=64, device="cpu")


def test_evaluate_model_in_bf16_reports_its_settings(tiny_model_dir, vowel_data):
    result = evaluate_model(tiny_model_dir, vowel_data, max_length=64, batch_size=8, dtype="bf16",
                            max_prompt_length=16, robustness=False)
    assert result["settings"] == {"dtype": "bf16", "quantization": "none", "max_prompt_length": 16}
    assert all(len(p["scores"]) == 4 for p in result["per_prompt"])
