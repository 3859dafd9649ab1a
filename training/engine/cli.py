"""Command line: ``python -m training.engine make-tiny-model|train|evaluate|merge|generate|judge|train-reward``
(docs/training.md, docs/loop.md, docs/judging.md)."""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import os
import sys
import time
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from . import events, storage
from .config import RankedGRPOConfig
from .config_fields import QUANTIZATIONS
from .evaluate import DEVICE_MAPS, DTYPES
from .generate import GenerationSettings
from .judge_settings import JudgeSettings
from .metrics import HOLM_NOTE, METRICS
from .reward import RewardConfig
from .verdict import VERDICT_SCORINGS, verdict_sentence

# Every config field is a flag, --field_name and --field-name, with its help (a field added to
# RankedGRPOConfig becomes one by itself). The three files a run needs are also --data, --model and
# --output, as in evaluate, generate and judge.
FILE_FLAGS = {"data_path": ["--data"], "model_name_or_path": ["--model"], "output_dir": ["--output"]}
FILES_REQUIRED = tuple(FILE_FLAGS)


@dataclass
class TrainOptions:
    """What ``train`` takes besides the config."""

    resume: bool = field(default=False, metadata={"help": "Resume from the last checkpoint in --output."})
    events: bool = field(default=False, metadata={"help": "Print progress as @grpo JSON lines and stop with a checkpoint on SIGTERM (for a launcher)."})
    evaluate_base_output: str | None = field(default=None, metadata={"help": "Before training, score the base model on the test split (as `evaluate` does, with this run's settings and the model it loads) and write the metrics JSON to this path or storage URL."})
    evaluate_output: str | None = field(default=None, metadata={"help": "After training, score the trained adapter on the test split in this process (as `evaluate --adapter --update_card` does: the base model is loaded once for the whole run) and write the metrics JSON to this path or storage URL."})


@dataclass
class EvaluateArguments:
    """``evaluate``: settings not given follow the adapter's training config (grpo_training.json), else the defaults."""

    data: str = field(metadata={"help": "Exchange JSON/JSONL file or saved DatasetDict folder."})
    model: str = field(metadata={"help": "Hub id or local folder of the base model."})
    adapter: str | None = field(default=None, metadata={"help": "Folder of a trained adapter (run_training's adapter_dir)."})
    split: str = field(default="test", metadata={"help": "Split of the records to score."})
    max_length: int | None = field(default=None, metadata={"help": "Maximum prompt + response tokens (default: the training value, else 512)."})
    max_prompt_length: int | None = field(default=None, metadata={"help": "Maximum prompt tokens (default: the training value, else the budget that follows max_length)."})
    batch_size: int = field(default=8, metadata={"help": "Groups per scoring batch."})
    quantization: str | None = field(default=None, metadata={"help": "Load the base model in none, 8bit or 4bit (default: the training value, else none).", "choices": QUANTIZATIONS})
    dtype: str = field(default="auto", metadata={"help": "auto (bf16 on a GPU that supports it, the training precision; float32 on CPU), float32 or bfloat16.", "choices": DTYPES})
    primary_metric: str | None = field(default=None, metadata={"help": "The verdict's metric (default: the adapter's training config, else pairwise_accuracy).", "choices": METRICS})
    scoring: str | None = field(default=None, metadata={"help": "The verdict's and the flat metrics' scoring (default: the one the adapter's loss trains: mean_logp for orpo or length_normalize, else sum_logp).", "choices": VERDICT_SCORINGS})
    beta: float | None = field(default=None, metadata={"help": "Implicit-reward scale (default: the training value)."})
    device_map: str | None = field(default=None, metadata={"help": "Spread the model's layers over every visible GPU (transformers' device_map), for a base model larger than one GPU; the launcher asks for auto when the job trains with fsdp or zero3 (default: the whole model on one GPU, else the CPU).", "choices": DEVICE_MAPS})
    json: bool = field(default=False, metadata={"help": "Print the full metrics as JSON (the verdict under 'verdict')."})
    output: str | None = field(default=None, metadata={"help": "Also write the full metrics as JSON to this path or storage URL (s3://...)."})
    update_card: bool = field(default=False, metadata={"help": "Add the held-out table to the adapter's model card (README.md)."})
    events: bool = field(default=False, metadata={"help": "Print @grpo JSON lines when scoring starts and ends (for a launcher)."})


