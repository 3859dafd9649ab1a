"""RankedGRPOTrainer (a transformers Trainer) and ``run_training``, the engine's training entry point.

Per step each response of each group in the batch goes through the policy once; the reference
log-probs come from one pass over the data before training, with the LoRA adapter disabled (no
second model copy), cached in ``output_dir/reference_logps.json`` (the validation groups' in
``reference_logps_validation.json``): when the trainer is built, or, where FSDP or DeepSpeed ZeRO-3
shard the weights, when training begins, through the wrapped model (docs/scaling.md). Validation and
the best adapter: ``validation.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch
from accelerate.utils import gather_object
from torch.utils.data import DataLoader
from transformers import Trainer, TrainerCallback, set_seed
from transformers.integrations import is_deepspeed_zero3_enabled
from transformers.trainer_utils import get_last_checkpoint

from .batching import TokenBudgetBatchSampler, token_budget_batches
from .config import RankedGRPOConfig
from .config_fields import ConfigError
from .data import GroupDataset, build_group_dataset, prompt_token_ids, truncation_rates
from .drift import DRIFT_KEYS, KLCallback, drift_means, drift_totals
from .losses import (
    grpo_pairwise_loss,
    log_odds,
    orpo_ranked_loss,
    pairwise_stats,
    plackett_luce_loss,
    valid_pair_mask,
    window_denominator,
    window_normalizable,
)
from .modeling import add_lora_adapter, load_base_model, load_tokenizer
from .packing import batch_response_logps, make_collator, resolve_prefix_sharing
from .records import DataError, RankedData, read_ranked_data, select_split, train_validation_split
from .validation import BEST_STATE, VALIDATION_KEYS, ValidationCallback, restore_best_adapter

REFERENCE_CACHE = "reference_logps.json"
VALIDATION_REFERENCE_CACHE = "reference_logps_validation.json"
RUN_SUMMARY = "grpo_training.json"
# transformers >= 5.x lets a subclass say its loss is already scaled for gradient accumulation
TRAINER_TAKES_SCALED_LOSS = hasattr(Trainer, "loss_is_scaled_for_ga")


class TrainingCancelled(Exception):
    """Raised by ``run_training`` after ``should_stop()`` asked to stop; a checkpoint was saved first."""

    def __init__(self, checkpoint_dir: str | None, global_step: int):
        super().__init__(f"training cancelled at step {global_step}; checkpoint: {checkpoint_dir}")
        self.checkpoint_dir = checkpoint_dir
        self.global_step = global_step


class RankedGRPOTrainer(Trainer):
    """Trains a LoRA adapter on ranked groups with the loss chosen in ``RankedGRPOConfig.loss``."""

    def __init__(self, model, args: RankedGRPOConfig, train_dataset: GroupDataset, processing_class, callbacks=None,
                 validation_dataset: GroupDataset | None = None):
        self.prefix_sharing = resolve_prefix_sharing(args.prefix_sharing, model, train_dataset.groups)
        self.token_batches = (token_budget_batches(train_dataset.groups, args.max_tokens_per_batch, self.prefix_sharing)
                              if args.max_tokens_per_batch else None)
        # exact: the token budget's micro-batches are known now (build_trainer's check before loading is a lower bound)
        self.total_steps = args.require_steps(len(train_dataset), args.world_size,
                                              None if self.token_batches is None else len(self.token_batches))
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            data_collator=make_collator(self.prefix_sharing, processing_class.pad_token_id),
            processing_class=processing_class,
            callbacks=callbacks,
        )
        self.model_accepts_loss_kwargs = False
        # a step's loss is the mean over its whole accumulation window (and every process), whatever the packing:
        # compute_loss divides by the window's denominator (losses.window_denominator), not by the accumulation
        self.window_normalized = window_normalizable(args.loss, args.normalize, args.weighting)
        if TRAINER_TAKES_SCALED_LOSS:
            self.loss_is_scaled_for_ga = self.window_normalized
        self._metrics: dict[str, list[float]] = defaultdict(list)
        self.pending_logs: dict[str, float] = {}  # figures of one step (validation, KL), logged with its train log
        self.validation_dataset = validation_dataset if validation_dataset is not None else GroupDataset([])
        # FSDP and ZeRO-3 shard the weights: the reference is scored through the wrapped model, once training begins
        self.parameters_sharded = self.is_fsdp_enabled or (self.is_deepspeed_enabled and is_deepspeed_zero3_enabled())
        if self.parameters_sharded:
            self.add_callback(ReferenceCallback(self))
        else:
            self.precompute_references()

    # -- reference ---------------------------------------------------------------------------
    def precompute_references(self) -> None:
        """The reference log-probs of the train and validation groups (none for ORPO, which has no reference)."""
        if self.args.loss == "orpo":
            return
        self.precompute_reference_logps(self.train_dataset)
        if len(self.validation_dataset):
            self.precompute_reference_logps(self.validation_dataset, VALIDATION_REFERENCE_CACHE)

    def precompute_reference_logps(self, dataset: GroupDataset, cache_name: str = REFERENCE_CACHE) -> None:
        """Store each group's reference log-probs in ``group["ref_logps"]``, from the cache if it matches."""
        cache = Path(self.args.output_dir) / cache_name
        key = self._reference_key(dataset)
        if cache.is_file():
            stored = json.loads(cache.read_text())
            if stored.get("key") == key:
                for group, ref in zip(dataset.groups, stored["ref_logps"], strict=True):
                    group["ref_logps"] = ref
                return
        for group, ref in zip(dataset.groups, self._reference_pass(dataset), strict=True):
            group["ref_logps"] = ref
        if self.is_world_process_zero():
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": key, "ref_logps": [g["ref_logps"] for g in dataset.groups]}))
            os.replace(tmp, cache)

    @torch.no_grad()
    def _reference_pass(self, dataset: GroupDataset) -> list[list[float]]:
        """Reference log-probs of every group; with several processes each scores its share of the batches.

        Under FSDP and ZeRO-3 every forward gathers the weights from all processes, so each process runs
        the same number of forwards (the short ones score one of their batches again, discarded)."""
        batches = self._batches(dataset, self.args.ref_batch_size)
        world, rank = self.accelerator.num_processes, self.accelerator.process_index
        mine = batches[rank::world]
        rounds = -(-len(batches) // world) if self.parameters_sharded else len(mine)
        padded = mine + [mine[-1] if mine else batches[0]] * (rounds - len(mine))
        model, forward = self._scoring_models()
        was_training = model.training
        model.eval()
        scored = []
        with model.disable_adapter(), self.accelerator.autocast():
            for turn, indices in enumerate(padded):
                groups = [dataset.groups[i] for i in indices]
                batch = self._prepare_inputs(self.data_collator(groups))
                grid = self._to_grid(batch_response_logps(forward, batch).float(), batch).cpu()
                if turn < len(mine):
                    scored.extend((i, row[: len(g["response_ids"])].tolist())
                                  for i, row, g in zip(indices, grid, groups, strict=True))
        model.train(was_training)
        by_index = dict(gather_object(scored) if world > 1 else scored)
        return [by_index[i] for i in range(len(dataset))]

    def _scoring_models(self):
        """(the PEFT model, the module to call for a forward): the PEFT model itself, except under FSDP, whose
        root wrapper gathers the shards (ZeRO-3's hooks sit on the PEFT model's own modules)."""
        model = self.accelerator.unwrap_model(self.model)
        if self.is_fsdp_enabled and self.model_wrapped is not model:
            return model, self.model_wrapped
        if not self.parameters_sharded and self.is_deepspeed_enabled and model.device != self.accelerator.device:
            model.to(self.accelerator.device)  # ZeRO-2 before the Trainer wraps it: placement is left to DeepSpeed
        return model, model

    def _batches(self, dataset: GroupDataset, batch_size: int | None = None) -> list[list[int]]:
        """Group indices per micro-batch: by the token budget when set, else ``batch_size`` groups in order."""
        if self.token_batches is not None and dataset is self.train_dataset:
            return self.token_batches
        if self.args.max_tokens_per_batch:
            return token_budget_batches(dataset.groups, self.args.max_tokens_per_batch, self.prefix_sharing)
        size = batch_size or self.args.per_device_train_batch_size
        return [list(range(start, min(start + size, len(dataset)))) for start in range(0, len(dataset), size)]

    def get_train_dataloader(self) -> DataLoader:
        """With ``max_tokens_per_batch``, micro-batches filled by tokens (``batching.py``); else the Trainer's."""
        if not self.args.max_tokens_per_batch:
            return super().get_train_dataloader()
        sampler = TokenBudgetBatchSampler(self._batches(self.train_dataset), seed=self.args.seed)
        loader = DataLoader(self.train_dataset, batch_sampler=sampler, collate_fn=self.data_collator,
                            num_workers=self.args.dataloader_num_workers, pin_memory=self.args.dataloader_pin_memory)
        return self.accelerator.prepare(loader)

    def _reference_key(self, dataset: GroupDataset) -> str:
        digest = hashlib.sha256()
        for part in (self.args.model_name_or_path, _local_weights_stamp(self.args.model_name_or_path),
                     self.args.quantization, str(self.args.bf16)):
            digest.update(str(part).encode() + b"\0")
        for group in dataset.groups:
            digest.update(json.dumps([group["prompt_ids"], group["response_ids"]]).encode())
        return digest.hexdigest()

    # -- loss ----------------------------------------------------------------------------------
    def get_batch_samples(self, epoch_iterator, num_batches: int, device: torch.device):
        """The accumulation window's micro-batches and, when window-normalised, its loss denominator (all processes):
        the ``num_items_in_batch`` that ``compute_loss`` divides by, as transformers does with tokens."""
        batches, num_items = super().get_batch_samples(epoch_iterator, num_batches, device)
        if self.window_normalized and batches:
            args, annotators = self.args, self.args.pair_targets == "annotators"
            parts = [window_denominator(b["ranks"], loss=args.loss, normalize=args.normalize, weighting=args.weighting,
                                        ties=args.ties, annotator_ranks=b["annotator_ranks"] if annotators else None)
                     for b in batches]
            num_items = torch.tensor(parts, dtype=torch.float32, device=device).sum(dim=0)  # (pair term, NLL)
            if self.accelerator.num_processes > 1:
                num_items = self.accelerator.gather(num_items.unsqueeze(0)).sum(dim=0)
        return batches, num_items

    @staticmethod
    def _to_grid(logps: torch.Tensor, batch: dict) -> torch.Tensor:
        """(N,) per-row values -> (G, K) grid aligned with batch["ranks"] (0 in padding slots)."""
        grid = logps.new_zeros(batch["ranks"].shape)
        return grid.index_put((batch["group_index"], batch["slot_index"]), logps)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logps = batch_response_logps(model, inputs)
        policy = self._to_grid(logps.float(), inputs)
        windows = num_items_in_batch if self.window_normalized and num_items_in_batch is not None else (None, None)
        loss, scores = self.ranking_loss(policy, inputs, windows)
        if windows[0] is not None:
            loss = self._undo_trainer_scaling(loss)
        self._record_pair_metrics(scores.detach(), inputs["ranks"])
        if self.args.loss != "orpo":
            self._record_drift(policy.detach(), inputs["ref_logps"], inputs["ranks"], inputs["token_counts"])
        return (loss, {"policy_logps": policy}) if return_outputs else loss

    def ranking_loss(self, policy: torch.Tensor, inputs: dict, windows=(None, None)) -> tuple[torch.Tensor, torch.Tensor]:
        """(the configured loss, the scores its pairs compare) of a batch's (G, K) policy log-probs."""
        ranks, args = inputs["ranks"], self.args
        if args.loss == "orpo":
            loss = orpo_ranked_loss(policy, inputs["token_counts"], ranks, beta=args.beta, margin=args.margin,
                                    weighting=args.weighting, normalize=args.normalize, window=windows[0],
                                    nll_window=windows[1])
            scores = log_odds(policy / inputs["token_counts"].clamp(min=1))
        else:
            ref = inputs["ref_logps"]
            if args.loss == "grpo":
                loss = grpo_pairwise_loss(policy, ref, ranks, **grpo_loss_options(args, inputs), window=windows[0])
            else:
                loss = plackett_luce_loss(policy, ref, ranks, beta=args.beta, window=windows[0])
            scores = args.beta * (policy - ref)
        return loss, scores

    @torch.no_grad()
    def validation_metrics(self) -> dict[str, float]:
        """``eval_loss`` (the training loss, mean over validation groups) and ``eval_pair_accuracy`` (share of the
        validation pairs the scores order as the humans did) of the current policy; every process computes all."""
        dataset, (model, forward) = self.validation_dataset, self._scoring_models()
        was_training = model.training
        model.eval()
        loss_sum, groups, correct, pairs = 0.0, 0, 0.0, 0
        with self.accelerator.autocast():
            for indices in self._batches(dataset, self.args.ref_batch_size):
                batch = self._prepare_inputs(self.data_collator([dataset.groups[i] for i in indices]))
                loss, scores = self.ranking_loss(self._to_grid(batch_response_logps(forward, batch).float(), batch), batch)
                stats = pairwise_stats(scores.float(), batch["ranks"])
                loss_sum, groups = loss_sum + loss.item() * len(indices), groups + len(indices)
                correct, pairs = correct + stats["accuracy"] * stats["pairs"], pairs + stats["pairs"]
        model.train(was_training)
        return {"eval_loss": loss_sum / max(groups, 1), "eval_pair_accuracy": correct / max(pairs, 1)}

    def _undo_trainer_scaling(self, loss: torch.Tensor) -> torch.Tensor:
        """A window-normalised loss is already a share of the step's mean: DDP's averaging of the processes'
        gradients is undone, and (transformers without ``loss_is_scaled_for_ga``) the division by accumulation."""
        loss = loss * self.accelerator.num_processes
        if not TRAINER_TAKES_SCALED_LOSS:
            loss = loss * getattr(self, "current_gradient_accumulation_steps", self.args.gradient_accumulation_steps)
        return loss

    def _record_pair_metrics(self, scores: torch.Tensor, ranks: torch.Tensor) -> None:
        stats = pairwise_stats(scores, ranks)
        totals = torch.tensor([stats["margin"] * stats["pairs"], stats["accuracy"] * stats["pairs"], stats["pairs"],
                               float(valid_pair_mask(ranks).any(dim=(1, 2)).sum())], device=scores.device)
        totals = self.accelerator.reduce(totals, reduction="sum")
        pairs = max(totals[2].item(), 1.0)
        self._metrics["reward_margin"].append(totals[0].item() / pairs)
        self._metrics["pair_accuracy"].append(totals[1].item() / pairs)
        self._metrics["pairs_per_step"].append(totals[2].item())

    def _record_drift(self, policy, ref, ranks, token_counts) -> None:
        totals = self.accelerator.reduce(drift_totals(policy, ref, ranks, token_counts, self.args.beta), reduction="sum")
        for name, value in drift_means(totals).items():
            self._metrics[name].append(value)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._metrics:
            logs.update({name: sum(values) / len(values) for name, values in self._metrics.items()})
            self._metrics.clear()
        if "loss" in logs and self.pending_logs:
            logs.update(self.pending_logs)
            self.pending_logs.clear()
        super().log(logs, start_time)


def grpo_loss_options(args: RankedGRPOConfig, inputs: dict) -> dict:
    """Keyword arguments of ``grpo_pairwise_loss`` for this config and batch."""
    return {
        "beta": args.beta, "margin": args.margin, "weighting": args.weighting, "normalize": args.normalize,
        "ties": args.ties, "tie_strength": args.tie_strength,
        "annotator_ranks": inputs["annotator_ranks"] if args.pair_targets == "annotators" else None,
        "token_counts": inputs["token_counts"] if args.length_normalize else None,
    }  # fmt: skip


def _local_weights_stamp(name_or_path: str) -> str:
    """Names, sizes and mtimes of a local model folder's weight and config files ('' for a hub id)."""
    folder = Path(name_or_path)
    if not folder.is_dir():
        return ""
    files = sorted(p for pattern in ("*.safetensors", "*.bin", "config.json") for p in folder.glob(pattern))
    return ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)


