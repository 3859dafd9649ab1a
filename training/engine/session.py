"""A training run and its held-out evaluations in one process: the data parsed once, the base model loaded once.

``python -m training.engine train --evaluate_base_output URL --evaluate_output URL`` (what a job's launcher
runs, training/launchers/commands.py) goes through ``RunSession``: the export is read and hashed once
(``data.read_ranked_data``), the tokenizer and base model loaded once (``trainer.RunInputs``); the base
model is scored on the test split, gets its LoRA adapter in place, computes the reference log-probs and
trains; the trained model (the kept adapter, in memory) is scored again with its adapter on and off.
Scoring follows the run's config: its ``max_length``, ``max_prompt_length``, ``quantization``, ``beta``
and precision (``bf16``), and the verdict on its ``primary_metric`` under the scoring its loss trains.
"""

from __future__ import annotations

import torch

from .card import card_add_evaluation
from .config import RankedGRPOConfig
from .evaluate import evaluate_loaded, held_out_records, scoring_settings, verdict_settings
from .trainer import RunInputs, TrainingCancelled, run_training
from .verdict import verdict_scoring

EVALUATION_SPLIT = "test"


class RunSession:
    def __init__(self, config: RankedGRPOConfig, *, batch_size: int | None = None):
        self.config = config
        self.inputs = RunInputs.read(config)
        self.device = "cuda" if torch.cuda.is_available() else None
        self.batch_size = batch_size or config.per_device_train_batch_size
        self.declared = verdict_settings(None, config.primary_metric,
                                         verdict_scoring(config.loss, config.length_normalize))
        self.settings = scoring_settings(None, max_length=config.max_length, beta=config.beta,
                                         max_prompt_length=config.max_prompt_length, quantization=config.quantization,
                                         dtype="bfloat16" if config.bf16 else "float32", device=self.device or "cpu")

    @property
    def records(self) -> list[dict]:
        return self.inputs.data.records

    def evaluate_base(self) -> dict:
        """The base model's held-out report (``evaluate.evaluate_model`` without an adapter), before training."""
        model = self.inputs.base_model(self.config, device=self.device)
        return self._evaluate(model, with_adapter=False, adapter_dir=None)

    def train(self, *, progress=None, should_stop=None, resume: bool = False) -> dict:
        """``trainer.run_training`` on the data and model this session holds."""
        self.stop_if_asked(should_stop, 0)  # asked during the base evaluation: no step taken
        return run_training(self.config, progress=progress, should_stop=should_stop, resume=resume,
                            inputs=self.inputs)

    def evaluate_tuned(self, adapter_dir: str) -> dict:
        """The trained model's held-out report with its base scores (adapter off), added to the model card
        in ``adapter_dir``; the same report ``evaluate --adapter adapter_dir`` gives."""
        if self.inputs.adapted is None:
            raise RuntimeError("evaluate_tuned: this session has not trained a model")
        result = self._evaluate(self.inputs.adapted, with_adapter=True, adapter_dir=adapter_dir)
        card_add_evaluation(adapter_dir, result)
        return result

    def _evaluate(self, model, *, with_adapter: bool, adapter_dir: str | None) -> dict:
        records = held_out_records(self.records, EVALUATION_SPLIT, self.config.data_path)
        result = evaluate_loaded(model, self.inputs.tokenizer, records, settings=self.settings, declared=self.declared,
                                 batch_size=self.batch_size, with_adapter=with_adapter)
        result.update(model=self.config.model_name_or_path, adapter_dir=adapter_dir, split=EVALUATION_SPLIT)
        return result

    @staticmethod
    def stop_if_asked(should_stop, global_step: int) -> None:
        """``TrainingCancelled`` when ``should_stop()`` says so (a SIGTERM waits for the phase it arrives in)."""
        if should_stop is not None and should_stop():
            raise TrainingCancelled(None, global_step)