@dataclass
class GenerateFiles:
    """``generate``: where the prompts come from and where the exchange records go."""

    prompts: str = field(metadata={"help": "JSON/JSONL records with a prompt (id optional), or a .txt file with one prompt per line."})
    output: str = field(metadata={"help": "JSONL file to write: one exchange record per prompt, ready for import_rankings."})


@dataclass
class JudgeFiles:
    """``judge``: which records to rank and where the model's rankings go."""

    data: str = field(metadata={"help": "Exchange JSON/JSONL file or saved DatasetDict folder."})
    output: str = field(metadata={"help": "JSONL file to write: {id, scores, rankings} per prompt."})
    split: str | None = field(default=None, metadata={"help": "Only the records of this split (default: all)."})
    json: bool = field(default=False, metadata={"help": "Print the agreement with the records' human rankings as JSON."})


class _DataclassParser(HfArgumentParser):
    """``HfArgumentParser`` that adds ``aliases`` and ``required`` per field name, leaving the dataclass untouched."""

    def __init__(self, dataclass_types: list, *, aliases: dict | None = None, required: tuple = (), **kwargs):
        self.aliases, self.required = aliases or {}, required
        super().__init__(dataclass_types, add_help=False, **kwargs)

    def _parse_dataclass_field(self, parser, field: dataclasses.Field) -> None:
        field = copy.copy(field)
        extra = {"aliases": self.aliases.get(field.name, []), **({"required": True} if field.name in self.required else {})}
        field.metadata = types.MappingProxyType({**field.metadata, **extra})
        HfArgumentParser._parse_dataclass_field(parser, field)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.engine",
                                     description="Offline ranked-preference (GRPO) LoRA training and evaluation.")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    tiny = commands.add_parser("make-tiny-model", help="save a random-init Llama + byte tokenizer (no download)")
    tiny.add_argument("out_dir")
    tiny.add_argument("--hidden-size", type=int, default=128)
    tiny.add_argument("--layers", type=int, default=2)
    tiny.add_argument("--seed", type=int, default=0)

    config = _DataclassParser([RankedGRPOConfig, TrainOptions], aliases=FILE_FLAGS, required=FILES_REQUIRED)
    train = commands.add_parser("train", parents=[config], formatter_class=defaults,
                                help="train a LoRA adapter on the train split (every RankedGRPOConfig field is a flag)")
    train.set_defaults(disable_tqdm=False)
    commands.add_parser("evaluate", parents=[_DataclassParser([EvaluateArguments])], formatter_class=defaults,
                        help="rank held-out responses and compare with the humans")
    _add_merge_parser(commands)
    commands.add_parser("generate", parents=[_DataclassParser([GenerationSettings, GenerateFiles])], formatter_class=defaults,
                        help="sample K candidate responses per prompt (exchange records for import_rankings)")
    commands.add_parser("judge", parents=[_DataclassParser([JudgeSettings, JudgeFiles])], formatter_class=defaults,
                        help="rank every prompt's responses with a reward model or a causal LM judge")
    commands.add_parser("train-reward", formatter_class=defaults, help="train a LoRA reward model on the ranked groups",
                        parents=[_DataclassParser([RewardConfig], aliases=FILE_FLAGS, required=FILES_REQUIRED)])
    return parser


