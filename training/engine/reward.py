"""A reward model from the ranked groups: ``python -m training.engine train-reward`` (docs/judging.md).

A LoRA adapter (peft ``task_type="SEQ_CLS"``, the new one-output ``score`` head trained in full) on
``AutoModelForSequenceClassification`` learns a score r(prompt, response) from the same records the
GRPO training reads (``data.load_records``, one row per response as ``data.GroupCollator`` batches
them). The loss is the pairwise Bradley-Terry loss of ``losses.grpo_pairwise_loss`` or the listwise
``losses.plackett_luce_loss``, with the reward itself as the score (beta 1, no reference). The held-out
split is scored before and after training with ``metrics.evaluation_report`` (chance level, length
baselines, strata, bootstrap intervals) and the paired change. The output folder loads as it is with
``AutoModelForSequenceClassification.from_pretrained`` (merged weights, tokenizer, model card);
``adapter/`` holds the LoRA adapter + head for ``PeftModel.from_pretrained``.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .config_fields import prompt_budget
from .data import GroupCollator, tokenize_group
from .judge_scoring import reward_scores
from .losses import grpo_pairwise_loss, plackett_luce_loss
from .metrics import evaluation_report, ranking_metrics, scoring_changes
from .modeling import ModelLoadError, load_tokenizer
from .records import DataError, has_valid_pair, load_records, select_split

REWARD_LOSSES = ("bradley_terry", "plackett_luce")
SUMMARY_FILE = "reward_training.json"


@dataclass
class RewardConfig:
    """``train-reward``: what to train on, the adapter, and the optimisation (every field is a flag)."""

    data_path: str = field(metadata={"help": "Exchange JSON/JSONL file or saved DatasetDict folder (an export)."})
    model_name_or_path: str = field(metadata={"help": "Hub id or local folder of the base model."})
    output_dir: str = field(metadata={"help": "New folder for the reward model (merged), its adapter/ and card."})
    loss: str = field(default="bradley_terry", metadata={"help": "bradley_terry (every valid pair) or plackett_luce (listwise).", "choices": REWARD_LOSSES})
    num_train_epochs: int = field(default=3, metadata={"help": "Passes over the train split."})
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate."})
    batch_size: int = field(default=4, metadata={"help": "Prompts (whole groups) per optimisation step."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: float = field(default=16, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout."})
    lora_target_modules: str = field(default="all-linear", metadata={"help": "'all-linear' or comma-separated module names."})
    max_length: int = field(default=512, metadata={"help": "Maximum tokens of prompt + response."})
    seed: int = field(default=0, metadata={"help": "Seed of the head's initialisation and of the shuffling."})
    eval_split: str = field(default="test", metadata={"help": "Split scored before and after training."})
    merge: bool = field(default=True, metadata={"help": "Also save the merged model at the top of the output folder."})

    def __post_init__(self):
        problems = self.errors()
        if problems:
            raise ValueError("; ".join(f"{name}: {message}" for name, message in problems.items()))

    def errors(self) -> dict[str, str]:
        checks = {
            "loss": (self.loss in REWARD_LOSSES, f"must be one of {', '.join(REWARD_LOSSES)}"),
            "num_train_epochs": (_whole(self.num_train_epochs, 1, 1000), "must be an integer from 1 to 1000"),
            "learning_rate": (_number(self.learning_rate, 1e-8, 1.0), "must be a number from 1e-8 to 1"),
            "batch_size": (_whole(self.batch_size, 1, 4096), "must be an integer from 1 to 4096"),
            "lora_r": (_whole(self.lora_r, 1, 1024), "must be an integer from 1 to 1024"),
            "lora_alpha": (_number(self.lora_alpha, 1e-3, 1e5), "must be a number from 0.001 to 100000"),
            "lora_dropout": (_number(self.lora_dropout, 0.0, 0.9), "must be a number from 0 to 0.9"),
            "max_length": (_whole(self.max_length, 16, 131072), "must be an integer from 16 to 131072"),
        }
        return {name: f"{message} (got {getattr(self, name)!r})" for name, (ok, message) in checks.items() if not ok}

    def target_modules(self) -> str | list[str]:
        value = str(self.lora_target_modules).strip()
        return value if value == "all-linear" else [m.strip() for m in value.split(",") if m.strip()]


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number(value, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def reward_loss(scores: torch.Tensor, ranks: torch.Tensor, loss: str) -> torch.Tensor:
    """Bradley-Terry (mean over groups of each group's mean -log sigmoid(r_i - r_j)) or Plackett-Luce, on rewards (G, K)."""
    zeros = torch.zeros_like(scores)
    if loss == "plackett_luce":
        return plackett_luce_loss(scores, zeros, ranks, beta=1.0)
    return grpo_pairwise_loss(scores, zeros, ranks, beta=1.0)


def group_rewards(model, batch: dict) -> torch.Tensor:
    """The model's reward for every response of the batch, placed in a (G, K) grid (padding slots 0),
    on the model's device."""
    device = next(model.parameters()).device
    batch = {key: batch[key].to(device) for key in ("input_ids", "attention_mask", "group_index", "slot_index", "ranks")}
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, 0].float()
    grid = logits.new_zeros(batch["ranks"].shape)
    return grid.index_put((batch["group_index"], batch["slot_index"]), logits)


