"""Which loss for which data: every loss option trained on the same data over several seeds.

Data: (1) synthetic vowel-ranked groups (training/engine/synthetic.py) ranked by three simulated
annotators, each seeing the vowel count through Gaussian noise of a chosen strength, the consensus
being their mean tier; the test split keeps the true order. (2) The shipped LAMP rankings
(data/real/lamp.jsonl: three annotators per prompt, consensus = mean tier). Each option trains a
fresh LoRA on the tiny random-init model for a few epochs, then the held-out pairwise accuracy and
nDCG under the trained quantity (the implicit reward) are pooled over seeds, with a 95% bootstrap
interval over (seed, prompt) units.

    python -m benchmarks.bench_losses                       # about 10-15 minutes on 2 CPU cores
    python -m benchmarks.bench_losses --seeds 1 --out ''    # a quick look, no page written

Writes docs/benchmarks/losses.md (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

OPTIONS = {
    "grpo (group-normalised, default)": {},
    "grpo, normalize=pair": {"normalize": "pair"},
    "grpo, weighting=quadratic": {"weighting": "quadratic"},
    "grpo, weighting=lambda": {"weighting": "lambda"},
    "grpo, ties=davidson": {"ties": "davidson"},
    "grpo, pair_targets=annotators": {"pair_targets": "annotators"},
    "grpo, length_normalize": {"length_normalize": True},
    "plackett-luce": {"loss": "plackett-luce"},
}
DATASETS = {
    "synthetic, 3 annotators, noise 1.0": dict(max_length=64, max_prompt_length=32, num_train_epochs=3),
    "LAMP (real, 3 annotators)": dict(max_length=192, max_prompt_length=64, num_train_epochs=2),
}


def noisy_vowel_records(n_prompts: int, k: int, noise: float, seed: int = 0) -> list[dict]:
    """Vowel-ranked groups re-ranked by three annotators who see each vowel count plus N(0, noise)."""
    from training.engine.synthetic import VOWELS, vowel_ranked_records

    rng = random.Random(seed)
    records = vowel_ranked_records(n_prompts, k, seed=seed)
    for record in records:
        counts = [sum(ch in VOWELS for ch in r) for r in record["responses"]]
        if record["split"] == "test":
            continue  # held out against the true order
        annotations = [[-round(c + rng.gauss(0, noise)) for c in counts] for _ in range(3)]
        record["annotations"] = [{"annotator": f"a{i}", "rankings": a} for i, a in enumerate(annotations)]
        record["rankings"] = _consensus(annotations)
    return records


def _consensus(rankings: list[list[int | None]]) -> list[int | None]:
    """Mean dense tier over the annotators who ranked each response, as integer ranks (ties kept)."""
    from training.engine.records import dense_tiers

    tiers = [dense_tiers(r) for r in rankings]
    means = []
    for position in range(len(rankings[0])):
        ranked = [t[position] for t in tiers if t[position] >= 0]
        means.append(sum(ranked) / len(ranked) if ranked else None)
    order = sorted({m for m in means if m is not None})
    return [None if m is None else order.index(m) for m in means]


def lamp_records() -> list[dict]:
    records = [json.loads(line) for line in (ROOT / "data" / "real" / "lamp.jsonl").read_text().splitlines()]
    for record in records:
        record["rankings"] = _consensus([a["rankings"] for a in record["annotations"]])
    return records


def run_option(data: str, model: str, options: dict, dataset: dict, seed: int, work: Path) -> dict:
    """Train one adapter and evaluate it; returns the implicit-reward scoring's prompt terms."""
    from training.engine import RankedGRPOConfig, evaluate_model, run_training

    config = RankedGRPOConfig(output_dir=str(work / "run"), model_name_or_path=model, data_path=data, seed=seed,
                              learning_rate=5e-3, beta=0.5, per_device_train_batch_size=4, lora_r=8,
                              lora_dropout=0.0, logging_steps=1000, save_steps=10_000, kl_samples=0,
                              disable_tqdm=True, **{**dataset, **options})
    summary = run_training(config)
    result = evaluate_model(model, data, adapter_dir=summary["adapter_dir"], robustness=False,
                            max_length=dataset["max_length"], max_prompt_length=dataset["max_prompt_length"])
    return result["scorings"]["implicit_reward"]["prompt_terms"]