def dataclass_values(dataclass_type, args: argparse.Namespace) -> dict:
    """The parsed flags that are init fields of ``dataclass_type``."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(dataclass_type) if f.init and hasattr(args, f.name)}


def _add_merge_parser(commands) -> None:
    merge = commands.add_parser("merge", help="fold a LoRA adapter into its base model (a model to serve)")
    merge.add_argument("--model", required=True, help="hub id or local folder of the base model")
    merge.add_argument("--adapter", required=True, help="folder of the trained adapter")
    merge.add_argument("--output", required=True, help="new folder for the merged model and its tokenizer")


def _merge(args) -> int:
    from .merge import merge_adapter

    print(f"merged model saved to {merge_adapter(args.model, args.adapter, args.output)}")
    return 0


def _generate(args) -> int:
    from .generate import generate_candidates, read_prompts, write_jsonl

    settings = GenerationSettings(**dataclass_values(GenerationSettings, args))
    records = generate_candidates(read_prompts(args.prompts), settings)
    write_jsonl(records, args.output)
    print(f"{len(records)} prompts x {settings.num_responses} responses written to {args.output}")
    return 0


def _judge(args) -> int:
    from .judge import ModelJudge
    from .judge_scoring import judge_report
    from .records import load_records, select_split

    files = JudgeFiles(**dataclass_values(JudgeFiles, args))
    records = load_records(files.data)
    records = select_split(records, files.split) if files.split else records
    judge = ModelJudge(JudgeSettings(**dataclass_values(JudgeSettings, args)))
    results = judge.judge(records)
    with open(files.output, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    report = judge_report(records, [r["scores"] for r in results])
    if files.json:
        print(json.dumps({"kind": judge.kind, "n_prompts": len(results), "report": report}, indent=2))
        return 0
    print(f"{len(results)} prompts ranked by the {judge.kind} judge {args.model}, written to {files.output}")
    if report:
        figure = report["scorings"]["judge"]["metrics"]["pairwise_accuracy"]
        print(f"pairwise accuracy with the human rankings: {_fmt(figure['value'])} [{_fmt(figure['low'])}, "
              f"{_fmt(figure['high'])}] over {report['n_prompts']} prompts (chance {_fmt(report['chance']['pairwise_accuracy'])})")
    return 0


def _train_reward(args) -> int:
    from .reward import train_reward_model

    summary = train_reward_model(RewardConfig(**dataclass_values(RewardConfig, args)))
    after = summary["evaluation"]
    accuracy = after["scorings"]["reward"]["metrics"]["pairwise_accuracy"] if after else None
    print(f"reward model saved to {args.output_dir} ({summary['steps']} steps, mean loss {summary['train_loss']:.4f})")
    if accuracy:
        print(f"held-out pairwise accuracy {_fmt(accuracy['value'])} [{_fmt(accuracy['low'])}, {_fmt(accuracy['high'])}] "
              f"over {summary['n_eval_prompts']} prompts (chance {_fmt(after['chance']['pairwise_accuracy'])})")
    return 0


def _make_tiny_model(args) -> int:
    from .modeling import make_tiny_model

    path = make_tiny_model(args.out_dir, hidden_size=args.hidden_size, num_hidden_layers=args.layers, seed=args.seed)
    print(path)
    return 0


def _train(args) -> int:
    """Train; --data and --output may be storage URLs (worked on in a local copy, see storage.py). With
    --evaluate_base_output / --evaluate_output the held-out evaluations run in this process too (session.py)."""
    from .session import RunSession
    from .trainer import TrainingCancelled, end_distributed

    values = dataclass_values(RankedGRPOConfig, args)
    progress, should_stop = (events.emit, events.StopOnSignal()) if args.events else (None, None)
    _refuse_distributed_evaluation(args)
    with storage.local_file(values["data_path"]) as data, storage.synced_dir(values["output_dir"]) as output:
        config = RankedGRPOConfig(**{**values, "data_path": data, "output_dir": output})
        session = RunSession(config)
        if os.environ.get("RANK", "0") == "0":  # once, not per process of a distributed launch (torchrun/accelerate set RANK)
            _report_readiness(session.records)
        try:
            result = _train_in(session, args, progress, should_stop)
        except TrainingCancelled as stop:
            _emit_if(progress, {"event": "cancelled", "step": stop.global_step,
                                "checkpoint": _relative(stop.checkpoint_dir, output)})
            print(f"cancelled at step {stop.global_step}; checkpoint {stop.checkpoint_dir}")
            return events.CANCELLED_EXIT
    end_distributed()
    result = {**result, "adapter_dir": storage.join(values["output_dir"], "adapter"),
              "output_dir": values["output_dir"]}
    _emit_if(progress, {"event": "trained", "summary": {k: v for k, v in result.items() if k != "history"}})
    _print_training(result)
    return 0


def _refuse_distributed_evaluation(args) -> None:
    if (args.evaluate_base_output or args.evaluate_output) and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ValueError("evaluate_output: not with several processes (accelerate/torchrun); "
                         "run `evaluate` after training instead")


def _print_training(result: dict) -> None:
    print(f"adapter saved to {result['adapter_dir']} ({result['global_step']} steps, "
          f"mean loss {result['train_loss']:.4f}, {result['n_train_pairs']} pairs)")
    print(_validation_line(result))
    print(f"truncated: {100 * result['truncated_prompt_rate']:.1f}% of prompts, "
          f"{100 * result['truncated_response_rate']:.1f}% of responses; KL estimates {result['kl_estimates']} "
          f"({100 * result['kl_time_share']:.1f}% of the run)"
          + (f"; {result['duplicate_prompts']} duplicate prompt(s) kept in one split" if result["duplicate_prompts"]
             else ""))


def _report_readiness(records: list[dict]) -> None:
    """Is this data ready? The annotators' agreement before the run, warnings on stderr (readiness.py)."""
    from .readiness import data_readiness, readiness_lines

    for line in readiness_lines(data_readiness(records)):
        print(line, file=sys.stderr if line.startswith("warning") else sys.stdout)