def build_reward_model(config: RewardConfig, pad_token_id: int):
    """The base model as a one-output sequence classifier with a new trainable LoRA adapter."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(config.seed)
    try:
        model = AutoModelForSequenceClassification.from_pretrained(config.model_name_or_path, num_labels=1,
                                                                   dtype=torch.float32)
    except Exception as error:
        raise ModelLoadError(f"cannot load model {config.model_name_or_path!r}: {str(error).splitlines()[0]}") from None
    model.config.pad_token_id = pad_token_id
    lora = LoraConfig(task_type="SEQ_CLS", r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=config.target_modules(), bias="none")
    return get_peft_model(model, lora)


def reward_groups(config: RewardConfig, tokenizer, split: str) -> tuple[list[dict], list[dict]]:
    """(records, tokenised groups) of ``split`` that hold a valid pair."""
    records = [r for r in select_split(load_records(config.data_path), split) if has_valid_pair(r["ranks"])]
    groups = [tokenize_group(r, tokenizer, max_length=config.max_length,
                             max_prompt_length=prompt_budget(config.max_length)) for r in records]  # fmt: skip
    return records, groups


def train_steps(model, groups: list[dict], config: RewardConfig, pad_token_id: int, progress=None) -> list[dict]:
    """Plain AdamW over shuffled batches of whole groups; returns one {step, epoch, loss} per step."""
    collator = GroupCollator(pad_token_id=pad_token_id)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    order, history = list(range(len(groups))), []
    shuffler = random.Random(config.seed)
    model.train()
    for epoch in range(config.num_train_epochs):
        shuffler.shuffle(order)
        for start in range(0, len(order), config.batch_size):
            batch = collator([groups[i] for i in order[start : start + config.batch_size]])
            rewards = group_rewards(model, batch)
            loss = reward_loss(rewards, batch["ranks"].to(rewards.device), config.loss)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            history.append({"step": len(history) + 1, "epoch": epoch + 1, "loss": float(loss.detach())})
            if progress is not None:
                progress(history[-1])
    model.eval()
    return history


def reward_report(model, tokenizer, records: list[dict], config: RewardConfig) -> dict | None:
    """The model's rewards on ``records`` against the human ranks (None without records)."""
    if not records:
        return None
    scores = reward_scores(model, tokenizer, records, max_length=config.max_length, batch_size=16)
    ranks = [r["ranks"] for r in records]
    annotators = [r.get("annotator_ranks") or [] for r in records]
    lengths = [[len(x) for x in r["responses"]] for r in records]
    return {**ranking_metrics(scores, ranks), **evaluation_report({"reward": scores}, ranks, annotators, lengths),
            "n_prompts": len(records)}  # fmt: skip


