"""GRPO Studio training engine: offline ranked-preference (Group Relative Preference Optimization)
LoRA training and evaluation. Pure Python on torch/transformers/peft/trl; never imports Django.

    from training.engine import RankedGRPOConfig, run_training, evaluate_model, make_tiny_model
"""

import logging

# bitsandbytes' CPU backend logs a warning on import about an optional hub-downloaded kernel; offline it is noise.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

from .config import RankedGRPOConfig  # noqa: E402
from .data import DataError  # noqa: E402
from .evaluate import evaluate_model  # noqa: E402
from .modeling import ModelLoadError, make_tiny_model  # noqa: E402
from .trainer import RankedGRPOTrainer, TrainingCancelled, run_training  # noqa: E402

__all__ = [
    "DataError",
    "ModelLoadError",
    "RankedGRPOConfig",
    "RankedGRPOTrainer",
    "TrainingCancelled",
    "evaluate_model",
    "make_tiny_model",
    "run_training",
]