class ReferenceCallback(TrainerCallback):
    """Scores the reference when training begins, after the Trainer wrapped the model (FSDP, ZeRO-3)."""

    def __init__(self, trainer: RankedGRPOTrainer):
        self.trainer = trainer

    def on_train_begin(self, args, state, control, **kwargs):
        self.trainer.precompute_references()


class JobCallback(TrainerCallback):
    """Reports each log to ``progress`` and stops (after a checkpoint) when ``should_stop()`` is true."""

    def __init__(self, progress=None, should_stop=None):
        self.progress, self.should_stop = progress, should_stop
        self.history: list[dict] = []
        self.cancelled = False
        self.accelerator = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        event = {
            "phase": "train",
            "step": state.global_step,
            "total_steps": state.max_steps,
            "epoch": state.epoch,
            "loss": logs["loss"],
            "reward_margin": logs.get("reward_margin"),
            "pair_accuracy": logs.get("pair_accuracy"),
            "learning_rate": logs.get("learning_rate"),
            "grad_norm": logs.get("grad_norm"),
            **{name: logs.get(name) for name in DRIFT_KEYS + VALIDATION_KEYS},
        }
        self.history.append(event)
        if self.progress is not None and state.is_world_process_zero:
            self.progress(dict(event))

    def on_step_end(self, args, state, control, **kwargs):
        if self.should_stop is not None and self.should_stop():
            self.accelerator.set_trigger()
        if self.accelerator.check_trigger():  # every process stops together
            self.cancelled = True
            control.should_save = True
            control.should_training_stop = True
        return control


