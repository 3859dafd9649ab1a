"""Validation during training, the best adapter and early stopping.

Every ``eval_steps`` (``drift.kl_interval``: default 4 times per run) and at the last step, the policy's
training loss and pairwise accuracy on the validation groups (``RankedGRPOTrainer.validation_metrics``)
are logged with that step's train log as ``eval_loss`` and ``eval_pair_accuracy``. When the loss is the
lowest so far, the LoRA weights are written to ``output_dir/best-adapter`` with ``best.json`` (step, loss,
evaluations since), which a resumed run reads back. With ``patience``, training stops after that many
evaluations in a row without a lower loss. With ``load_best`` the saved adapter is the best one, and
the run's summary says which step it holds (``kept_step``).

Not transformers' ``load_best_model_at_end``/``EarlyStoppingCallback``: those need the Trainer's own
evaluation loop (which would run our loss through ``prediction_step`` and mix its pair metrics into the
train logs) and a ``save_steps`` that is a multiple of ``eval_steps``; the best LoRA weights here are
a few megabytes written at each improvement, independent of the resumable checkpoints.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from transformers import TrainerCallback

from .drift import kl_interval

logger = logging.getLogger(__name__)

VALIDATION_KEYS = ("eval_loss", "eval_pair_accuracy")
BEST_DIR = "best-adapter"
BEST_STATE = "best.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


class ValidationCallback(TrainerCallback):
    """Validation figures, the best adapter on disk and early stopping (module doc)."""

    def __init__(self, trainer, patience: int | None):
        self.trainer, self.patience = trainer, patience
        self.best_dir = Path(trainer.args.output_dir) / BEST_DIR
        self.state = {"best_step": None, "best_eval_loss": None, "evaluations": 0, "evaluations_since_best": 0,
                      "stopped_early_at": None}
        self.every = 1

    @property
    def active(self) -> bool:
        return len(self.trainer.validation_dataset) > 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.every = kl_interval(args.eval_steps, state.max_steps)
        stored = self.best_dir / BEST_STATE
        if state.global_step > 0 and stored.is_file():  # resumed: the best so far survives the restart
            saved = json.loads(stored.read_text())
            if saved.get("best_step") is not None and saved["best_step"] <= state.global_step:
                self.state.update(saved)

    def on_step_end(self, args, state, control, **kwargs):
        due = state.global_step % self.every == 0 or state.global_step >= state.max_steps
        if not (self.active and due):
            return control
        figures = self.trainer.validation_metrics()
        self.trainer.pending_logs.update(figures)
        control.should_log = True
        self._track(figures["eval_loss"], state.global_step)
        if self.patience and self.state["evaluations_since_best"] >= self.patience:
            self.state["stopped_early_at"] = state.global_step
            logger.info("early stopping at step %d: %d evaluations without a lower validation loss than %.4f "
                        "(step %d)", state.global_step, self.patience, self.state["best_eval_loss"],
                        self.state["best_step"])
            control.should_training_stop = True
        return control

    def _track(self, loss: float, step: int) -> None:
        self.state["evaluations"] += 1
        best = self.state["best_eval_loss"]
        if best is not None and not loss < best:
            self.state["evaluations_since_best"] += 1
        else:
            self.state.update(best_step=step, best_eval_loss=loss, evaluations_since_best=0)
            self._save_best()
        if self.trainer.is_world_process_zero():
            self.best_dir.mkdir(parents=True, exist_ok=True)
            (self.best_dir / BEST_STATE).write_text(json.dumps(self.state))

    def _save_best(self) -> None:
        if self.trainer.parameters_sharded:  # every process: the Trainer gathers the adapter from the shards
            self.trainer.save_model(str(self.best_dir))
        elif self.trainer.is_world_process_zero():
            self.trainer.accelerator.unwrap_model(self.trainer.model).save_pretrained(str(self.best_dir))

    def summary(self, global_step: int, *, load_best: bool) -> dict:
        """The run's validation figures: best step and loss, evaluations, early stop, and ``kept_step``
        (the step whose weights are saved: the best with ``load_best`` and a validation split, else the last)."""
        kept = self.state["best_step"] if load_best and self.state["best_step"] is not None else global_step
        return {**self.state, "load_best": load_best, "kept_step": kept}


def restore_best_adapter(trainer, best_dir: Path) -> None:
    """Load the LoRA weights saved in ``best_dir`` into the trainer's model (every process, after process 0 wrote them)."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    trainer.accelerator.wait_for_everyone()
    weights = load_file(str(best_dir / ADAPTER_WEIGHTS))
    model = trainer.accelerator.unwrap_model(trainer.model)
    set_peft_model_state_dict(model, weights)
    logger.info("kept the adapter of step %s (lowest validation loss)", json.loads((best_dir / BEST_STATE).read_text())
                .get("best_step"))