def pooled(per_seed: list[dict]) -> dict:
    """Pairwise accuracy and nDCG over every (seed, prompt), with 95% bootstrap intervals."""
    import numpy as np

    from training.engine.metrics import intervals, terms_from_json

    stacked = {key: np.concatenate([terms_from_json(t)[key] for t in per_seed])
               for key in ("pairwise_accuracy", "ndcg")}
    figures = intervals(stacked)
    for key, figure in figures.items():
        figure["per_seed"] = [terms_from_json(t)[key][:, 0].sum() / terms_from_json(t)[key][:, 1].sum()
                              for t in per_seed]
    return figures


def benchmark(seeds: int) -> dict:
    import torch

    from training.engine import make_tiny_model
    from training.engine.synthetic import write_jsonl

    torch.set_num_threads(1)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = make_tiny_model(tmp / "model", hidden_size=64, num_hidden_layers=2)
        files = {
            "synthetic, 3 annotators, noise 1.0": write_jsonl(noisy_vowel_records(64, 4, 1.0), tmp / "synthetic.jsonl"),
            "LAMP (real, 3 annotators)": write_jsonl(lamp_records(), tmp / "lamp.jsonl"),
        }
        for name, dataset in DATASETS.items():
            results[name] = {}
            for label, options in OPTIONS.items():
                started = time.perf_counter()
                terms = [run_option(files[name], model, options, dataset, seed, tmp / f"{seed}") for seed in range(seeds)]
                results[name][label] = {**pooled(terms), "seconds": time.perf_counter() - started}
                print(f"{name} | {label}: " + ", ".join(f"{k} {v['value']:.3f}" for k, v in results[name][label].items()
                                                        if isinstance(v, dict)), flush=True)
    return results


def markdown(results: dict, seeds: int) -> str:
    lines = [
        "# Loss options compared (`benchmarks/bench_losses.py`)", "",
        f"Tiny random-init Llama (2 layers, 64 wide), LoRA r 8, lr 5e-3, beta 0.5, {seeds} seeds per option. "
        "Held-out figures under the implicit reward (the trained quantity), pooled over seeds, with a 95% "
        "bootstrap interval over (seed, prompt); per-seed values in the last column. Chance: pairwise accuracy 0.5. "
        "Synthetic: three annotators see the vowel count plus N(0, 1) noise, the test split keeps the true order. "
        "LAMP: 3 responses of ~1,100 characters cut to 192 byte tokens, so figures are low for every option.", "",
    ]  # fmt: skip
    for name, options in results.items():
        lines += [f"## {name}", "", "| option | pairwise accuracy | nDCG | per-seed pairwise accuracy |",
                  "| --- | --- | --- | --- |"]
        for label, figures in options.items():
            pair, ndcg = figures["pairwise_accuracy"], figures["ndcg"]
            seeds_text = ", ".join(f"{v:.3f}" for v in pair["per_seed"])
            lines.append(f"| {label} | {_figure(pair)} | {_figure(ndcg)} | {seeds_text} |")
        lines.append("")
    return "\n".join(lines)


def _figure(figure: dict) -> str:
    if figure["low"] is None:
        return f"{figure['value']:.3f}"
    return f"{figure['value']:.3f} [{figure['low']:.3f}, {figure['high']:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "losses.md"))
    args = parser.parse_args()
    import transformers

    transformers.logging.set_verbosity_error()
    results = benchmark(args.seeds)
    if args.out:
        Path(args.out).write_text(markdown(results, args.seeds) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
