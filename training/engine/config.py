"""RankedGRPOConfig: every training setting, validated, with help text per field (TRL style)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

from transformers import TrainingArguments

LOSSES = ("grpo", "orpo", "plackett-luce")
WEIGHTINGS = ("none", "linear", "quadratic", "log")
QUANTIZATIONS = ("none", "8bit", "4bit")
PREFIX_SHARING = ("auto", "on", "off")

USER_FIELDS = (
    "model_name_or_path", "data_path", "output_dir", "loss", "weighting", "beta", "margin", "quantization",
    "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "learning_rate", "num_train_epochs",
    "per_device_train_batch_size", "gradient_accumulation_steps", "max_length", "max_prompt_length",
    "activation_checkpointing", "seed", "logging_steps", "save_steps",
)  # fmt: skip


@dataclass
class RankedGRPOConfig(TrainingArguments):
    """Configuration of offline Group Relative *Preference* Optimization from ranked groups.

    Not TRL's ``GRPOConfig`` (online Group Relative *Policy* Optimization). Besides the
    ``transformers.TrainingArguments`` fields (several with other defaults, listed below):

    model_name_or_path: hub id or local folder of the base causal LM.
    data_path: exchange-format JSON/JSONL file, or a folder holding a saved datasets DatasetDict.
    loss: "grpo" (pairwise, reference-anchored), "orpo" (reference-free odds ratio + NLL) or
        "plackett-luce" (listwise).
    weighting: pair weight by rank gap: "none" | "linear" | "quadratic" | "log" (log(1 + gap)).
    beta: scale of the log-ratio difference (grpo, plackett-luce) or weight of the odds-ratio term (orpo).
    margin: subtracted inside the sigmoid: -log sigmoid(beta * (s_i - s_j) - margin).
    quantization: load the frozen base "none", "8bit" or "4bit" (nf4, double quant) via bitsandbytes.
    lora_r, lora_alpha, lora_dropout, lora_target_modules: the LoRA adapter (peft).
    max_length, max_prompt_length: token limits for prompt + response and for the prompt alone.
    ref_batch_size: groups per batch when precomputing reference log-probs (None: train batch size).
    prefix_sharing: "auto" | "on" | "off": one packed row per group, the prompt encoded once.
    max_tokens_per_batch: micro-batches filled by tokens (None: by per_device_train_batch_size prompts).
    """

    model_name_or_path: str | None = field(default=None, metadata={"help": "Hub id or local folder of the base causal language model."})
    data_path: str | None = field(default=None, metadata={"help": "Exchange-format JSON/JSONL file, or a folder with a saved datasets DatasetDict (split 'train' is used)."})
    loss: str = field(default="grpo", metadata={"help": "grpo: pairwise logistic loss on policy/reference log-ratios; orpo: reference-free odds ratio plus NLL on the top tier; plackett-luce: listwise likelihood of the tiers.", "choices": LOSSES})
    weighting: str = field(default="none", metadata={"help": "Weight of a pair by its rank gap: none (1), linear (gap), quadratic (gap^2), log (log(1 + gap)). Ignored by plackett-luce.", "choices": WEIGHTINGS})
    beta: float = field(default=0.1, metadata={"help": "Strength of the preference signal: scales the log-ratio difference (grpo, plackett-luce); for orpo, the weight of the odds-ratio term."})
    margin: float = field(default=0.0, metadata={"help": "Required reward gap: the pair loss is -log sigmoid(beta * (s_i - s_j) - margin). Ignored by plackett-luce."})
    quantization: str = field(default="none", metadata={"help": "Load the frozen base model in none, 8bit or 4bit (nf4, double quantisation; QLoRA) through bitsandbytes.", "choices": QUANTIZATIONS})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input."})
    lora_target_modules: str = field(default="all-linear", metadata={"help": "Modules that get LoRA: 'all-linear' or comma-separated module names (e.g. q_proj,v_proj)."})
    max_length: int = field(default=512, metadata={"help": "Maximum tokens of prompt + response; responses are cut at the end to fit."})
    max_prompt_length: int = field(default=256, metadata={"help": "Maximum prompt tokens; a longer prompt keeps its chat template (system prompt, role headers) and loses the middle of its content, with a warning."})
    ref_batch_size: int | None = field(default=None, metadata={"help": "Groups per batch when precomputing reference log-probs (default: the train batch size)."})
    prefix_sharing: str = field(default="auto", metadata={"help": "Encode each prompt once per group: one packed row (prompt, then every response) with a 4-D attention mask. on, off, or auto (on where the attention implementation takes a 4-D mask: sdpa, eager).", "choices": PREFIX_SHARING})
    max_tokens_per_batch: int | None = field(default=None, metadata={"help": "Fill micro-batches by tokens (padding included) instead of by prompts: groups of similar length go together, a group is never split, and a group over the budget trains alone. Replaces per_device_train_batch_size for training and the reference pass."})
    # TrainingArguments fields with defaults suited to this trainer
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak AdamW learning rate for the LoRA weights."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "Passes over the training groups."})
    per_device_train_batch_size: int = field(default=4, metadata={"help": "Prompts (whole groups of responses) per batch and device."})
    logging_steps: float = field(default=10, metadata={"help": "Log (and report progress) every this many optimizer steps."})
    save_steps: float = field(default=200, metadata={"help": "Save a resumable checkpoint every this many optimizer steps."})
    activation_checkpointing: bool | None = field(default=None, metadata={"help": "Recompute activations during the backward pass to save memory (~20% slower); off unless set. Small models do not need it."})
    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision; default: on for a CUDA GPU that supports it, off (fp32) on CPU."})
    remove_unused_columns: bool = field(default=False, metadata={"help": "Kept False: the group collator needs every column."})
    report_to: str | list[str] | None = field(default="none", metadata={"help": "Integrations to report to (none by default)."})
    ddp_find_unused_parameters: bool | None = field(default=False, metadata={"help": "Every LoRA weight is used each step, so DDP need not search for unused ones."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Keep at most this many checkpoints."})

    def __post_init__(self):
        self._validate()
        if self.bf16 is None:
            self.bf16 = _cuda_bf16_available() and not self.use_cpu
        if not _cuda_available():
            self.dataloader_pin_memory = False
        super().__post_init__()

    def _validate(self) -> None:
        checks = [
            ("model_name_or_path", bool(self.model_name_or_path), "required"),
            ("data_path", bool(self.data_path), "required"),
            ("loss", self.loss in LOSSES, f"must be one of {', '.join(LOSSES)}"),
            ("weighting", self.weighting in WEIGHTINGS, f"must be one of {', '.join(WEIGHTINGS)}"),
            ("quantization", self.quantization in QUANTIZATIONS, f"must be one of {', '.join(QUANTIZATIONS)}"),
            ("beta", _number(self.beta) and self.beta > 0, "must be > 0"),
            ("margin", _number(self.margin) and self.margin >= 0, "must be >= 0"),
            ("learning_rate", _number(self.learning_rate) and self.learning_rate > 0, "must be > 0"),
            ("num_train_epochs", _number(self.num_train_epochs) and self.num_train_epochs > 0, "must be > 0"),
            ("lora_r", _integer(self.lora_r) and self.lora_r >= 1, "must be an integer >= 1"),
            ("lora_alpha", _number(self.lora_alpha) and self.lora_alpha > 0, "must be > 0"),
            ("lora_dropout", _number(self.lora_dropout) and 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("lora_target_modules", bool(str(self.lora_target_modules).strip()), "must not be empty"),
            ("per_device_train_batch_size", _integer(self.per_device_train_batch_size) and self.per_device_train_batch_size >= 1, "must be an integer >= 1"),
            ("max_prompt_length", _integer(self.max_prompt_length) and self.max_prompt_length >= 1, "must be an integer >= 1"),
            ("max_length", _integer(self.max_length) and _integer(self.max_prompt_length) and self.max_length > self.max_prompt_length, "must be an integer > max_prompt_length"),
            ("prefix_sharing", self.prefix_sharing in PREFIX_SHARING, f"must be one of {', '.join(PREFIX_SHARING)}"),
            ("max_tokens_per_batch", self.max_tokens_per_batch is None or (_integer(self.max_tokens_per_batch) and self.max_tokens_per_batch >= 1), "must be an integer >= 1"),
            ("ref_batch_size", self.ref_batch_size is None or (_integer(self.ref_batch_size) and self.ref_batch_size >= 1), "must be an integer >= 1"),
        ]  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name}: {rule} (got {getattr(self, name)!r})")

    @property
    def target_modules(self) -> str | list[str]:
        """lora_target_modules as peft expects it."""
        value = str(self.lora_target_modules).strip()
        return value if value == "all-linear" else [m.strip() for m in value.split(",") if m.strip()]

    @classmethod
    def field_help(cls) -> dict[str, dict]:
        """The user-facing hyperparameters: {name: {"help", "default", "type", "choices"?}}."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        described = {}
        for name in USER_FIELDS:
            f = fields[name]
            entry = {"help": f.metadata.get("help", ""), "default": _jsonable(f.default), "type": _type_name(f.type)}
            if "choices" in f.metadata:
                entry["choices"] = list(f.metadata["choices"])
            described[name] = entry
        return described

    def to_json_dict(self) -> dict:
        """Every init field as JSON-serialisable values; ``from_json_dict`` rebuilds an equal config."""
        values = self.to_dict()  # TrainingArguments' own serialisation (enums, accelerator config, tokens)
        return {f.name: _jsonable(values[f.name]) for f in dataclasses.fields(self) if f.init and f.name in values}

    @classmethod
    def from_json_dict(cls, data: dict) -> RankedGRPOConfig:
        """Inverse of ``to_json_dict``; unknown keys (from another version) are ignored."""
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{key: value for key, value in data.items() if key in names})


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


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _cuda_bf16_available() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
