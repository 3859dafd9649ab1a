"""Benchmark: what validation and the KL monitor cost in the CPU smoke run (issue 19, point 5: KL <= 10%).

Trains the CPU smoke preset's settings (written out here: the presets module needs Django) on the
demo prompts (data/demo, rankings from their quality labels) with the tiny Llama `make run` builds,
and reports the run's time, the validation evaluations' share of it (``validation_metrics`` timed)
and the KL estimates' share (``kl_time_share``, with the estimates made and skipped).

    python benchmarks/bench_validation_kl.py            # writes docs/benchmarks/validation_kl.md
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.engine import RankedGRPOConfig, make_tiny_model  # noqa: E402
from training.engine.trainer import RankedGRPOTrainer, run_training  # noqa: E402

QUALITY = {"best": 0, "good": 1, "mediocre": 2, "poor": 3}
SMOKE = {"loss": "grpo", "weighting": "none", "beta": 0.1, "margin": 0.0, "lora_r": 8, "lora_alpha": 16,
         "lora_dropout": 0.0, "learning_rate": 0.003, "warmup_steps": 0.1, "num_train_epochs": 3.0,
         "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1, "max_length": 160,
         "max_prompt_length": 48, "activation_checkpointing": False, "seed": 42, "logging_steps": 1,
         "save_steps": 10, "disable_tqdm": True}


def demo_data(path: Path) -> str:
    quality = {}
    for line in (ROOT / "data/demo/answer_quality.jsonl").read_text().splitlines():
        row = json.loads(line)
        quality[row["id"]] = row["quality"]
    records = []
    for line in (ROOT / "data/demo/prompts.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["id"] in quality:
            records.append({**row, "rankings": [QUALITY[q] for q in quality[row["id"]]]})
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def main() -> None:
    seconds = {"validation": 0.0}
    original = RankedGRPOTrainer.validation_metrics

    def timed(self):
        began = time.perf_counter()
        try:
            return original(self)
        finally:
            seconds["validation"] += time.perf_counter() - began

    RankedGRPOTrainer.validation_metrics = timed
    with tempfile.TemporaryDirectory() as tmp:
        model = make_tiny_model(Path(tmp) / "tiny-llama")
        data = demo_data(Path(tmp) / "demo.jsonl")
        config = RankedGRPOConfig(model_name_or_path=model, data_path=data, output_dir=str(Path(tmp) / "run"), **SMOKE)
        began = time.perf_counter()
        result = run_training(config)
        total = time.perf_counter() - began
    lines = [
        "# Validation and KL monitor cost, CPU smoke run (demo prompts, tiny Llama)", "",
        f"- run: {result['global_step']} steps, {total:.1f} s wall ({result['n_train_groups']} train, "
        f"{result['n_validation_groups']} validation prompts)",
        f"- validation: {result['evaluations']} evaluations, {seconds['validation']:.2f} s "
        f"({100 * seconds['validation'] / total:.1f}% of the run); kept step {result['kept_step']}",
        f"- KL: {result['kl_estimates']} estimates, {result['kl_estimates_skipped']} skipped, "
        f"{100 * result['kl_time_share']:.1f}% of the training time",
        f"- truncated: {100 * result['truncated_prompt_rate']:.1f}% of prompts, "
        f"{100 * result['truncated_response_rate']:.1f}% of responses", "",
    ]
    print("\n".join(lines))
    out = ROOT / "docs/benchmarks/validation_kl.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
