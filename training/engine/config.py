"""RankedGRPOConfig: every training setting, validated, with help text per field (TRL style).

The user-facing fields, their help and their rules (``CHECKS``) are ``config_fields.ConfigFields``
(no torch: the web validates with them); this class adds ``transformers.TrainingArguments``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from transformers import TrainingArguments

from .config_fields import (
    CHECKS,
    STEP_FIELDS,
    ConfigError,
    ConfigFields,
    _jsonable,
    no_steps_message,
    optimizer_steps,
    prompt_budget,
)


@dataclass
class RankedGRPOConfig(ConfigFields, TrainingArguments):
    """Configuration of offline Group Relative *Preference* Optimization from ranked groups: the fields
    of ``ConfigFields`` (documented there) on top of ``transformers.TrainingArguments``."""

    def __post_init__(self):
        errors = self.errors({name: getattr(self, name) for name in CHECKS})
        if errors:
            raise ConfigError(errors)
        if self.max_prompt_length is None:
            self.max_prompt_length = prompt_budget(self.max_length)
        if self.bf16 is None:
            self.bf16 = _cuda_bf16_available() and not self.use_cpu
        if not _cuda_available():
            self.dataloader_pin_memory = False
        super().__post_init__()

    def optimizer_steps(self, n_groups: int, world_size: int = 1, micro_batches: int | None = None) -> int:
        """Optimizer steps a run on ``n_groups`` train groups takes (``optimizer_steps`` on this config)."""
        values = {name: getattr(self, name) for name in STEP_FIELDS}
        return optimizer_steps(values, n_groups, world_size, micro_batches)

    def require_steps(self, n_groups: int, world_size: int = 1, micro_batches: int | None = None) -> int:
        """``optimizer_steps``, or a ``ValueError`` saying why the run would train nothing."""
        steps = self.optimizer_steps(n_groups, world_size, micro_batches)
        if steps < 1:
            raise ValueError(no_steps_message(n_groups, self.per_device_train_batch_size, world_size))
        return steps

    @property
    def target_modules(self) -> str | list[str]:
        """lora_target_modules as peft expects it."""
        value = str(self.lora_target_modules).strip()
        return value if value == "all-linear" else [m.strip() for m in value.split(",") if m.strip()]

    def to_json_dict(self) -> dict:
        """Every init field as JSON-serialisable values; ``from_json_dict`` rebuilds an equal config."""
        values = self.to_dict()  # TrainingArguments' own serialisation (enums, accelerator config, tokens)
        return {f.name: _jsonable(values[f.name]) for f in dataclasses.fields(self) if f.init and f.name in values}

    @classmethod
    def from_json_dict(cls, data: dict) -> RankedGRPOConfig:
        """Inverse of ``to_json_dict``; unknown keys (from another version) are ignored."""
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{key: value for key, value in data.items() if key in names})


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _cuda_bf16_available() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
