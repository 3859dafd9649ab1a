"""Training on CPU with the tiny model: what changes, progress, cancel/resume, learning, 4-bit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.engine import RankedGRPOConfig, TrainingCancelled, evaluate_model, run_training
from training.engine.data import build_group_dataset
from training.engine.modeling import add_lora_adapter, load_base_model, load_tokenizer
from training.engine.records import load_records, select_split
from training.engine.trainer import RankedGRPOTrainer


def config(tmp_path, model_dir, data, **overrides) -> RankedGRPOConfig:
    values = dict(output_dir=str(tmp_path / "run"), model_name_or_path=model_dir, data_path=data, learning_rate=5e-3,
                  per_device_train_batch_size=4, max_length=64, max_prompt_length=32, lora_r=8, logging_steps=2,
                  save_steps=1000, disable_tqdm=True, seed=1)
    values.update(overrides)
    return RankedGRPOConfig(**values)


@pytest.mark.parametrize("options", [
    {"loss": "grpo", "weighting": "linear"}, {"loss": "orpo", "weighting": "linear"},
    {"loss": "plackett-luce"}, {"loss": "grpo", "weighting": "lambda", "normalize": "pair"},
    {"loss": "grpo", "ties": "davidson", "tie_strength": 0.5}, {"loss": "grpo", "pair_targets": "annotators"},
    {"loss": "grpo", "length_normalize": True},
], ids=lambda o: "-".join(f"{v}" for v in o.values()))
def test_one_step_changes_only_lora_parameters_and_loss_is_finite(tmp_path, tiny_model_dir, vowel_data, options):
    cfg = config(tmp_path, tiny_model_dir, vowel_data, max_steps=1, **options)
    tokenizer = load_tokenizer(tiny_model_dir)
    dataset = build_group_dataset(select_split(load_records(vowel_data), "train"), tokenizer, max_length=64,
                                  max_prompt_length=32)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=8, alpha=16, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = RankedGRPOTrainer(model=model, args=cfg, train_dataset=dataset, processing_class=tokenizer)
    output = trainer.train()
    assert torch.isfinite(torch.tensor(output.training_loss))
    changed = {name for name, p in model.named_parameters() if not torch.equal(before[name], p.detach())}
    assert changed, "nothing was trained"
    assert all("lora_" in name for name in changed), sorted(changed)[:5]
    assert any("lora_B" in name for name in changed)


def test_run_training_reports_progress_and_saves_adapter_tokenizer_config_card(tmp_path, tiny_model_dir, vowel_data):
    events = []
    result = run_training(config(tmp_path, tiny_model_dir, vowel_data, max_steps=4, eval_steps=2),
                          progress=events.append)
    json.dumps(result)
    steps = [e for e in events if "step" in e]
    assert [e["step"] for e in steps] == [2, 4]
    for key in ["step", "total_steps", "epoch", "loss", "reward_margin", "pair_accuracy", "learning_rate",
                "reward_best", "reward_worst", "logp_best_policy", "logp_best_reference", "eval_loss",
                "eval_pair_accuracy"]:
        assert steps[-1][key] is not None, key
    assert steps[0]["kl"] is not None and steps[0]["kl_se"] >= 0  # later estimates may be skipped for time
    assert 0 < result["kl_time_share"] <= 1 and result["kl_estimates"] >= 1
    assert steps[-1]["reward_best"] > steps[-1]["reward_worst"] or steps[-1]["pair_accuracy"] < 1
    assert {"reference", "train"} <= {e.get("phase") for e in events}
    assert result["global_step"] == 4 and result["history"] == steps
    adapter = tmp_path / "run" / "adapter"
    assert result["adapter_dir"] == str(adapter)
    for name in ["adapter_model.safetensors", "adapter_config.json", "tokenizer.json", "grpo_training.json",
                 "dataset.sha256", "README.md"]:
        assert (adapter / name).is_file(), name
    saved = json.loads((adapter / "grpo_training.json").read_text())
    assert saved["dataset_sha256"] == result["dataset_sha256"] == (adapter / "dataset.sha256").read_text().strip()
    assert RankedGRPOConfig.from_json_dict(saved["config"]).lora_r == 8
    assert "Group Relative Preference Optimization" in (adapter / "README.md").read_text()


@pytest.mark.slow  # three short runs (cancelled, resumed, uninterrupted): ~20-40 s on 2 cores
def test_cancel_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(tmp_path, tiny_model_dir, vowel_data):
    common = dict(num_train_epochs=2, lora_dropout=0.1)
    full = run_training(config(tmp_path / "full", tiny_model_dir, vowel_data, **common))
    calls = []

    def stop_at_step_5():
        calls.append(1)
        return len(calls) == 5

    interrupted = config(tmp_path / "cut", tiny_model_dir, vowel_data, **common)
    with pytest.raises(TrainingCancelled) as cancelled:
        run_training(interrupted, should_stop=stop_at_step_5)
    assert cancelled.value.global_step == 5 and cancelled.value.checkpoint_dir.endswith("checkpoint-5")
    resumed = run_training(interrupted, resume=True)
    assert resumed["resumed_from"].endswith("checkpoint-5")
    assert resumed["global_step"] == full["global_step"]
    a = load_file(f"{full['adapter_dir']}/adapter_model.safetensors")
    b = load_file(f"{resumed['adapter_dir']}/adapter_model.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["grpo", "plackett-luce"])
def test_learning_held_out_pairwise_accuracy_rises_from_chance_to_at_least_0_8(tmp_path, tiny_model_dir, vowel_data,
                                                                              loss):
    before = evaluate_model(tiny_model_dir, vowel_data, max_length=64, robustness=False)
    result = run_training(config(tmp_path, tiny_model_dir, vowel_data, num_train_epochs=3, beta=0.5, loss=loss))
    after = evaluate_model(tiny_model_dir, vowel_data, adapter_dir=result["adapter_dir"], max_length=64)
    assert before["pairwise_accuracy"] <= 0.65  # a random init prefers no rule (its letter biases are arbitrary)
    assert after["base"]["pairwise_accuracy"] == pytest.approx(before["pairwise_accuracy"])
    assert after["pairwise_accuracy"] >= 0.8
    assert after["accuracy"] > before["accuracy"]
    assert after["default_scoring"] == "sum_logp"  # a scoring both models have (the grpo losses train sums)
    assert after["verdict"]["outcome"] == "better than base" and after["verdict"]["low"] > 0
    trained = after["change"]["implicit_reward"]["pairwise_accuracy"]  # before: every reward 0, i.e. chance
    assert trained["versus"] == "chance" and trained["before"] == 0.5 and trained["low"] > 0


@pytest.mark.parametrize("quantization, layer", [("4bit", "Linear4bit"), ("8bit", "Linear8bitLt")])
def test_quantized_qlora_path_trains_and_evaluates_on_cpu(tmp_path, tiny_model_dir, vowel_data, quantization, layer):
    pytest.importorskip("bitsandbytes")
    result = run_training(config(tmp_path, tiny_model_dir, vowel_data, quantization=quantization, max_steps=2))
    assert torch.isfinite(torch.tensor(result["train_loss"]))
    model = load_base_model(tiny_model_dir, quantization=quantization)
    assert any(type(m).__name__ == layer for m in model.modules())
    metrics = evaluate_model(tiny_model_dir, vowel_data, adapter_dir=result["adapter_dir"], max_length=64,
                             quantization=quantization, robustness=False)
    assert metrics["n_prompts"] == 16


def test_real_oasst_groups_of_mixed_k_train_with_finite_loss(tmp_path, tiny_model_dir, oasst_data):
    result = run_training(config(tmp_path, tiny_model_dir, oasst_data, max_steps=2, max_length=128,
                                 max_prompt_length=48, weighting="quadratic"))
    n_train = sum(1 for line in open(oasst_data, encoding="utf-8") if json.loads(line)["split"] == "train")
    assert n_train > 20 and result["global_step"] == 2 and result["n_validation_groups"] > 0
    assert result["n_train_groups"] + result["n_validation_groups"] + result["dropped_duplicates_of_test"] == n_train
    assert all(torch.isfinite(torch.tensor(event["loss"])) for event in result["history"])


def _count_embedding_rows(model) -> list[int]:
    rows: list[int] = []
    model.get_input_embeddings().register_forward_pre_hook(lambda module, inputs: rows.append(inputs[0].shape[0]))
    return rows


@pytest.mark.parametrize(("prefix_sharing", "rows_per_group"), [("off", 4), ("on", 1)])
def test_each_response_goes_through_the_policy_once_per_step_and_the_reference_once(tmp_path, tiny_model_dir,
                                                                                     vowel_data, prefix_sharing,
                                                                                     rows_per_group):
    cfg = config(tmp_path, tiny_model_dir, vowel_data, max_steps=3, per_device_train_batch_size=2,
                 prefix_sharing=prefix_sharing)
    tokenizer = load_tokenizer(tiny_model_dir)
    dataset = build_group_dataset(select_split(load_records(vowel_data), "train"), tokenizer, max_length=64,
                                  max_prompt_length=32)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=8, alpha=16, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    rows = _count_embedding_rows(model)
    trainer = RankedGRPOTrainer(model=model, args=cfg, train_dataset=dataset, processing_class=tokenizer)
    assert sum(rows) == rows_per_group * len(dataset)  # reference pass: every group once (K rows unshared)
    rows.clear()
    trainer.train()
    assert rows == [2 * rows_per_group] * 3  # per step: 2 groups, one forward each (not one per pair)


def test_reference_logps_are_cached_and_recomputed_when_the_data_changes(tmp_path, tiny_model_dir, vowel_data,
                                                                         monkeypatch):
    run_training(config(tmp_path, tiny_model_dir, vowel_data, max_steps=1))
    assert (tmp_path / "run" / "reference_logps.json").is_file()

    def no_second_pass(self, dataset):
        raise AssertionError("reference pass repeated")

    monkeypatch.setattr(RankedGRPOTrainer, "_reference_pass", no_second_pass)
    run_training(config(tmp_path, tiny_model_dir, vowel_data, max_steps=1))  # same data: cache hit
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(reversed(Path(vowel_data).read_text().splitlines())) + "\n")
    with pytest.raises(AssertionError, match="reference pass repeated"):
        run_training(config(tmp_path, tiny_model_dir, str(other), max_steps=1))