def _emit(progress, event: dict) -> None:
    if progress is not None:
        progress(event)


def _count_pairs(dataset: GroupDataset) -> int:
    total = 0
    for group in dataset.groups:
        ranks = torch.tensor(group["ranks"]).unsqueeze(0)
        total += int(valid_pair_mask(ranks).sum())
    return total


@dataclass
class RunInputs:
    """What a run reads and loads once per process: the data (parsed and hashed), the tokenizer, and the base
    model (loaded on first use, after the data proved trainable; training adds its LoRA adapter in place)."""

    data: RankedData
    tokenizer: object
    model: object | None = None
    adapted: object | None = None  # the base model with this run's LoRA adapter (a PEFT model), once built

    @classmethod
    def read(cls, config: RankedGRPOConfig) -> RunInputs:
        return cls(read_ranked_data(config.data_path), load_tokenizer(config.model_name_or_path))

    def base_model(self, config: RankedGRPOConfig, device: str | None = None):
        if self.model is None:
            self.model = load_base_model(config.model_name_or_path, quantization=config.quantization, bf16=config.bf16,
                                         attn_implementation=config.attn_implementation, device=device)
        return self.model


def refuse_quantized_zero3(config: RankedGRPOConfig) -> None:
    """A clear error, before anything loads, for a 4/8-bit base under DeepSpeed ZeRO-3: bitsandbytes loads
    the quantized weights whole onto each GPU (a device map), which ZeRO-3's partitioned loading refuses."""
    if config.quantization != "none" and os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3":
        raise ConfigError({"quantization": f"{config.quantization}: not with DeepSpeed ZeRO-3, which partitions the "
                                           "weights while loading; use quantization none with zero3, or ddp, zero2 "
                                           "or fsdp for a quantized base (docs/scaling.md)"})


