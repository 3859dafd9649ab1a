"""The engine's user-facing training settings without torch: each field with its default and help,
and every field's rule (``CHECKS``), so the web validates with the engine's own rules in a process
that never imports torch or transformers.

``ConfigFields`` is a plain dataclass; ``training.engine.config.RankedGRPOConfig`` inherits it (with
``transformers.TrainingArguments``), so the fields and their rules live here once.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .metrics import METRICS

LOSSES = ("grpo", "orpo", "plackett-luce")
GAP_WEIGHTINGS = ("none", "linear", "quadratic", "log")  # weights of a pair by its rank gap (the web side's too)
WEIGHTINGS = (*GAP_WEIGHTINGS, "lambda")  # lambda: LiPO-lambda, from the current rewards (training only)
NORMALIZATIONS = ("group", "pair")
TIES = ("ignore", "davidson")
PAIR_TARGETS = ("consensus", "annotators")
QUANTIZATIONS = ("none", "8bit", "4bit")
PREFIX_SHARING = ("auto", "on", "off")
ATTN_IMPLEMENTATIONS = ("sdpa", "flash_attention_2", "eager")
DEFAULT_PROMPT_BUDGET = 256  # prompt tokens when max_prompt_length is not given (or half of max_length if smaller)

USER_FIELDS = (
    "model_name_or_path", "data_path", "output_dir", "loss", "weighting", "beta", "margin", "normalize", "ties",
    "tie_strength", "pair_targets", "length_normalize", "quantization",
    "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "learning_rate", "warmup_steps", "num_train_epochs",
    "per_device_train_batch_size", "gradient_accumulation_steps", "max_length", "max_prompt_length",
    "activation_checkpointing", "attn_implementation", "prefix_sharing", "max_tokens_per_batch", "seed", "logging_steps", "save_steps", "eval_steps", "kl_samples", "kl_warning",
    "primary_metric", "validation_fraction", "load_best", "patience",
)  # fmt: skip


# Defaults of the ``transformers.TrainingArguments`` fields a check reads that ``ConfigFields`` does not
# declare (held equal to transformers' by tests/engine/test_config_fields.py).
TRAINING_ARGUMENT_DEFAULTS = {"max_steps": -1, "weight_decay": 0.0, "max_grad_norm": 1.0, "dataloader_drop_last": False}


@dataclass
class ConfigFields:
    """Configuration of offline Group Relative *Preference* Optimization from ranked groups.

    Not TRL's ``GRPOConfig`` (online Group Relative *Policy* Optimization). Besides the
    ``transformers.TrainingArguments`` fields (several with other defaults, listed below):

    model_name_or_path: hub id or local folder of the base causal LM.
    data_path: exchange-format JSON/JSONL file, or a folder holding a saved datasets DatasetDict.
    loss: "grpo" (pairwise, reference-anchored), "orpo" (reference-free odds ratio + NLL) or
        "plackett-luce" (listwise).
    weighting: pair weight by rank gap: "none" | "linear" | "quadratic" | "log" (log(1 + gap)), or
        "lambda" (LiPO-lambda: gain difference times rank-discount difference under the current rewards).
    beta: scale of the log-ratio difference (grpo, plackett-luce) or weight of the odds-ratio term (orpo).
    margin: subtracted inside the sigmoid: -log sigmoid(beta * (s_i - s_j) - margin).
    normalize: "group" (each prompt's weighted mean pair loss, averaged over prompts) or "pair" (batch-wide).
    ties: "ignore" or "davidson" (Davidson model: tied pairs are trained towards equal rewards);
        tie_strength is its nu.
    pair_targets: "consensus" or "annotators" (soft pair targets from every annotator's ranking).
    length_normalize: SimPO-style: rewards from the mean instead of the sum of token log-ratios.
    quantization: load the frozen base "none", "8bit" or "4bit" (nf4, double quant) via bitsandbytes.
    lora_r, lora_alpha, lora_dropout, lora_target_modules: the LoRA adapter (peft).
    max_length, max_prompt_length: token limits for prompt + response and for the prompt alone (the
        prompt budget follows max_length when not given: ``prompt_budget``).
    ref_batch_size: groups per batch when precomputing reference log-probs (None: train batch size).
    prefix_sharing: "auto" | "on" | "off": one packed row per group, the prompt encoded once.
    max_tokens_per_batch: micro-batches filled by tokens (None: by per_device_train_batch_size prompts).
    attn_implementation: "sdpa" (default), "flash_attention_2" (needs the flash-attn package) or "eager".
    validation_fraction: share of the training prompts held out for validation when the data has no
        ``split: "validation"`` records (by a hash of the prompt id; 0: no validation).
    load_best: keep the adapter of the evaluation with the lowest validation loss, not the last step's.
    patience: stop after this many validation evaluations without a lower loss (None: never stop early).

    Every field's rule is one entry of the module's ``CHECKS`` table; ``errors(values)`` reports all
    broken rules at once and ``__post_init__`` raises ``ConfigError`` listing them.
    """

    model_name_or_path: str | None = field(default=None, metadata={"help": "Hub id or local folder of the base causal language model."})
    data_path: str | None = field(default=None, metadata={"help": "Exchange-format JSON/JSONL file, or a folder with a saved datasets DatasetDict (split 'train' is used)."})
    loss: str = field(default="grpo", metadata={"help": "grpo: pairwise logistic loss on policy/reference log-ratios; orpo: reference-free odds ratio plus NLL on the top tier; plackett-luce: listwise likelihood of the tiers.", "choices": LOSSES})
    weighting: str = field(default="none", metadata={"help": "Weight of a pair by its rank gap: none (1), linear (gap), quadratic (gap^2), log (log(1 + gap)). Ignored by plackett-luce.", "choices": WEIGHTINGS})
    beta: float = field(default=0.1, metadata={"help": "Strength of the preference signal: scales the log-ratio difference (grpo, plackett-luce); for orpo, the weight of the odds-ratio term."})
    margin: float = field(default=0.0, metadata={"help": "Required reward gap: the pair loss is -log sigmoid(beta * (s_i - s_j) - margin). Ignored by plackett-luce."})
    normalize: str = field(default="group", metadata={"help": "group: each prompt's weighted mean pair loss, averaged over the prompts of the batch (every prompt counts the same); pair: one weighted mean over every pair of the batch (prompts with more responses weigh more).", "choices": NORMALIZATIONS})
    ties: str = field(default="ignore", metadata={"help": "ignore: tied responses give no pair; davidson: Davidson's tie model, tied pairs pull their rewards together (grpo only).", "choices": TIES})
    tie_strength: float = field(default=1.0, metadata={"help": "Davidson's nu, a positive number: how likely ties are under the model (ties=davidson only)."})
    pair_targets: str = field(default="consensus", metadata={"help": "consensus: learn the consensus ranking; annotators: soft pair targets, the share of annotators who put one response above the other (ties count half); for projects with several annotators per prompt (grpo only, weighting none, margin 0).", "choices": PAIR_TARGETS})
    length_normalize: bool = field(default=False, metadata={"help": "SimPO-style: rewards from the mean instead of the sum of token log-ratios, so long responses gain no edge (grpo only)."})
    quantization: str = field(default="none", metadata={"help": "Load the frozen base model in none, 8bit or 4bit (nf4, double quantisation; QLoRA) through bitsandbytes.", "choices": QUANTIZATIONS})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input."})
    lora_target_modules: str = field(default="all-linear", metadata={"help": "Modules that get LoRA: 'all-linear' or comma-separated module names (e.g. q_proj,v_proj)."})
    max_length: int = field(default=512, metadata={"help": "Maximum tokens of prompt + response; responses are cut at the end to fit."})
    max_prompt_length: int | None = field(default=None, metadata={"help": f"Maximum prompt tokens; a longer prompt keeps its chat template (system prompt, role headers) and loses the middle of its content, with a warning. Default: {DEFAULT_PROMPT_BUDGET}, or half of max_length when that is smaller."})
    ref_batch_size: int | None = field(default=None, metadata={"help": "Groups per batch when precomputing reference log-probs (default: the train batch size)."})
    prefix_sharing: str = field(default="auto", metadata={"help": "Encode each prompt once per group: one packed row (prompt, then every response) with a 4-D attention mask. on, off, or auto (on with sdpa or eager attention when a FLOP estimate says packing pays off).", "choices": PREFIX_SHARING})
    max_tokens_per_batch: int | None = field(default=None, metadata={"help": "Fill micro-batches by tokens (padding included) instead of by prompts: groups of similar length go together, a group is never split, and a group over the budget trains alone. Replaces per_device_train_batch_size for training and the reference pass; gradient_accumulation_steps then counts these micro-batches, and a step's loss stays the mean over all its prompts however they were packed (except lambda weighting with pair normalisation). Empty: batches of per_device_train_batch_size prompts."})
    attn_implementation: str = field(default="sdpa", metadata={"help": "Attention kernel: sdpa (PyTorch's scaled dot-product attention), flash_attention_2 (needs the flash-attn package and a GPU) or eager.", "choices": ATTN_IMPLEMENTATIONS})
    validation_fraction: float = field(default=0.1, metadata={"help": "Share of the training prompts held out as the validation split (chosen by a hash of the prompt id; prompts with the same text stay together) when the data has no split 'validation'. 0: no validation, the last step's adapter is kept."})
    load_best: bool = field(default=True, metadata={"help": "Keep the adapter of the validation evaluation with the lowest loss instead of the last step's (validation every eval_steps)."})
    patience: int | None = field(default=None, metadata={"help": "Early stopping: stop after this many validation evaluations in a row without a lower validation loss. Empty: train to the end."})
    # TrainingArguments fields with defaults suited to this trainer
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak AdamW learning rate for the LoRA weights."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "Passes over the training groups."})
    per_device_train_batch_size: int = field(default=4, metadata={"help": "Prompts (whole groups of responses) per batch and device."})
    logging_steps: float = field(default=10, metadata={"help": "Log (and report progress) every this many optimizer steps."})
    save_steps: float = field(default=200, metadata={"help": "Save a resumable checkpoint every this many optimizer steps."})
    eval_steps: float | None = field(default=None, metadata={"help": "Validation loss and accuracy, and the KL divergence from the reference, every this many optimizer steps (a fraction of the run if below 1; default: 4 times per run, and at the last step)."})
    kl_samples: int = field(default=8, metadata={"help": "Completions of held-out prompts sampled from the policy for each KL estimate (0: no KL estimate)."})
    kl_warning: float = field(default=10.0, metadata={"help": "The job page flags the run when a KL estimate (nats per completion) exceeds this."})
    primary_metric: str = field(default="pairwise_accuracy", metadata={"help": "The evaluation's pre-declared verdict: tuned vs base on this metric over the held-out prompts (docs/training.md, \"The verdict\").", "choices": METRICS})
    activation_checkpointing: bool | None = field(default=None, metadata={"help": "Recompute activations during the backward pass to save memory (~20% slower); off unless set. Small models do not need it."})
    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision; default: on for a CUDA GPU that supports it, off (fp32) on CPU."})
    remove_unused_columns: bool = field(default=False, metadata={"help": "Kept False: the group collator needs every column."})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Integrations to report to (none by default)."})
    ddp_find_unused_parameters: bool | None = field(default=False, metadata={"help": "Every LoRA weight is used each step, so DDP need not search for unused ones."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Keep at most this many checkpoints."})
    # TrainingArguments fields the job form shows, declared here (transformers' defaults and help) so the web can list them
    output_dir: str | None = field(default=None, metadata={"help": "The output directory where the model predictions and checkpoints will be written."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Number of update steps to accumulate gradients before performing a backward/update pass. Effective batch size = per_device_train_batch_size * num_devices * gradient_accumulation_steps."})
    warmup_steps: float = field(default=0, metadata={"help": "Number of steps for a linear warmup from 0 to `learning_rate`. Can be an integer (exact steps) or a float in [0, 1) (ratio of total steps)."})
    seed: int = field(default=42, metadata={"help": "Random seed that will be set at the beginning of training."})

    @classmethod
    def errors(cls, values: dict) -> dict[str, str]:
        """Every broken rule of ``values`` (missing fields take their defaults) at once: {field: message}."""
        known = {f.name: f for f in dataclasses.fields(cls) if f.init}
        found = {name: "unknown setting" for name in values if name not in known and name not in TRAINING_ARGUMENT_DEFAULTS}
        merged = {**TRAINING_ARGUMENT_DEFAULTS, **{name: _default(f) for name, f in known.items()}, **values}
        for name, check in CHECKS.items():
            value = merged.get(name)
            try:
                rule = check(value, merged)
            except (TypeError, ValueError, OverflowError):
                rule = "has the wrong type"
            if rule:
                found[name] = f"{rule} (got {_short_repr(value)})"
        return found

    @classmethod
    def field_help(cls) -> dict[str, dict]:
        """The user-facing hyperparameters: {name: {"help", "default", "type", "choices"?, "bounds"?}}."""
        fields, ranges = {f.name: f for f in dataclasses.fields(cls)}, bounds()
        described = {}
        for name in USER_FIELDS:
            f = fields[name]
            entry = {"help": f.metadata.get("help", ""), "default": _jsonable(f.default), "type": _type_name(f.type)}
            if "choices" in f.metadata:
                entry["choices"] = list(f.metadata["choices"])
            if name in ranges:
                entry["bounds"] = str(ranges[name])
            described[name] = entry
        return described


STEP_FIELDS = ("per_device_train_batch_size", "gradient_accumulation_steps", "num_train_epochs", "max_steps",
               "dataloader_drop_last", "max_tokens_per_batch")


def field_defaults() -> dict:
    """Every field's default: the checked ``TrainingArguments`` ones, then ``ConfigFields``'."""
    return {**TRAINING_ARGUMENT_DEFAULTS, **{f.name: _default(f) for f in dataclasses.fields(ConfigFields)}}


def optimizer_steps(values: dict, n_groups: int, world_size: int = 1, micro_batches: int | None = None) -> int:
    """Optimizer steps of a run on ``n_groups`` train groups, counted as the transformers Trainer does;
    ``values`` holds valid settings (missing ones take the config's defaults).

    ``micro_batches``: the micro-batches of one epoch over all processes, when known (under a token
    budget, ``len(batching.token_budget_batches(...))``, which needs the tokenised groups). Without
    it they are counted from ``per_device_train_batch_size``; under ``max_tokens_per_batch`` they are
    taken at their fewest, one (a token budget drops no group, and every process gets a micro-batch),
    so the count is a lower bound that is 0 only without groups: it never refuses a run that trains.
    """
    v = {name: field_defaults()[name] for name in STEP_FIELDS} | dict(values)
    if micro_batches is None and v["max_tokens_per_batch"]:
        micro_batches = min(n_groups, 1)
    if micro_batches is not None:  # accelerate's BatchSamplerShard: every process gets ceil(M / world size)
        batches = math.ceil(micro_batches / max(1, world_size))
    else:
        per_process = math.ceil(n_groups / max(1, world_size))
        batch = v["per_device_train_batch_size"]
        batches = per_process // batch if v["dataloader_drop_last"] else math.ceil(per_process / batch)
    if batches == 0:
        return 0
    if v["max_steps"] > 0:
        return v["max_steps"]
    return math.ceil(v["num_train_epochs"] * max(math.ceil(batches / v["gradient_accumulation_steps"]), 1))


def no_steps_message(n_groups: int, batch_size: int, world_size: int = 1) -> str:
    return (f"{n_groups} train group(s) give 0 optimizer steps (per_device_train_batch_size {batch_size} x "
            f"{world_size} process(es), last partial batch dropped); lower the batch size or add data")


class ConfigError(ValueError):
    """Bad settings: ``errors`` maps each field to its broken rule; the message lists them all."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {rule}" for name, rule in errors.items()))


def prompt_budget(max_length: int, max_prompt_length: int | None = None) -> int:
    """The prompt token limit: ``max_prompt_length`` if given, else the default budget or half of max_length."""
    if max_prompt_length is not None:
        return max_prompt_length
    return max(1, min(DEFAULT_PROMPT_BUDGET, max_length // 2))


# A check gets (value, every value) and returns the broken rule, or None when the value is fine.
# A numeric setting's check carries its documented range as ``check.bounds`` (``bounds()`` lists them).
Check = Callable[[Any, dict], "str | None"]


@dataclass(frozen=True)
class Bounds:
    """A numeric setting's range: [low, high], an open end where ``low_open``/``high_open``; finite always."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    note: str = ""  # what the range leaves out: "or -1", "or a fraction in (0, 1) of the run", ...

    def holds(self, value) -> bool:
        if not (_integer(value) if self.integer else _number(value)) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        ends = f"{'(' if self.low_open else '['}{_fmt(self.low)}, {_fmt(self.high)}{')' if self.high_open else ']'}"
        return f"{'an integer' if self.integer else 'a number'} in {ends}{' ' + self.note if self.note else ''}"


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e16 else f"{number:g}"


def _rule(ok: Callable[[Any], bool], text: str, optional: bool = False, bounds: Bounds | None = None) -> Check:
    def check(value, values: dict) -> str | None:
        return None if (optional and value is None) or ok(value) else text

    check.bounds = bounds
    return check


def _integer_in(low: int, high: int, optional: bool = False) -> Check:
    bounds = Bounds(low, high, integer=True)
    return _rule(bounds.holds, f"must be {bounds}", optional, bounds)


def _number_in(low: float, high: float, *, above_low: bool = False, below_high: bool = False) -> Check:
    bounds = Bounds(low, high, low_open=above_low, high_open=below_high)
    return _rule(bounds.holds, f"must be {bounds}", bounds=bounds)


def bounds() -> dict[str, Bounds]:
    """The documented range of every numeric setting, from ``CHECKS``: {field: Bounds}."""
    return {name: check.bounds for name, check in CHECKS.items() if getattr(check, "bounds", None) is not None}


def _one_of(choices: tuple[str, ...]) -> Check:
    return _rule(lambda v: v in choices, f"must be one of {', '.join(choices)}")


def _steps(value) -> bool:  # an integer count of steps, or (as transformers allows) a fraction of the run
    whole = _integer(value) or (_number(value) and math.isfinite(value) and float(value).is_integer())
    return (whole and 1 <= value <= 10**9) or (_number(value) and 0 < value < 1)


STEPS = Bounds(1, 10**9, integer=True, note="or a fraction in (0, 1) of the run")
MAX_STEPS = Bounds(1, 10**9, integer=True, note="or -1 (use num_train_epochs)")
WARMUP = Bounds(0, 10**9, note="(whole steps, or a fraction below 1 of the run)")


def _max_length(value, values: dict) -> str | None:
    budget = prompt_budget(value, values.get("max_prompt_length")) if _integer(value) else None
    if _integer(value) and value <= 2**20 and _integer(budget) and value > budget:
        return None
    return f"must be {_max_length.bounds} ({budget!r})"


_max_length.bounds = Bounds(2, 2**20, integer=True, note="above max_prompt_length")


def _text(value) -> bool:  # a non-empty line of printable text that any database stores
    return (isinstance(value, str) and bool(value.strip()) and len(value) <= 1000
            and not any(unicodedata.category(c) in ("Cc", "Cs") for c in value))


def _required_text(value, values: dict) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "required"
    return None if _text(value) else "must be one line of text without control characters, at most 1000 characters"


def _grpo_only(default, choices: tuple[str, ...] | None, text: str) -> Check:
    """A choice (or, without ``choices``, a flag) whose values other than ``default`` need the grpo loss."""

    def check(value, values: dict) -> str | None:
        if choices is not None and value not in choices:
            return f"must be one of {', '.join(choices)}"
        if choices is None and not isinstance(value, bool):
            return "must be true or false"
        return text if value != default and values.get("loss") != "grpo" else None

    return check


def _pair_targets(value, values: dict) -> str | None:
    if value not in PAIR_TARGETS:
        return f"must be one of {', '.join(PAIR_TARGETS)}"
    if value == "annotators" and not (values.get("loss") == "grpo" and values.get("ties") == "ignore"):
        return "annotators needs loss grpo and ties ignore"
    if value == "annotators" and (values.get("weighting") != "none" or values.get("margin") != 0):
        return "annotators (soft targets) needs weighting none and margin 0: soft targets weigh every pair the same"
    return None


def _warmup(value) -> bool:  # steps, or (as transformers allows) a fraction of the run below 1
    return _number(value) and math.isfinite(value) and 0 <= value <= 10**9 and (value < 1 or float(value).is_integer())


_TEXT = _required_text
_FLAG = _rule(lambda v: isinstance(v, bool), "must be true, false or empty", optional=True)

CHECKS: dict[str, Check] = {
    "model_name_or_path": _TEXT,
    "data_path": _TEXT,
    "output_dir": _rule(lambda v: isinstance(v, (str, os.PathLike)) and bool(str(v).strip()), "must be a folder path",
                        optional=True),
    "loss": _one_of(LOSSES),
    "weighting": _one_of(WEIGHTINGS),
    "quantization": _one_of(QUANTIZATIONS),
    "beta": _number_in(0, 100, above_low=True),
    "margin": _number_in(0, 100),
    "lora_r": _integer_in(1, 4096),
    "lora_alpha": _number_in(1, 4096),
    "lora_dropout": _number_in(0, 1, below_high=True),
    "lora_target_modules": _rule(_text, "must not be empty: 'all-linear' or comma-separated module names"),
    "learning_rate": _number_in(0, 1, above_low=True),
    "num_train_epochs": _number_in(0, 1000, above_low=True),
    "max_steps": _rule(lambda v: _integer(v) and (v == -1 or 1 <= v <= 10**9), f"must be {MAX_STEPS}", bounds=MAX_STEPS),
    "per_device_train_batch_size": _integer_in(1, 65536),
    "gradient_accumulation_steps": _integer_in(1, 65536),
    "max_prompt_length": _integer_in(1, 2**20, optional=True),
    "max_length": _max_length,
    "ref_batch_size": _integer_in(1, 65536, optional=True),
    "prefix_sharing": _one_of(PREFIX_SHARING),
    "max_tokens_per_batch": _integer_in(1, 2**30, optional=True),
    "activation_checkpointing": _FLAG,
    "attn_implementation": _one_of(ATTN_IMPLEMENTATIONS),
    "validation_fraction": _number_in(0, 0.5),
    "load_best": _rule(lambda v: isinstance(v, bool), "must be true or false"),
    "patience": _integer_in(1, 10**6, optional=True),
    "bf16": _FLAG,
    "seed": _integer_in(0, 2**32 - 1),
    "logging_steps": _rule(_steps, f"must be {STEPS}", bounds=STEPS),
    "save_steps": _rule(_steps, f"must be {STEPS}", bounds=STEPS),
    "save_total_limit": _integer_in(1, 1000, optional=True),
    "weight_decay": _number_in(0, 10),
    "max_grad_norm": _number_in(0, 10**6),
    "warmup_steps": _rule(_warmup, f"must be {WARMUP}", bounds=WARMUP),
    "normalize": _one_of(NORMALIZATIONS),
    "ties": _grpo_only("ignore", TIES, "davidson needs loss grpo"),
    "tie_strength": _number_in(0, 100, above_low=True),
    "pair_targets": _pair_targets,
    "length_normalize": _grpo_only(False, None, "needs loss grpo"),
    "eval_steps": _rule(_steps, f"must be {STEPS}", optional=True, bounds=STEPS),
    "kl_samples": _integer_in(0, 4096),
    "kl_warning": _number_in(0, 10**6, above_low=True),
    "primary_metric": _one_of(METRICS),
}  # fmt: skip


def _default(f: dataclasses.Field):
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except RecursionError:
        return f"a {type(value).__name__} nested too deep"
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _jsonable(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _type_name(annotation) -> str:
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
