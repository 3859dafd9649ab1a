"""RankedGRPOConfig validation, help text and JSON round trip."""

from __future__ import annotations

import json

import pytest
import torch

from training.engine import RankedGRPOConfig


def make(**overrides) -> RankedGRPOConfig:
    return RankedGRPOConfig(output_dir="/tmp/unused", model_name_or_path="m", data_path="d.jsonl", **overrides)


@pytest.mark.parametrize("field, value, rule", [
    ("beta", -1, "beta: must be > 0 (got -1)"),
    ("margin", -0.5, "margin: must be >= 0"),
    ("loss", "dpo", "loss: must be one of grpo, orpo, plackett-luce"),
    ("weighting", "cubic", "weighting: must be one of"),
    ("quantization", "3bit", "quantization: must be one of"),
    ("learning_rate", 0, "learning_rate: must be > 0"),
    ("lora_r", 0, "lora_r: must be an integer >= 1"),
    ("lora_dropout", 1.0, "lora_dropout: must be in [0, 1)"),
    ("max_length", 100, "max_length: must be an integer > max_prompt_length"),
    ("per_device_train_batch_size", 0, "per_device_train_batch_size:"),
    ("normalize", "batch", "normalize: must be one of group, pair"),
    ("ties", "breslow", "ties: must be one of ignore, davidson"),
    ("tie_strength", 0, "tie_strength: must be > 0"),
    ("pair_targets", "majority", "pair_targets: must be one of consensus, annotators"),
])
def test_invalid_values_raise_value_error_starting_with_the_field_name(field, value, rule):
    with pytest.raises(ValueError) as error:
        make(**{field: value})
    assert str(error.value).startswith(rule)


@pytest.mark.parametrize("overrides, rule", [
    ({"loss": "orpo", "ties": "davidson"}, "ties: davidson needs loss grpo"),
    ({"ties": "davidson", "pair_targets": "annotators"}, "pair_targets: annotators needs loss grpo and ties ignore"),
    ({"loss": "plackett-luce", "length_normalize": True}, "length_normalize: needs loss grpo"),
])
def test_loss_options_that_do_not_combine_are_rejected(overrides, rule):
    with pytest.raises(ValueError, match=f"^{rule}"):
        make(**overrides)


def test_model_and_data_are_required():
    with pytest.raises(ValueError, match="^model_name_or_path: required"):
        RankedGRPOConfig(output_dir="/tmp/unused", data_path="d")


def test_json_round_trip_gives_an_equal_config():
    config = make(loss="plackett-luce", weighting="log", beta=0.3, lora_target_modules="q_proj,v_proj", seed=7)
    data = json.loads(json.dumps(config.to_json_dict()))
    again = RankedGRPOConfig.from_json_dict(data)
    assert again.to_json_dict() == data
    assert (again.loss, again.beta, again.target_modules, again.seed) == ("plackett-luce", 0.3, ["q_proj", "v_proj"], 7)


def test_field_help_lists_user_hyperparameters_with_help_and_defaults():
    described = RankedGRPOConfig.field_help()
    for name in ["loss", "weighting", "beta", "margin", "quantization", "lora_r", "lora_alpha", "lora_dropout",
                 "lora_target_modules", "learning_rate", "num_train_epochs", "per_device_train_batch_size",
                 "max_length", "max_prompt_length", "seed", "logging_steps", "save_steps"]:
        assert described[name]["help"], name
        assert "default" in described[name]
    assert described["beta"]["default"] == 0.1
    assert described["loss"]["choices"] == ["grpo", "orpo", "plackett-luce"]
    assert described["normalize"]["default"] == "group"
    assert described["weighting"]["choices"][-1] == "lambda"
    assert (described["length_normalize"]["type"], described["tie_strength"]["default"]) == ("bool", 1.0)
    json.dumps(described)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CPU-only default")
def test_cpu_defaults_to_fp32():
    assert make().bf16 is False