def build_trainer(config: RankedGRPOConfig, progress=None, should_stop=None,
                  inputs: RunInputs | None = None) -> tuple[RankedGRPOTrainer, JobCallback]:
    """Tokenizer, train and validation groups, base model + new LoRA adapter, and the trainer (reference
    log-probs ready) with its callbacks: the job's, validation + best adapter, KL. ``inputs``: what this
    process has already read and loaded (``session.RunSession``); read and loaded here when None."""
    refuse_quantized_zero3(config)
    set_seed(config.seed)
    _emit(progress, {"phase": "load"})
    inputs = inputs or RunInputs.read(config)
    tokenizer, records = inputs.tokenizer, inputs.data.records
    train_records, validation_records, split_report = train_validation_split(records, config.validation_fraction)
    limits = {"max_length": config.max_length, "max_prompt_length": config.max_prompt_length}
    dataset = build_group_dataset(train_records, tokenizer, **limits)
    validation = build_group_dataset(validation_records, tokenizer, **limits)
    if len(dataset) == 0:
        raise DataError(f"{config.data_path}: no valid pairs in the train split "
                        "(every prompt needs two ranked responses in different tiers)")
    # a run that would train nothing fails here, before the model loads (under a token budget, a lower bound)
    config.require_steps(len(dataset), config.world_size)
    model = inputs.adapted = add_lora_adapter(inputs.base_model(config), r=config.lora_r, alpha=config.lora_alpha,
                             dropout=config.lora_dropout, target_modules=config.target_modules, quantized=config.quantization != "none",
                             gradient_checkpointing=bool(config.activation_checkpointing))
    callback = JobCallback(progress, should_stop)
    _emit(progress, {"phase": "reference"})
    trainer = RankedGRPOTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                                callbacks=[callback], validation_dataset=validation)
    callback.accelerator = trainer.accelerator
    trainer.data_report = {"dataset_sha256": inputs.data.sha256, **split_report,
                           "n_validation_groups": len(validation), **truncation_rates(dataset.groups + validation.groups)}
    trainer.add_callback(ValidationCallback(trainer, config.patience))
    held_out = select_split(records, "test") or train_records
    prompts = [prompt_token_ids(tokenizer, r["prompt"], config.max_prompt_length) for r in held_out[: config.kl_samples]]
    trainer.add_callback(KLCallback(prompts, config.kl_samples, config.eval_steps, config.seed,
                                    tokenizer.pad_token_id, trainer.pending_logs, tokenizer.eos_token_id))
    return trainer, callback