def _validation_line(result: dict) -> str:
    if result["best_step"] is None:
        return f"kept step {result['kept_step']} (no validation split)"
    stop = f", stopped early at step {result['stopped_early_at']}" if result["stopped_early_at"] else ""
    return (f"kept step {result['kept_step']}: best validation loss {result['best_eval_loss']:.4f} at step "
            f"{result['best_step']} ({result['evaluations']} evaluations on {result['n_validation_groups']} "
            f"validation prompts, {result['validation_source']}){stop}")


def _train_in(session, args, progress, should_stop) -> dict:
    """Base evaluation (if asked), training (resumed if asked), tuned evaluation (if asked), in this order."""
    if args.evaluate_base_output:
        _write_evaluation(session.evaluate_base, args.evaluate_base_output, adapter=False, progress=progress)
    if args.resume:
        checkpoint = resumable_checkpoint(session.config.output_dir)
        if checkpoint and progress is not None:  # steps a killed attempt logged after its last report
            progress({"event": "history", "checkpoint": Path(checkpoint).name, "rows": _logged_steps(checkpoint)})
    result = session.train(progress=progress, should_stop=should_stop, resume=args.resume)
    if args.evaluate_output:
        _write_evaluation(lambda: session.evaluate_tuned(result["adapter_dir"]), args.evaluate_output, adapter=True,
                          progress=progress)
        session.stop_if_asked(should_stop, result["global_step"])  # asked while scoring: the adapter is saved
    return result


def _write_evaluation(evaluate, output: str, *, adapter: bool, progress) -> dict:
    """Run ``evaluate()``, write its metrics JSON to ``output`` and report both as ``evaluate``'s events do."""
    _emit_if(progress, {"event": "evaluate", "adapter": adapter})
    metrics = evaluate()
    storage.write_text(output, json.dumps(metrics, indent=2))
    _emit_if(progress, {"event": "evaluated", "adapter": adapter, "output": output})
    print(f"{'tuned' if adapter else 'base'} model evaluated: {metrics['n_prompts']} prompts, written to {output}")
    if "verdict" in metrics:
        print(f"verdict: {verdict_sentence(metrics['verdict'])}")
    return metrics