def train_reward_model(config: RewardConfig, progress=None) -> dict:
    """Train, evaluate before/after on ``eval_split``, save; returns the summary written to ``reward_training.json``."""
    started = time.monotonic()
    tokenizer = load_tokenizer(config.model_name_or_path)
    train_records, train_groups = reward_groups(config, tokenizer, "train")
    if not train_groups:
        raise DataError(f"{config.data_path}: no train prompts with two responses in different tiers")
    eval_records, _ = reward_groups(config, tokenizer, config.eval_split)
    model = build_reward_model(config, tokenizer.pad_token_id).to("cuda" if torch.cuda.is_available() else "cpu")
    model.eval()
    before = reward_report(model, tokenizer, eval_records, config)
    history = train_steps(model, train_groups, config, tokenizer.pad_token_id, progress)
    after = reward_report(model, tokenizer, eval_records, config)
    summary = {
        "config": asdict(config), "n_train_prompts": len(train_records), "n_eval_prompts": len(eval_records),
        "steps": len(history), "train_loss": sum(h["loss"] for h in history) / len(history),
        "final_loss": history[-1]["loss"], "history": history, "evaluation": after, "evaluation_before": before,
        "change": scoring_changes(before, after) if before and after else None,
        "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip
    save_reward_model(model, tokenizer, config, summary)
    return summary


def save_reward_model(model, tokenizer, config: RewardConfig, summary: dict) -> None:
    """adapter/ (LoRA + score head), the merged classifier at the top (``merge``), card and summary."""
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu")
    model.save_pretrained(str(output / "adapter"))
    tokenizer.save_pretrained(str(output / "adapter"))
    if config.merge:
        model.merge_and_unload().save_pretrained(str(output))
        tokenizer.save_pretrained(str(output))
    (output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
    (output / "README.md").write_text(reward_card(config, summary), encoding="utf-8")


def reward_card(config: RewardConfig, summary: dict) -> str:
    """A short Markdown model card: what was trained on what, and how it ranks held-out prompts."""
    return f"""---
base_model: {config.model_name_or_path}
library_name: transformers
pipeline_tag: text-classification
tags: [reward-model, lora, ranked-preference, grpo-studio]
---
# Reward model trained with GRPO Studio

A one-output sequence classifier: higher score = better response to the prompt. It loads as TRL's
`RewardTrainer` saves one: `AutoModelForSequenceClassification.from_pretrained(this_folder)` (merged),
or `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base, num_labels=1),
this_folder + "/adapter")`. Score `prompt + response` as `tokenizer` gives them (the chat template
when the tokenizer has one), and read `logits[:, 0]`.

| | |
| --- | --- |
| base model | `{config.model_name_or_path}` |
| loss | `{config.loss}` over the human tiers (ties and unranked responses give no pair) |
| LoRA | r {config.lora_r}, alpha {config.lora_alpha}, dropout {config.lora_dropout}, targets `{config.lora_target_modules}`, task SEQ_CLS |
| optimisation | AdamW lr {config.learning_rate}, {config.num_train_epochs} epochs, {config.batch_size} prompts per step, seed {config.seed} |
| data | `{config.data_path}`: {summary["n_train_prompts"]} train prompts, {summary["n_eval_prompts"]} `{config.eval_split}` prompts |
| result | {summary["steps"]} steps, mean train loss {summary["train_loss"]:.4f}, last {summary["final_loss"]:.4f} |

{evaluation_section(summary)}
"""


def evaluation_section(summary: dict) -> str:
    """Held-out pairwise accuracy etc. before (untrained head) and after, with intervals and chance."""
    after, before = summary.get("evaluation"), summary.get("evaluation_before") or {}
    if not after:
        return "No held-out prompts: not evaluated."
    lines = ["## Held-out evaluation", "", "| metric | untrained head | trained [95% interval] | chance |",
             "| --- | --- | --- | --- |"]
    for name, figure in after["scorings"]["reward"]["metrics"].items():
        old = (before.get("scorings") or {}).get("reward", {}).get("metrics", {}).get(name, {}).get("value")
        lines.append(f"| {name} | {_cell(old)} | {_cell(figure['value'])} [{_cell(figure['low'])}, {_cell(figure['high'])}] "
                     f"| {_cell(after['chance'].get(name))} |")
    return "\n".join(lines)


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"