def run_training(config: RankedGRPOConfig, progress=None, should_stop=None, resume: bool = False,
                 inputs: RunInputs | None = None) -> dict:
    """Train a LoRA adapter on the "train" split of ``config.data_path``; see docs/training.md.

    ``progress(event)`` gets a dict at each logging step (step, total_steps, epoch, loss,
    reward_margin, pair_accuracy, learning_rate, grad_norm, and at validation steps eval_loss and
    eval_pair_accuracy) and at phase changes ({"phase": ...}). ``should_stop()`` is checked after every
    optimizer step. ``resume`` continues from the last checkpoint in ``output_dir`` (a fresh start when
    there is none). The adapter saved is the best by validation loss with ``load_best`` (``kept_step``
    says which). Returns a JSON-serialisable summary; raises ``TrainingCancelled`` when stopped,
    ``DataError`` for unusable data and ``ModelLoadError`` for an unloadable model. ``inputs``: the data,
    tokenizer and base model this process already holds (see ``build_trainer``).
    """
    started = time.perf_counter()
    trainer, callback = build_trainer(config, progress, should_stop, inputs)
    checkpoint = get_last_checkpoint(config.output_dir) if resume and os.path.isdir(config.output_dir) else None
    _emit(progress, {"phase": "train", "resumed_from": checkpoint, "total_steps": trainer.total_steps})
    output = trainer.train(resume_from_checkpoint=checkpoint)
    if callback.cancelled:
        raise TrainingCancelled(get_last_checkpoint(config.output_dir), trainer.state.global_step)
    summary = _run_summary(config, trainer, callback.history, output.training_loss, checkpoint)
    best = _callback(trainer, ValidationCallback).best_dir if summary["kept_step"] != summary["global_step"] else None
    if best is not None and not trainer.parameters_sharded:
        restore_best_adapter(trainer, best)  # in memory too: the session scores the trained model next
    summary["train_runtime_s"] = time.perf_counter() - started
    _emit(progress, {"phase": "save"})
    save_adapter(trainer, config, summary, best if trainer.parameters_sharded else None)
    _emit(progress, {"phase": "done", "global_step": summary["global_step"]})
    return summary