def resumable_checkpoint(output_dir: str) -> str | None:
    """The newest complete checkpoint in ``output_dir``, after moving aside any that a killed run left
    half-written (the Trainer writes trainer_state.json last; renamed, not deleted, so nothing is lost)."""
    from transformers.trainer_utils import get_last_checkpoint

    for path in sorted(Path(output_dir).glob("checkpoint-*")):
        if path.is_dir() and not (path / "trainer_state.json").is_file():
            target = path.with_name(f"incomplete-{path.name}-{int(time.time())}")
            path.rename(target)
            print(f"checkpoint {path.name} is incomplete (no trainer_state.json); moved to {target.name}")
    return get_last_checkpoint(output_dir)


def _logged_steps(checkpoint: str) -> list[dict]:
    try:
        history = json.loads((Path(checkpoint) / "trainer_state.json").read_text())["log_history"]
    except (OSError, ValueError, KeyError):
        return []
    return [entry for entry in history if "loss" in entry and "step" in entry]


def _relative(path: str | None, root: str) -> str | None:
    return str(Path(path).relative_to(root)) if path and Path(path).is_relative_to(root) else path


def _emit_if(progress, event: dict) -> None:
    if progress is not None:
        progress(event)


def _evaluate(args) -> int:
    options = EvaluateArguments(**dataclass_values(EvaluateArguments, args))
    progress = events.emit if options.events else None
    _emit_if(progress, {"event": "evaluate", "adapter": bool(options.adapter)})
    with storage.local_file(options.data) as data, _adapter_copy(options.adapter) as adapter:
        metrics = _evaluate_in(options, data, adapter)
    if options.output:
        storage.write_text(options.output, json.dumps(metrics, indent=2))
    _emit_if(progress, {"event": "evaluated", "adapter": bool(options.adapter), "output": options.output})
    if options.json:
        print(json.dumps(metrics, indent=2))
        return 0
    if "verdict" in metrics:
        print(f"verdict: {verdict_sentence(metrics['verdict'])}")
    scoring = metrics["scoring"]
    print(f"{metrics['n_prompts']} prompts, {metrics['n_pairs']} pairs (split {options.split}); scoring {scoring}, "
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
    if "change" in metrics:
        print(HOLM_NOTE.format(n=len(metrics["change"][scoring])))
    for name, stratum in metrics["scorings"][scoring]["strata"].items():
        print(f"{name}: {_fmt(stratum['accuracy'])} over {stratum['n_pairs']} pairs, human {_fmt(stratum['human_ceiling'])}")
    for name, value in metrics["robustness"].items():
        print(f"{name}: {_fmt(value)}")
    return 0


def _evaluate_in(options: EvaluateArguments, data: str, adapter: str | None) -> dict:
    from .card import card_add_evaluation
    from .evaluate import evaluate_model

    metrics = evaluate_model(options.model, data, adapter_dir=adapter, split=options.split,
                             max_length=options.max_length, max_prompt_length=options.max_prompt_length,
                             batch_size=options.batch_size, quantization=options.quantization, dtype=options.dtype,
                             beta=options.beta, primary_metric=options.primary_metric, scoring=options.scoring,
                             device_map=options.device_map)
    if adapter and options.update_card:
        card_add_evaluation(adapter, metrics)
    return metrics


def _adapter_copy(adapter: str | None):
    return storage.synced_dir(adapter) if adapter else contextlib.nullcontext(None)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _quiet_libraries() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # weight-loading bars; the Trainer keeps its own
    warnings.filterwarnings("ignore")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .modeling import ModelLoadError
    from .records import DataError

    _quiet_libraries()
    handlers = {"make-tiny-model": _make_tiny_model, "train": _train, "evaluate": _evaluate, "merge": _merge,
                "generate": _generate, "judge": _judge, "train-reward": _train_reward}
    try:
        return handlers[args.command](args)
    except (DataError, ModelLoadError, ValueError, OSError) as error:
        print(f"error: {str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
