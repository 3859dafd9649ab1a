"""GRPO Studio training engine: offline ranked-preference (Group Relative Preference Optimization)
LoRA training and evaluation. Pure Python on torch/transformers/peft/trl; never imports Django.

    from training.engine import RankedGRPOConfig, run_training, evaluate_model, make_tiny_model
"""

from .config import RankedGRPOConfig
from .data import DataError
from .evaluate import evaluate_model
from .modeling import ModelLoadError, make_tiny_model
from .trainer import RankedGRPOTrainer, TrainingCancelled, run_training

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