def _run_summary(config: RankedGRPOConfig, trainer: RankedGRPOTrainer, history: list, train_loss: float,
                 checkpoint: str | None) -> dict:
    """``run_training``'s summary before the adapter is saved (see its doc)."""
    dataset = trainer.train_dataset
    return {
        "adapter_dir": str(Path(config.output_dir) / "adapter"),
        "output_dir": str(config.output_dir),
        "base_model": config.model_name_or_path,
        "global_step": trainer.state.global_step,
        "train_loss": train_loss,
        "history": history,
        "n_train_groups": len(dataset),
        "n_train_pairs": _count_pairs(dataset),
        "n_validation_pairs": _count_pairs(trainer.validation_dataset),
        "resumed_from": checkpoint,
        **trainer.data_report,
        **_callback(trainer, ValidationCallback).summary(trainer.state.global_step, load_best=config.load_best),
        **_callback(trainer, KLCallback).summary(),
    }


def _callback(trainer: RankedGRPOTrainer, kind: type):
    return next(c for c in trainer.callback_handler.callbacks if isinstance(c, kind))


def save_adapter(trainer: RankedGRPOTrainer, config: RankedGRPOConfig, summary: dict,
                 best_dir: Path | None = None) -> None:
    """Adapter (save_pretrained) + tokenizer + config + dataset sha256 + model card in ``adapter_dir``;
    with ``best_dir`` (sharded runs keep the best on disk only) its saved adapter, not the model's weights,
    which would be gathered from the shards for nothing."""
    adapter_dir = Path(summary["adapter_dir"])
    if best_dir is None:
        trainer.save_model(str(adapter_dir))
    elif trainer.is_world_process_zero():
        shutil.copytree(best_dir, adapter_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(BEST_STATE))
    if not trainer.is_world_process_zero():
        return
    record = {key: value for key, value in summary.items() if key != "history"}
    record["config"] = config.to_json_dict()
    (adapter_dir / RUN_SUMMARY).write_text(json.dumps(record, indent=2))
    (adapter_dir / "dataset.sha256").write_text(summary["dataset_sha256"] + "\n")
    (adapter_dir / "README.md").write_text(model_card(config, summary))


