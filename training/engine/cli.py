"""Command line: ``python -m training.engine make-tiny-model|train|evaluate`` (docs/training.md)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .config import LOSSES, QUANTIZATIONS, WEIGHTINGS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.engine",
                                     description="Offline ranked-preference (GRPO) LoRA training and evaluation.")
    commands = parser.add_subparsers(dest="command", required=True)

    tiny = commands.add_parser("make-tiny-model", help="save a random-init Llama + byte tokenizer (no download)")
    tiny.add_argument("out_dir")
    tiny.add_argument("--hidden-size", type=int, default=256)
    tiny.add_argument("--layers", type=int, default=4)
    tiny.add_argument("--seed", type=int, default=0)

    train = commands.add_parser("train", help="train a LoRA adapter on the train split")
    train.add_argument("--data", required=True, help="exchange JSON/JSONL file or saved DatasetDict folder")
    train.add_argument("--model", required=True, help="hub id or local folder of the base model")
    train.add_argument("--output", required=True, help="output folder (checkpoints, adapter/)")
    train.add_argument("--loss", choices=LOSSES, default="grpo")
    train.add_argument("--weighting", choices=WEIGHTINGS, default="none")
    train.add_argument("--beta", type=float, default=0.1)
    train.add_argument("--margin", type=float, default=0.0)
    train.add_argument("--quantization", choices=QUANTIZATIONS, default="none")
    train.add_argument("--lora-r", type=int, default=16)
    train.add_argument("--lora-alpha", type=int, default=32)
    train.add_argument("--lora-dropout", type=float, default=0.05)
    train.add_argument("--epochs", type=float, default=1.0)
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--batch-size", type=int, default=4, help="prompts (whole groups) per batch")
    train.add_argument("--max-length", type=int, default=512)
    train.add_argument("--max-prompt-length", type=int, default=256)
    train.add_argument("--logging-steps", type=int, default=10)
    train.add_argument("--save-steps", type=int, default=200)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--resume", action="store_true", help="resume from the last checkpoint in --output")

    evaluate = commands.add_parser("evaluate", help="rank held-out responses and compare with the humans")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--adapter", default=None, help="folder of a trained adapter (run_training's adapter_dir)")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--max-length", type=int, default=512)
    evaluate.add_argument("--batch-size", type=int, default=8)
    evaluate.add_argument("--json", action="store_true", help="print the full metrics as JSON")
    return parser


def _make_tiny_model(args) -> int:
    from .modeling import make_tiny_model

    path = make_tiny_model(args.out_dir, hidden_size=args.hidden_size, num_hidden_layers=args.layers, seed=args.seed)
    print(path)
    return 0


def _train(args) -> int:
    from .config import RankedGRPOConfig
    from .trainer import end_distributed, run_training

    config = RankedGRPOConfig(
        output_dir=args.output, model_name_or_path=args.model, data_path=args.data, loss=args.loss,
        weighting=args.weighting, beta=args.beta, margin=args.margin, quantization=args.quantization,
        lora_r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        num_train_epochs=args.epochs, learning_rate=args.lr, per_device_train_batch_size=args.batch_size,
        max_length=args.max_length, max_prompt_length=args.max_prompt_length, logging_steps=args.logging_steps,
        save_steps=args.save_steps, seed=args.seed, disable_tqdm=False,
    )
    result = run_training(config, resume=args.resume)
    end_distributed()
    print(f"adapter saved to {result['adapter_dir']} ({result['global_step']} steps, "
          f"mean loss {result['train_loss']:.4f}, {result['n_train_pairs']} pairs)")
    return 0


def _evaluate(args) -> int:
    from .evaluate import evaluate_model

    metrics = evaluate_model(args.model, args.data, adapter_dir=args.adapter, split=args.split,
                             max_length=args.max_length, batch_size=args.batch_size)
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    scoring = metrics["default_scoring"]
    print(f"{metrics['n_prompts']} prompts, {metrics['n_pairs']} pairs (split {args.split}); scoring {scoring}, "
          "value [95% interval]")
    print(f"{'':24}{'model':<22}{'chance':>8}{'longer':>8}{'shorter':>8}" + ("  change (paired)" if "change" in metrics else ""))
    for name, figure in metrics["scorings"][scoring]["metrics"].items():
        line = f"{name:24}{_fmt(figure['value']):>6} [{_fmt(figure['low'])}, {_fmt(figure['high'])}]"
        line += "".join(f"{_fmt(v):>8}" for v in (metrics["chance"][name], metrics["baselines"]["longer"][name]["value"],
                                                 metrics["baselines"]["shorter"][name]["value"]))
        if "change" in metrics:
            change = metrics["change"][scoring][name]
            line += f"  {_fmt(change['delta'])} [{_fmt(change['low'])}, {_fmt(change['high'])}] " + (
                "significant" if change["significant"] else "not significant")
        print(line)
    for name, stratum in metrics["scorings"][scoring]["strata"].items():
        print(f"{name}: {_fmt(stratum['accuracy'])} over {stratum['n_pairs']} pairs, human {_fmt(stratum['human_ceiling'])}")
    for name, value in metrics["robustness"].items():
        print(f"{name}: {_fmt(value)}")
    return 0


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _quiet_libraries() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # weight-loading bars; the Trainer keeps its own
    warnings.filterwarnings("ignore")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .data import DataError
    from .modeling import ModelLoadError

    _quiet_libraries()
    handlers = {"make-tiny-model": _make_tiny_model, "train": _train, "evaluate": _evaluate}
    try:
        return handlers[args.command](args)
    except (DataError, ModelLoadError, ValueError, OSError) as error:
        print(f"error: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
