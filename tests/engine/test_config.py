"""RankedGRPOConfig validation, help text and JSON round trip."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from training.engine import RankedGRPOConfig
from training.engine.config_fields import CHECKS, USER_FIELDS, ConfigError, optimizer_steps, prompt_budget


def make(**overrides) -> RankedGRPOConfig:
    return RankedGRPOConfig(output_dir="/tmp/unused", model_name_or_path="m", data_path="d.jsonl", **overrides)


@pytest.mark.parametrize("field, value, rule", [
    ("beta", -1, "beta: must be a number in (0, 100] (got -1)"),
    ("margin", -0.5, "margin: must be a number in [0, 100]"),
    ("loss", "dpo", "loss: must be one of grpo, orpo, plackett-luce"),
    ("weighting", "cubic", "weighting: must be one of"),
    ("quantization", "3bit", "quantization: must be one of"),
    ("learning_rate", 0, "learning_rate: must be a number in (0, 1]"),
    ("lora_r", 0, "lora_r: must be an integer in [1, 4096]"),
    ("lora_dropout", 1.0, "lora_dropout: must be a number in [0, 1)"),
    ("max_length", 1, "max_length: must be an integer in [2, 1048576] above max_prompt_length (1)"),
    ("per_device_train_batch_size", 0, "per_device_train_batch_size:"),
    ("gradient_accumulation_steps", 0, "gradient_accumulation_steps: must be an integer in [1, 65536] (got 0)"),
    ("gradient_accumulation_steps", -1, "gradient_accumulation_steps: must be an integer in [1, 65536] (got -1)"),
    ("seed", -1, "seed: must be an integer in [0, 4294967295] (got -1)"),
    ("seed", 2**32, "seed: must be an integer in [0, 4294967295]"),
    ("seed", 1.5, "seed: must be an integer"),
    ("num_train_epochs", 1e308, "num_train_epochs: must be a number in (0, 1000] (got 1e+308)"),
    ("num_train_epochs", float("inf"), "num_train_epochs: must be a number in (0, 1000]"),
    ("num_train_epochs", float("nan"), "num_train_epochs: must be a number in (0, 1000]"),
    ("learning_rate", float("nan"), "learning_rate: must be a number in (0, 1]"),
    ("max_steps", 0, "max_steps: must be an integer in [1, 1000000000] or -1 (use num_train_epochs)"),
    ("logging_steps", 0, "logging_steps: must be an integer in [1, 1000000000] or a fraction"),
    ("save_steps", 2.5, "save_steps: must be an integer in [1, 1000000000] or a fraction"),
    ("ref_batch_size", 0, "ref_batch_size: must be an integer in [1, 65536]"),
    ("activation_checkpointing", "yes", "activation_checkpointing: must be true, false or empty"),
    ("beta", "0.1", "beta: must be a number in (0, 100]"),
    ("lora_target_modules", "q_proj\x00", "lora_target_modules: must not be empty"),
    ("normalize", "batch", "normalize: must be one of group, pair"),
    ("ties", "breslow", "ties: must be one of ignore, davidson"),
    ("tie_strength", 0, "tie_strength: must be a number in (0, 100]"),
    ("pair_targets", "majority", "pair_targets: must be one of consensus, annotators"),
])  # fmt: skip
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


def test_errors_reports_every_bad_field_at_once_and_the_exception_lists_them_all():
    bad = {"gradient_accumulation_steps": 0, "seed": -1, "num_train_epochs": 1e308, "beta": 0, "warmup": 3}
    errors = RankedGRPOConfig.errors({"model_name_or_path": "m", "data_path": "d", **bad})
    assert sorted(errors) == sorted(bad)
    assert errors["warmup"] == "unknown setting"
    with pytest.raises(ConfigError) as raised:
        make(**{k: v for k, v in bad.items() if k != "warmup"})
    assert sorted(raised.value.errors) == ["beta", "gradient_accumulation_steps", "num_train_epochs", "seed"]
    assert all(name in str(raised.value) for name in raised.value.errors)


def test_text_with_a_lone_surrogate_or_control_character_never_reaches_a_database():
    errors = RankedGRPOConfig.errors({"model_name_or_path": "m\ud800", "data_path": "d\x07", "lora_target_modules": "q"})
    assert errors["model_name_or_path"].startswith("must be one line of text without control characters")
    assert sorted(errors) == ["data_path", "model_name_or_path"]


def test_errors_of_good_values_is_empty_and_whole_float_steps_are_accepted():
    assert RankedGRPOConfig.errors({"model_name_or_path": "m", "data_path": "d", "save_steps": 10.0,
                                    "logging_steps": 0.25, "seed": 2**32 - 1}) == {}


def test_every_user_field_and_every_own_field_has_a_check():
    own = set(RankedGRPOConfig.__annotations__) - {"remove_unused_columns", "report_to", "ddp_find_unused_parameters"}
    assert set(USER_FIELDS) <= set(CHECKS)
    assert own <= set(CHECKS), own - set(CHECKS)


@pytest.mark.parametrize("max_length, max_prompt_length, budget", [
    (256, None, 128), (64, None, 32), (512, None, 256), (4096, None, 256), (64, 40, 40),
])  # fmt: skip
def test_the_prompt_budget_follows_max_length_unless_given(max_length, max_prompt_length, budget):
    config = make(max_length=max_length, max_prompt_length=max_prompt_length)
    assert config.max_prompt_length == budget == prompt_budget(max_length, max_prompt_length)


def test_a_given_prompt_budget_that_leaves_no_room_is_refused():
    assert "max_length" in RankedGRPOConfig.errors({"model_name_or_path": "m", "data_path": "d",
                                                    "max_length": 64, "max_prompt_length": 64})


@pytest.mark.parametrize("overrides, groups, steps", [
    ({}, 10, 3),  # 3 batches of 4, one epoch
    ({"num_train_epochs": 2.0, "gradient_accumulation_steps": 2}, 10, 4),
    ({"gradient_accumulation_steps": 8}, 10, 1),  # a partial accumulation still steps
    ({"max_steps": 7}, 10, 7),
    ({"dataloader_drop_last": True}, 3, 0),  # one short batch, dropped
    ({}, 0, 0),
])  # fmt: skip
def test_optimizer_steps_counts_like_the_trainer(overrides, groups, steps):
    assert make(**overrides).optimizer_steps(groups) == steps


@pytest.mark.parametrize("micro_batches, world_size, accumulation, steps", [
    (7, 1, 1, 7), (7, 1, 3, 3), (7, 2, 2, 2), (1, 4, 1, 1),  # under DDP each process gets ceil(7 / 2) = 4
])  # fmt: skip
def test_under_a_token_budget_the_steps_come_from_its_micro_batches(micro_batches, world_size, accumulation, steps):
    config = make(max_tokens_per_batch=2000, gradient_accumulation_steps=accumulation, per_device_train_batch_size=64,
                  dataloader_drop_last=True)  # neither applies to token-budget micro-batches
    assert config.optimizer_steps(40, world_size, micro_batches=micro_batches) == steps


def test_without_the_groups_lengths_a_token_budget_gives_a_lower_bound_that_never_refuses_a_run():
    config = make(max_tokens_per_batch=2000, per_device_train_batch_size=64, dataloader_drop_last=True)
    assert make(per_device_train_batch_size=64, dataloader_drop_last=True).optimizer_steps(48) == 0  # by prompts
    assert config.require_steps(48) == config.optimizer_steps(48, 4) == 1  # at least one micro-batch
    assert config.optimizer_steps(0) == 0


def test_a_run_that_would_train_no_step_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="0 optimizer steps"):
        make(dataloader_drop_last=True, per_device_train_batch_size=8).require_steps(5)
    assert make().require_steps(5) == 2


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


def test_run_training_refuses_a_run_of_zero_steps_before_loading_the_model(tmp_path, tiny_model_dir, vowel_data,
                                                                          monkeypatch):
    from training.engine import run_training, trainer

    monkeypatch.setattr(trainer, "load_base_model", lambda *a, **k: pytest.fail("loaded the model"))
    config = RankedGRPOConfig(output_dir=str(tmp_path / "run"), model_name_or_path=tiny_model_dir, data_path=vowel_data,
                              per_device_train_batch_size=64, dataloader_drop_last=True, max_length=64,
                              validation_fraction=0.0)
    with pytest.raises(ValueError, match="48 train group\\(s\\) give 0 optimizer steps"):
        run_training(config)


@settings(max_examples=300, deadline=None)
@given(batch=st.integers(-2, 70000), accumulation=st.integers(-2, 70000), groups=st.integers(1, 10**6),
       epochs=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 2000)))
def test_settings_the_rules_accept_always_train_at_least_one_step(batch, accumulation, groups, epochs):
    values = {"per_device_train_batch_size": batch, "gradient_accumulation_steps": accumulation,
              "num_train_epochs": epochs}
    if RankedGRPOConfig.errors({"model_name_or_path": "m", "data_path": "d", **values}):
        return
    assert optimizer_steps(values, groups) >= 1
