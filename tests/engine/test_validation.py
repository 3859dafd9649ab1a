"""Validation split, validation loss, the best adapter and early stopping; activation checkpointing and the
attention kernel; truncation that keeps the closing tokens. CPU, tiny model."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from training.engine import RankedGRPOConfig, run_training
from training.engine.config import ConfigError
from training.engine.data import build_group_dataset, truncation_rates
from training.engine.modeling import load_tokenizer
from training.engine.records import load_records, train_validation_split
from training.engine.synthetic import write_jsonl
from training.engine.trainer import build_trainer
from training.engine.truncation import cut_response

from .test_training import config


def _record(number: int, prompt: str | None = None, split: str | None = None) -> dict:
    return {"id": f"r{number}", "prompt": prompt or f"Question number {number}?", "responses": ["aa", "b", "ccc"],
            "rankings": [0, 1, 2], **({"split": split} if split else {})}


def test_validation_is_carved_by_prompt_id_deterministically_and_keeps_duplicates_together(tmp_path):
    raw = [_record(n, split="train") for n in range(200)] + [_record(n, split="test") for n in range(200, 240)]
    raw += [_record(900, "  question NUMBER 7? ", "train"), _record(901, "Question number 210?", "train")]
    records = load_records(write_jsonl(raw, tmp_path / "d.jsonl"))
    train, validation, report = train_validation_split(records, 0.1)
    again = train_validation_split(list(reversed(records)), 0.1)
    assert {r["id"] for r in validation} == {r["id"] for r in again[1]}
    assert 8 <= len(validation) <= 35
    texts = lambda rows: {" ".join(r["prompt"].lower().split()) for r in rows}  # noqa: E731
    assert not texts(train) & texts(validation)
    assert "question number 210?" not in texts(train) | texts(validation)  # a copy of a test prompt is dropped
    assert report["duplicate_prompts"] == 2 and report["dropped_duplicates_of_test"] == 1
    assert {r["id"] for r in validation} | {r["id"] for r in train} == {r["id"] for r in records
                                                                        if r["split"] == "train"} - {"r901"}


def test_a_validation_split_in_the_data_is_honoured(tmp_path):
    raw = [_record(n) for n in range(20)] + [_record(20, split="validation"), _record(21, "Question number 3?",
                                                                                      "validation")]
    records = load_records(write_jsonl([{**r, "split": r.get("split", "train")} for r in raw], tmp_path / "d.jsonl"))
    train, validation, report = train_validation_split(records, 0.1)
    assert [r["id"] for r in validation] == ["r20", "r21"]
    assert "r3" not in {r["id"] for r in train} and report["dropped_train_duplicates_of_validation"] == 1
    assert report["validation_source"] == "data"
    assert train_validation_split(records, 0.0)[1] == validation
    assert train_validation_split(load_records(write_jsonl(raw[:20], tmp_path / "e.jsonl")), 0.0)[1] == []


def test_training_logs_validation_keeps_the_best_adapter_and_stops_early(tmp_path, tiny_model_dir, vowel_data):
    # a learning rate far too high: the validation loss soon rises, so the best step is an early one
    events = []
    cfg = config(tmp_path, tiny_model_dir, vowel_data, max_steps=12, eval_steps=1, logging_steps=100,
                 learning_rate=1.0, max_grad_norm=0.0, lr_scheduler_type="constant", patience=3,
                 validation_fraction=0.25, kl_samples=0)
    result = run_training(cfg, progress=events.append)
    logged = [e for e in events if e.get("eval_loss") is not None]
    assert [e["step"] for e in logged] == list(range(1, result["global_step"] + 1))
    assert all(0 <= e["eval_pair_accuracy"] <= 1 for e in logged)
    best = min(logged, key=lambda e: e["eval_loss"])
    assert result["best_step"] == best["step"] == result["kept_step"] < result["global_step"]
    assert result["best_eval_loss"] == pytest.approx(best["eval_loss"])
    assert result["stopped_early_at"] == result["global_step"] == best["step"] + 3 < 12
    saved = load_file(f"{result['adapter_dir']}/adapter_model.safetensors")
    best_weights = load_file(tmp_path / "run" / "best-adapter" / "adapter_model.safetensors")
    assert saved.keys() == best_weights.keys() and all(torch.equal(saved[k], best_weights[k]) for k in saved)
    card = (tmp_path / "run" / "adapter" / "README.md").read_text()
    assert f"step {best['step']} of {result['global_step']}: the lowest validation loss" in card
    stored = json.loads((tmp_path / "run" / "adapter" / "grpo_training.json").read_text())
    assert stored["kept_step"] == best["step"] and stored["n_validation_groups"] > 0


def test_without_load_best_the_last_step_is_kept(tmp_path, tiny_model_dir, vowel_data):
    cfg = config(tmp_path, tiny_model_dir, vowel_data, max_steps=3, load_best=False, kl_samples=0)
    result = run_training(cfg)
    assert result["kept_step"] == result["global_step"] == 3 and result["evaluations"] >= 1


def test_activation_checkpointing_is_on_for_an_unquantized_model_and_lora_still_learns(tmp_path, tiny_model_dir,
                                                                                         vowel_data):
    cfg = config(tmp_path, tiny_model_dir, vowel_data, max_steps=1, activation_checkpointing=True, kl_samples=0,
                 lora_dropout=0.0)
    trainer, _ = build_trainer(cfg)
    base = trainer.model.get_base_model()
    assert base.is_gradient_checkpointing
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    trainer.train()
    assert any(not torch.equal(before[n], p) for n, p in trainer.model.named_parameters() if n in before)


@pytest.mark.parametrize("kernel", ["eager", "sdpa"])
def test_attn_implementation_reaches_the_model(tmp_path, tiny_model_dir, vowel_data, kernel):
    trainer, _ = build_trainer(config(tmp_path, tiny_model_dir, vowel_data, max_steps=1, attn_implementation=kernel))
    assert trainer.model.get_base_model().config._attn_implementation == kernel
    with pytest.raises(ConfigError, match="attn_implementation: must be one of sdpa, flash_attention_2, eager"):
        RankedGRPOConfig(model_name_or_path="m", data_path="d", attn_implementation="paged")


def test_new_settings_are_checked(tmp_path):
    errors = RankedGRPOConfig.errors({"validation_fraction": 0.9, "patience": 0, "load_best": "yes"})
    assert set(errors) >= {"validation_fraction", "patience", "load_best"}
    errors = RankedGRPOConfig.errors({"pair_targets": "annotators", "weighting": "linear"})
    assert "weighting none and margin 0" in errors["pair_targets"]
    assert "pair_targets" in RankedGRPOConfig.errors({"pair_targets": "annotators", "margin": 0.5})


def test_a_response_cut_to_fit_keeps_its_closing_tokens_and_the_rates_are_reported(tmp_path, tiny_model_dir):
    assert cut_response([5, 6, 7, 8, 2], 3, [2]) == [5, 6, 2]
    assert cut_response([5, 6, 2], 3, [2]) == [5, 6, 2] and cut_response([5, 6, 7], 2, [2]) == [5, 6]
    tokenizer = load_tokenizer(tiny_model_dir)
    raw = [{"id": "a", "prompt": "Hi", "responses": ["x" * 100, "y"], "rankings": [0, 1]},
           {"id": "b", "prompt": "P" * 80, "responses": ["z", "w"], "rankings": [0, 1]}]
    groups = build_group_dataset(load_records(write_jsonl(raw, tmp_path / "t.jsonl")), tokenizer, max_length=40,
                                 max_prompt_length=16).groups
    long_response = groups[0]["response_ids"][0]
    assert len(groups[0]["prompt_ids"]) + len(long_response) == 40
    assert long_response[-1] == tokenizer.eos_token_id
    assert truncation_rates(groups) == {"truncated_prompt_rate": 0.5, "truncated_response_rate": 0.25}
