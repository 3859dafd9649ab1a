"""GRPO Studio training engine: offline ranked-preference (Group Relative Preference Optimization)
LoRA training and evaluation. Pure Python on torch/transformers/peft/trl; never imports Django.

    from training.engine import RankedGRPOConfig, run_training, evaluate_model, make_tiny_model

The public names are loaded on first use (PEP 562), so importing a light submodule such as
``training.engine.metrics`` (numpy only) does not pull in torch and transformers.
"""

import importlib
import logging

# bitsandbytes' CPU backend logs a warning on import about an optional hub-downloaded kernel; offline it is noise.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

_PUBLIC = {
    "DataError": ".records",
    "ModelLoadError": ".modeling",
    "RankedGRPOConfig": ".config",
    "RankedGRPOTrainer": ".trainer",
    "RunSession": ".session",
    "TrainingCancelled": ".trainer",
    "evaluate_model": ".evaluate",
    "make_tiny_model": ".modeling",
    "run_training": ".trainer",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
