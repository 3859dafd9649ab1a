"""Validate a job's hyperparameters with the engine's own rules (``ConfigFields.errors``, which
``RankedGRPOConfig`` inherits), all at once, without importing torch or transformers."""

from __future__ import annotations

from training.engine.config_fields import ConfigFields

from ..presets import SYSTEM_FIELDS, presets


class JobConfigError(ValueError):
    """Bad hyperparameters: ``errors`` maps a field name (or "__all__") to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))


def config_field_help() -> dict[str, dict]:
    """The engine's user-facing hyperparameters without the ones the job system sets."""
    return {name: spec for name, spec in ConfigFields.field_help().items() if name not in SYSTEM_FIELDS}


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
    config_validate(config)
    return config


def config_validate(config: dict) -> None:
    """Check ``config`` with the engine's own rules (placeholder data path); ``JobConfigError`` lists every bad field."""
    errors = ConfigFields.errors({"data_path": "(export made at launch)", **config})
    if errors:
        raise JobConfigError({name: [message] for name, message in errors.items()})
