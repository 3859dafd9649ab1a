"""Evaluation loads and cuts as training did: settings left out come from the adapter's training config."""

from __future__ import annotations

import json

import pytest

from training.engine.evaluate import scoring_settings

TRAINED = {"max_length": 96, "max_prompt_length": 40, "quantization": "4bit", "bf16": True, "beta": 0.3}


@pytest.fixture
def adapter(tmp_path) -> str:
    (tmp_path / "grpo_training.json").write_text(json.dumps({"config": TRAINED, "global_step": 3}))
    return str(tmp_path)


def test_without_an_adapter_the_engine_defaults_apply():
    assert scoring_settings(None) == {"max_length": 512, "max_prompt_length": 256, "quantization": "none",
                                      "bf16": False, "beta": 0.1}


def test_an_adapter_brings_its_training_limits_quantization_and_beta(adapter):
    settings = scoring_settings(adapter, device="cpu")
    assert settings == {"max_length": 96, "max_prompt_length": 40, "quantization": "4bit", "bf16": False, "beta": 0.3}
    assert scoring_settings(adapter, device="cuda")["bf16"] is True  # the training precision on a GPU


def test_given_values_win_and_a_prompt_budget_too_large_for_max_length_follows_it(adapter):
    settings = scoring_settings(adapter, max_length=32, quantization="none", dtype="bfloat16", beta=0.5)
    assert settings == {"max_length": 32, "max_prompt_length": 16, "quantization": "none", "bf16": True, "beta": 0.5}
    assert scoring_settings(None, max_length=256)["max_prompt_length"] == 128


def test_an_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype: must be one of auto, float32, bfloat16"):
        scoring_settings(None, dtype="float16")
