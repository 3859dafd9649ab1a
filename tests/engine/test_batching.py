"""Token budget: micro-batches filled by tokens, groups never split, little padding."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from training.engine import trainer as trainer_module
from training.engine.batching import TokenBudgetBatchSampler, batch_tokens, padding_share, token_budget_batches
from training.engine.data import build_group_dataset
from training.engine.modeling import add_lora_adapter, load_base_model, load_tokenizer
from training.engine.records import load_records, select_split
from training.engine.synthetic import write_jsonl
from training.engine.trainer import RankedGRPOTrainer

from .conftest import oasst_records
from .test_training import config


@pytest.fixture(scope="module")
def oasst_groups(tiny_model_dir, tmp_path_factory):
    data = write_jsonl(oasst_records(), tmp_path_factory.mktemp("oasst") / "oasst.jsonl")
    return build_group_dataset(load_records(data), load_tokenizer(tiny_model_dir), max_length=512,
                               max_prompt_length=256).groups


@pytest.mark.parametrize("prefix_sharing", [True, False])
def test_no_micro_batch_exceeds_the_budget_and_every_group_comes_once(oasst_groups, prefix_sharing):
    budget = 6000 if prefix_sharing else 12000
    batches = token_budget_batches(oasst_groups, budget, prefix_sharing)
    assert sorted(i for batch in batches for i in batch) == list(range(len(oasst_groups)))
    for batch in batches:
        processed, _ = batch_tokens([oasst_groups[i] for i in batch], prefix_sharing)
        assert processed <= budget or len(batch) == 1
    assert padding_share(oasst_groups, batches, prefix_sharing) < 0.10
    assert len(batches) < len(oasst_groups) / 2  # short groups share a micro-batch


def test_a_group_over_the_budget_trains_alone_with_a_warning(oasst_groups, caplog):
    with caplog.at_level(logging.WARNING, logger="training.engine.batching"):
        batches = token_budget_batches(oasst_groups, 1500, prefix_sharing=True)
    alone = [b for b in batches if batch_tokens([oasst_groups[b[0]]], True)[0] > 1500]
    assert alone and all(len(b) == 1 for b in alone)
    assert "exceed max_tokens_per_batch=1500" in caplog.text


def test_sampler_keeps_the_micro_batches_and_reorders_them_each_epoch():
    batches = [[0, 1], [2], [3, 4, 5], [6], [7, 8]]
    sampler = TokenBudgetBatchSampler(batches, seed=3)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert sorted(first) == sorted(second) == sorted(batches)
    assert first != second


def test_training_with_a_token_budget_never_forwards_more_tokens_than_the_budget(tmp_path, tiny_model_dir):
    data = write_jsonl(oasst_records(30), tmp_path / "oasst.jsonl")
    cfg = config(tmp_path, tiny_model_dir, data, max_steps=4, max_length=256, max_prompt_length=128,
                 max_tokens_per_batch=1500, prefix_sharing="on")
    tokenizer = load_tokenizer(tiny_model_dir)
    dataset = build_group_dataset(select_split(load_records(data), "train"), tokenizer, max_length=256,
                                  max_prompt_length=128)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    shapes = []
    model.get_input_embeddings().register_forward_pre_hook(lambda m, inputs: shapes.append(tuple(inputs[0].shape)))
    trainer = RankedGRPOTrainer(model=model, args=cfg, train_dataset=dataset, processing_class=tokenizer)
    assert len(shapes) < len(dataset)  # the reference pass batches by tokens too
    shapes.clear()
    trainer.train()
    assert len(shapes) == 4
    oversize = {g["id"] for g in dataset.groups if batch_tokens([g], True)[0] > 1500}
    assert all(rows * length <= 1500 or rows == 1 for rows, length in shapes), (shapes, oversize)


def test_the_trainer_counts_its_optimizer_steps_exactly_under_a_token_budget(tmp_path, tiny_model_dir):
    data = write_jsonl(oasst_records(30), tmp_path / "oasst.jsonl")
    cfg = config(tmp_path, tiny_model_dir, data, max_length=256, max_prompt_length=128, max_tokens_per_batch=3000,
                 prefix_sharing="on", num_train_epochs=2, gradient_accumulation_steps=2, per_device_train_batch_size=64,
                 dataloader_drop_last=True, logging_steps=1)  # by prompts: 0 steps
    dataset = build_group_dataset(select_split(load_records(data), "train"), load_tokenizer(tiny_model_dir),
                                  max_length=256, max_prompt_length=128)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0,
                             target_modules="all-linear", quantized=False)
    trainer = RankedGRPOTrainer(model=model, args=cfg, train_dataset=dataset, processing_class=load_tokenizer(tiny_model_dir))
    micro_batches = len(token_budget_batches(dataset.groups, 3000, True))
    assert trainer.total_steps == 2 * -(-micro_batches // 2) > cfg.optimizer_steps(len(dataset)) >= 1
    trainer.train()
    assert trainer.state.global_step == trainer.state.max_steps == trainer.total_steps


def _first_step_lora_update(tmp_path, model_dir, data, dataset, tokenizer, name, **overrides):
    cfg = config(tmp_path / name, model_dir, data, max_steps=1, max_length=256, max_prompt_length=128,
                 prefix_sharing="on", optim="sgd", learning_rate=1.0, max_grad_norm=0.0, **overrides)
    model = load_base_model(model_dir)
    torch.manual_seed(0)  # the same LoRA initialisation in every run
    model = add_lora_adapter(model, r=4, alpha=8, dropout=0.0, target_modules="all-linear", quantized=False)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    trainer = RankedGRPOTrainer(model=model, args=cfg, train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    assert trainer.state.global_step == 1
    return torch.cat([(p.detach() - before[n]).flatten() for n, p in model.named_parameters() if n in before])


@pytest.mark.parametrize("options, scaled_loss_hook", [
    ({"weighting": "quadratic"}, True), ({"weighting": "quadratic"}, False),  # False: the Trainer divides (older)
    ({"normalize": "pair", "weighting": "log"}, True), ({"loss": "plackett-luce"}, True), ({"loss": "orpo"}, True),
], ids=["group", "group-older-transformers", "pair", "plackett-luce", "orpo"])  # fmt: skip
def test_an_optimizer_steps_update_does_not_depend_on_how_groups_are_packed(tmp_path, tiny_model_dir, monkeypatch,
                                                                            options, scaled_loss_hook):
    monkeypatch.setattr(trainer_module, "TRAINER_TAKES_SCALED_LOSS", scaled_loss_hook)
    data = write_jsonl(oasst_records(14), tmp_path / "oasst.jsonl")
    tokenizer = load_tokenizer(tiny_model_dir)
    dataset = build_group_dataset(select_split(load_records(data), "train"), tokenizer, max_length=256,
                                  max_prompt_length=128)
    packings = {budget: token_budget_batches(dataset.groups, budget, True) for budget in (1200, 4000)}
    assert len(packings[1200]) > len(packings[4000]) > 1  # different micro-batches of unequal group counts
    window = {"gradient_accumulation_steps": 16}  # the first step accumulates every micro-batch
    updates = [_first_step_lora_update(tmp_path, tiny_model_dir, data, dataset, tokenizer, f"b{budget}",
                                       max_tokens_per_batch=budget, **window, **options) for budget in packings]
    whole = _first_step_lora_update(tmp_path, tiny_model_dir, data, dataset, tokenizer, "whole",
                                    per_device_train_batch_size=len(dataset), **options)  # one micro-batch of all
    assert whole.abs().max() > 0
    for update in updates:
        assert (update - whole).norm() <= 1e-5 * whole.norm()


@pytest.mark.parametrize("sharing", ["on", "off"])
def test_cli_trains_with_prefix_sharing_and_a_token_budget(tmp_path, tiny_model_dir, vowel_data, sharing):
    from training.engine.cli import main

    out = tmp_path / "out"
    code = main(["train", "--data", vowel_data, "--model", tiny_model_dir, "--output", str(out), "--max-steps", "2",
                 "--max-length", "64", "--prefix-sharing", sharing, "--max-tokens-per-batch", "400"])
    assert code == 0
    summary = json.loads((out / "adapter" / "grpo_training.json").read_text())
    assert summary["global_step"] == 2
    assert summary["config"]["prefix_sharing"] == sharing and summary["config"]["max_tokens_per_batch"] == 400
    assert "micro-batches of at most 400 tokens x 1 accumulated" in (out / "adapter" / "README.md").read_text()


def test_ddp_set_epoch_reaches_the_token_budget_sampler_through_accelerate():
    # under DDP accelerate wraps the batch sampler in BatchSamplerShard; DataLoaderShard.set_epoch must still
    # reshuffle it, or every epoch visits the micro-batches in the same order
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader

    batches = [[i] for i in range(8)]
    sampler = TokenBudgetBatchSampler(batches, seed=3)
    loader = DataLoader(list(range(8)), batch_sampler=sampler, collate_fn=lambda rows: rows)
    sharded = prepare_data_loader(loader, num_processes=2, process_index=0, put_on_device=False, even_batches=False)
    sharded.set_epoch(0)
    first = list(sharded)
    sharded.set_epoch(1)
    assert sampler.epoch == 1
    assert list(sharded) != first