def model_card(config: RankedGRPOConfig, summary: dict) -> str:
    """A short Markdown model card for the saved adapter."""
    return f"""---
base_model: {config.model_name_or_path}
library_name: peft
tags: [lora, ranked-preference, group-relative-preference-optimization, grpo-studio]
---
# LoRA adapter trained with GRPO Studio

Offline **Group Relative Preference Optimization** (ranked groups of human-ranked responses), not
TRL's GRPOTrainer (Group Relative Policy Optimization, online RL).

| | |
| --- | --- |
| base model | `{config.model_name_or_path}` |
| loss | `{config.loss}` (weighting `{config.weighting}`, beta {config.beta}, margin {config.margin}, normalize `{config.normalize}`, ties `{config.ties}`, pair targets `{config.pair_targets}`, length-normalised {config.length_normalize}) |
| LoRA | r {config.lora_r}, alpha {config.lora_alpha}, dropout {config.lora_dropout}, targets `{config.lora_target_modules}` |
| quantization | `{config.quantization}` |
| optimisation | lr {config.learning_rate}, epochs {config.num_train_epochs}, {_batching(config)} x {config.gradient_accumulation_steps} accumulated, seed {config.seed} |
| data | `{config.data_path}` (sha256 `{summary["dataset_sha256"]}`), {summary["n_train_groups"]} prompts, {summary["n_train_pairs"]} valid pairs |
| result | {summary["global_step"]} steps, mean train loss {summary["train_loss"]:.4f} |
| adapter kept | {_kept(summary)} |
| truncation | {_rate(summary.get("truncated_prompt_rate"))} of prompts cut to {config.max_prompt_length} tokens, {_rate(summary.get("truncated_response_rate"))} of responses cut to fit {config.max_length} (closing tokens kept) |
| KL monitor | {summary.get("kl_estimates", 0)} estimates, {_rate(summary.get("kl_time_share"))} of the run's time; sampling {summary.get("kl_sampling")} |

Load with `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), this_folder)`.
"""


def _kept(summary: dict) -> str:
    """Which step's weights the adapter holds, and why."""
    if summary.get("best_step") is None:
        return f"step {summary['kept_step']} (the last; no validation split)"
    stop = f", stopped early at step {summary['stopped_early_at']}" if summary.get("stopped_early_at") else ""
    which = "the lowest validation loss" if summary["load_best"] else "the last (load_best off)"
    return (f"step {summary['kept_step']} of {summary['global_step']}: {which}; best validation loss "
            f"{summary['best_eval_loss']:.4f} at step {summary['best_step']} over {summary['evaluations']} "
            f"evaluations of {summary.get('n_validation_groups', 0)} validation prompts{stop}")


def _rate(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _batching(config: RankedGRPOConfig) -> str:
    if config.max_tokens_per_batch:
        return f"micro-batches of at most {config.max_tokens_per_batch} tokens"
    return f"{config.per_device_train_batch_size} prompts per device batch"


def end_distributed() -> None:
    """Leave a distributed run cleanly (``accelerate launch`` / torchrun): wait for every process,
    then tear the process group down. Without it, gloo's threads can abort the interpreter at exit
    ("terminate called without an active exception"). A no-op in a single process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()

