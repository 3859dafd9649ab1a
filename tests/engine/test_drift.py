"""Drift monitoring: per-tier rewards and log-probs, the KL estimate and its schedule."""

from __future__ import annotations

import pytest
import torch

from training.engine.drift import KL_SAMPLING, drift_means, drift_totals, estimate_kl, kl_interval
from training.engine.modeling import add_lora_adapter, load_base_model, load_tokenizer


def test_drift_figures_are_the_best_and_worst_tier_means():
    policy = torch.tensor([[-2.0, -4.0, -9.0, 0.0], [-1.0, -3.0, 0.0, 0.0]])
    ref = torch.tensor([[-3.0, -4.0, -6.0, 0.0], [-2.0, -1.0, 0.0, 0.0]])
    ranks = torch.tensor([[0, 1, 2, -1], [0, 1, -1, -1]])
    counts = torch.tensor([[2.0, 4.0, 3.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    means = drift_means(drift_totals(policy, ref, ranks, counts, beta=0.5))
    assert means["reward_best"] == pytest.approx((0.5 * 1 + 0.5 * 1) / 2)
    assert means["reward_worst"] == pytest.approx((0.5 * -3 + 0.5 * -2) / 2)
    assert means["logp_best_policy"] == pytest.approx((-1.0 + -1.0) / 2)
    assert means["logp_best_reference"] == pytest.approx((-1.5 + -2.0) / 2)


def test_kl_schedule_defaults_to_four_estimates_per_run():
    assert kl_interval(None, 40) == 10 and kl_interval(None, 3) == 1
    assert kl_interval(5, 40) == 5 and kl_interval(0.5, 40) == 20


def test_kl_estimate_is_zero_before_training_and_positive_after_the_policy_moves(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    prompts = [tokenizer("Hello there")["input_ids"], tokenizer("Why?")["input_ids"]]
    state = torch.random.get_rng_state()
    assert estimate_kl(model, prompts, 3, seed=0, pad_token_id=tokenizer.pad_token_id)["kl"] == pytest.approx(0, abs=1e-5)
    assert torch.equal(state, torch.random.get_rng_state())  # training randomness untouched
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    figures = estimate_kl(model, prompts, 3, seed=0, pad_token_id=tokenizer.pad_token_id)
    assert figures["kl"] > 0.01 and figures["kl_se"] > 0 and 0 <= figures["kl_length_share"] <= 1


def _moved_policy(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.5)
    return model, tokenizer


def test_kl_samples_from_the_policy_whatever_the_model_generation_config_says(tiny_model_dir):
    # a checkpoint's generation_config.json (top_k, repetition penalty) must not bend the sampling distribution
    model, tokenizer = _moved_policy(tiny_model_dir)
    prompts = [tokenizer("Hello there")["input_ids"], tokenizer("Why?")["input_ids"]]
    plain = estimate_kl(model, prompts, 4, seed=1, pad_token_id=tokenizer.pad_token_id)
    model.generation_config.top_k, model.generation_config.repetition_penalty = 2, 20.0
    model.generation_config.temperature = 0.3
    assert estimate_kl(model, prompts, 4, seed=1, pad_token_id=tokenizer.pad_token_id) == plain
    assert KL_SAMPLING.record() == {"temperature": 1.0, "top_p": 1.0, "top_k": 0, "repetition_penalty": 1.0,
                                    "max_new_tokens": 64}


def test_kl_standard_error_is_the_spread_of_the_samples_over_root_n(tiny_model_dir):
    model, tokenizer = _moved_policy(tiny_model_dir)
    prompts = [tokenizer("Hello there")["input_ids"]]
    one = estimate_kl(model, prompts, 1, seed=2, pad_token_id=tokenizer.pad_token_id)
    many = estimate_kl(model, prompts, 6, seed=2, pad_token_id=tokenizer.pad_token_id)
    assert one["kl_se"] == 0.0 and many["kl_se"] > 0
    assert many["kl_se"] < max(abs(many["kl"]), 1e-3) * 10
