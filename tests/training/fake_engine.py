"""A fast stand-in for ``training.engine`` (unit tests only): same API, no model, controllable timing.

It keeps the real ``RankedGRPOConfig`` and ``TrainingCancelled``; ``run_training`` counts steps,
writes ``checkpoint-N`` folders every ``save_steps`` and resumes from the last one.
"""

import json
import threading
import time
from pathlib import Path

from training.engine import RankedGRPOConfig, TrainingCancelled  # noqa: F401 - re-exported like the engine
from training.engine.metrics import evaluation_report, scoring_changes
from training.engine.verdict import build_verdict

VALIDATION_LOSS = {2: 0.6, 4: 0.5, 6: 0.55}  # validation steps of a 6-step run: the best is step 4


class FakeEngine:
    RankedGRPOConfig = RankedGRPOConfig
    TrainingCancelled = TrainingCancelled

    def __init__(self, *, total_steps: int = 6, step_seconds: float = 0.0, fail_with: BaseException | None = None):
        self.total_steps, self.step_seconds, self.fail_with = total_steps, step_seconds, fail_with
        self.calls: list[dict] = []
        self.step_reached = threading.Event()  # set once training passed ``wait_step``
        self.wait_step = 2

    def RunSession(self, config):  # noqa: N802 - the engine's class name
        return FakeSession(self, config)

    def run_training(self, config, progress=None, should_stop=None, resume=False):
        out = Path(config.output_dir)
        checkpoints = sorted(int(p.name.split("-")[1]) for p in out.glob("checkpoint-*"))
        start = checkpoints[-1] if resume and checkpoints else 0
        self.calls.append({"call": "train", "resume": resume, "start": start})
        progress({"phase": "load"})
        progress({"phase": "train", "resumed_from": str(out / f"checkpoint-{start}") if start else None,
                  "total_steps": self.total_steps})
        for step in range(start + 1, self.total_steps + 1):
            time.sleep(self.step_seconds)
            if self.fail_with is not None and step == 3:
                raise self.fail_with
            progress({"phase": "train", "step": step, "total_steps": self.total_steps, "epoch": step / self.total_steps,
                      "loss": 1.0 / step, "reward_margin": 0.1 * step, "pair_accuracy": min(1.0, 0.5 + 0.1 * step),
                      "learning_rate": 1e-3, "grad_norm": 0.5,
                      **({"eval_loss": VALIDATION_LOSS[step], "eval_pair_accuracy": 0.7} if step in VALIDATION_LOSS
                         else {})})
            if step % int(config.save_steps) == 0:
                _checkpoint(out, step)
            if step >= self.wait_step:
                self.step_reached.set()
            if should_stop():
                _checkpoint(out, step)
                raise TrainingCancelled(str(out / f"checkpoint-{step}"), step)
        adapter = out / "adapter"
        adapter.mkdir(parents=True, exist_ok=True)
        (adapter / "adapter_model.safetensors").write_bytes(b"weights")
        (adapter / "adapter_config.json").write_text(json.dumps({"r": config.lora_r}))
        progress({"phase": "save"})
        progress({"phase": "done"})
        best = min(VALIDATION_LOSS, key=VALIDATION_LOSS.get)
        return {"adapter_dir": str(adapter), "global_step": self.total_steps, "train_loss": 0.5,
                "history": [], "resumed_from": None, "best_step": best, "best_eval_loss": VALIDATION_LOSS[best],
                "kept_step": best, "load_best": True, "evaluations": 3, "n_validation_groups": 2,
                "stopped_early_at": None, "truncated_prompt_rate": 0.0, "truncated_response_rate": 0.25,
                "kl_estimates": 2, "kl_time_share": 0.05, "kl_estimates_skipped": 0}

    def evaluate_model(self, model_name_or_path, data_path, adapter_dir=None, split="test", **kwargs):
        from training.engine.records import has_valid_pair, load_records, select_split

        self.calls.append({"call": "evaluate", "adapter_dir": adapter_dir, **kwargs})
        records = [r for r in select_split(load_records(data_path), split) if has_valid_pair(r["ranks"])]
        good = adapter_dir is not None
        per_prompt = []
        for record in records:
            scores = _fake_scores(record, good)
            distinct = sorted(set(scores), reverse=True)
            per_prompt.append({"id": record["id"], "scores": scores, "ranking": [distinct.index(s) for s in scores],
                               "human_ranking": record["ranks"]})
        value = 0.9 if good else 0.4
        result = {"n_prompts": len(records), "accuracy": value, "ndcg": value, "mrr": value, "kendall_tau": value - 0.3,
                  "pairwise_accuracy": value, "n_pairs": 10, "adjacent_pair_accuracy": value,
                  "robustness": {"order_consistency": 1.0, "whitespace_consistency": value}, "per_prompt": per_prompt,
                  **_scored(records, good)}
        if good:  # as the engine: the base half on the same prompts, the paired changes and the verdict
            result["base"] = _scored(records, False)
            result["change"] = scoring_changes(result["base"], result)
            ranks, lengths = [r["ranks"] for r in records], _lengths(records)
            result["verdict"] = build_verdict("pairwise_accuracy", "sum_logp", [_fake_scores(r, False) for r in records],
                                              [_fake_scores(r, True) for r in records], ranks, lengths)
        return result


def _fake_scores(record: dict, good: bool) -> list[float]:
    """The tuned model orders every response as the humans did; the base one by position."""
    return [-float(r) if good else float(i) for i, r in enumerate(record["ranks"])]


def _lengths(records: list[dict]) -> list[list[int]]:
    return [[len(text) for text in record["responses"]] for record in records]


def _scored(records: list[dict], good: bool) -> dict:
    """The per-scoring figures ``evaluate_model`` reports (``metrics.evaluation_report``)."""
    scores = [_fake_scores(r, good) for r in records]
    report = evaluation_report({"sum_logp": scores, "mean_logp": scores}, [r["ranks"] for r in records],
                               [r["annotator_ranks"] for r in records], _lengths(records))
    return {**report, "scoring": "sum_logp", "default_scoring": "sum_logp"}


class FakeSession:
    """``training.engine.RunSession`` on the fake: each stage is the fake's ``evaluate_model`` or ``run_training``."""

    def __init__(self, engine: FakeEngine, config):
        self.engine, self.config = engine, config

    def evaluate_base(self) -> dict:
        return self.engine.evaluate_model(self.config.model_name_or_path, self.config.data_path)

    def train(self, *, progress=None, should_stop=None, resume=False) -> dict:
        return self.engine.run_training(self.config, progress=progress, should_stop=should_stop, resume=resume)

    def evaluate_tuned(self, adapter_dir: str) -> dict:
        return self.engine.evaluate_model(self.config.model_name_or_path, self.config.data_path, adapter_dir=adapter_dir)


def _checkpoint(out: Path, step: int) -> None:
    """Like the Trainer: a folder whose trainer_state.json (written last) holds the log history."""
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    history = [{"step": s, "loss": 1.0 / s, "epoch": s / 6} for s in range(1, step + 1)]
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step, "log_history": history}))
