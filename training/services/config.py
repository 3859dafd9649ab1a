"""Validate a job's hyperparameters with the engine's own config class, field by field."""

from __future__ import annotations

import re
import tempfile

from ..presets import SYSTEM_FIELDS, presets


class JobConfigError(ValueError):
    """Bad hyperparameters: ``errors`` maps a field name (or "__all__") to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))


def config_field_help() -> dict[str, dict]:
    """The engine's user-facing hyperparameters without the ones the job system sets."""
    from training.engine import RankedGRPOConfig

    return {name: spec for name, spec in RankedGRPOConfig.field_help().items() if name not in SYSTEM_FIELDS}


def config_build(*, values: dict, preset: str = "") -> dict:
    """Engine defaults, overlaid with the preset, overlaid with ``values``; validated by the engine.

    Returns every user-facing field with its value; raises ``JobConfigError`` naming the fields.
    """
    fields = config_field_help()
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise JobConfigError({name: ["unknown hyperparameter"] for name in unknown})
    if preset and preset not in presets():
        raise JobConfigError({"preset": [f"unknown preset {preset!r}; choose one of {', '.join(presets())}"]})
    base = {name: spec["default"] for name, spec in fields.items()}
    if preset:
        base.update({k: v for k, v in presets()[preset]["config"].items() if k in fields})
    config = {**base, **values}
    config_validate(config, fallback=base)
    return config


def config_validate(config: dict, fallback: dict | None = None) -> None:
    """Build a ``RankedGRPOConfig`` from ``config`` (placeholder paths); raise ``JobConfigError`` if it refuses.

    The engine stops at the first bad field; to report every bad field at once, each one found is
    swapped for its ``fallback`` (default) value and the config is checked again.
    """
    from training.engine import RankedGRPOConfig

    fallback = fallback or {}
    trial, errors = dict(config), {}
    with tempfile.TemporaryDirectory(prefix="grpo-config-") as scratch:
        for _ in range(len(config) + 1):
            try:
                RankedGRPOConfig(output_dir=scratch, data_path="(export made at launch)", **trial)
                break
            except (ValueError, TypeError) as exc:
                found = _field_errors(str(exc), set(trial))
                errors.update(found)
                name = next(iter(found))
                if name == "__all__" or name not in fallback or trial[name] == fallback[name]:
                    break
                trial[name] = fallback[name]
    if errors:
        raise JobConfigError(errors)


def _field_errors(message: str, fields: set[str]) -> dict[str, list[str]]:
    # the engine says "field: reason"; transformers says "--field must ..." or "... `field` ..."
    match = re.match(r"^-{0,2}([a-z_]+)[: ]\s*(.*)$", message.strip(), re.S)
    if match and match.group(1) in fields:
        return {match.group(1): [match.group(2).strip() or message]}
    for name in sorted(fields, key=len, reverse=True):
        if re.search(rf"\b{name}\b", message):
            return {name: [message]}
    return {"__all__": [message]}
