"""``python -m training.engine``: the happy path and one-line errors with a non-zero exit."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.engine import RankedGRPOConfig
from training.engine.cli import build_parser, dataclass_values, main

ROOT = Path(__file__).resolve().parents[2]


def engine(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TQDM_DISABLE="1")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "training.engine", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--data", "/nonexistent.jsonl", "--model", "{model}"], "error: /nonexistent.jsonl: no such file"),
    (["train", "--data", "{data}", "--model", "/nonexistent-model", "--output", "{out}"],
     "error: model '/nonexistent-model': no such directory"),
    (["train", "--data", "{data}", "--model", "{model}", "--output", "{out}", "--beta", "-1"], "error: beta: must be a number in (0, 100]"),
    (["train", "--data", "{data}", "--model", "{model}", "--output", "{out}", "--lora-alpha", "5000"],
     "error: lora_alpha: must be a number in [1, 4096] (got 5000)"),
    (["train", "--data", "{data}", "--model", "{model}", "--output", "{out}", "--kl-warning", "nan"],
     "error: kl_warning: must be a number in (0, 1000000] (got nan)"),
    (["train", "--data", "{data}", "--model", "{model}", "--output", "{out}", "--seed", "-1",
      "--gradient-accumulation-steps", "0"], "error: gradient_accumulation_steps: must be an integer in [1, "),

    (["train", "--data", "{nopairs}", "--model", "{model}", "--output", "{out}"], "error: {nopairs}: no valid pairs"),
    (["evaluate", "--data", "{data}", "--model", "{model}", "--adapter", "{out}"], "error: {out}: no adapter_config"),
])
def test_bad_input_gives_one_error_line_and_exit_code_2(tmp_path, tiny_model_dir, vowel_data, args, message,
                                                        capsys):
    nopairs = tmp_path / "nopairs.json"
    nopairs.write_text(json.dumps([{"id": "a", "prompt": "p", "responses": ["x", "y"], "rankings": [0, 0]}]))
    fill = {"model": tiny_model_dir, "data": vowel_data, "out": str(tmp_path), "nopairs": str(nopairs)}
    code = main([a.format(**fill) for a in args])  # in-process: a subprocess per case costs ~10 s of imports
    assert code == 2
    stderr = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(stderr) == 1 and stderr[0].startswith(message.format(**fill)), stderr


def train_config(argv: list[str]) -> RankedGRPOConfig:
    """The config ``train`` would run with, from its flags (no training)."""
    return RankedGRPOConfig(**dataclass_values(RankedGRPOConfig, build_parser().parse_args(["train", *argv])))


BASE = ["--data", "d.jsonl", "--model", "m", "--output", "/tmp/unused"]


def test_train_takes_the_file_flags_and_each_field_by_its_own_name():
    config = train_config([*BASE, "--num-train-epochs", "2", "--learning-rate", "0.002", "--per-device-train-batch-size", "3",
                           "--loss", "orpo", "--lora-r", "4", "--max-length", "64", "--max-prompt-length", "32", "--seed", "7"])
    assert (config.data_path, config.model_name_or_path, config.output_dir) == ("d.jsonl", "m", "/tmp/unused")
    assert (config.num_train_epochs, config.learning_rate, config.per_device_train_batch_size) == (2.0, 0.002, 3)
    assert (config.loss, config.lora_r, config.max_length, config.max_prompt_length, config.seed) == ("orpo", 4, 64, 32, 7)
    assert build_parser().parse_args(["train", *BASE, "--resume"]).resume is True


@pytest.mark.parametrize("legacy", ["--epochs", "--lr", "--batch-size"])
def test_the_first_clis_second_names_for_fields_are_gone(legacy, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", *BASE, legacy, "2"])
    assert legacy in capsys.readouterr().err  # unrecognized (or, for --lr, ambiguous: --lr_scheduler_type ...)


def test_every_config_field_is_a_flag_with_underscores_and_dashes_and_its_help():
    train = next(a for a in build_parser()._subparsers._group_actions[0].choices.values() if a.prog.endswith("train"))
    flags = {option: action for action in train._actions for option in action.option_strings}
    for f in dataclasses.fields(RankedGRPOConfig):
        if f.init:
            assert f"--{f.name}" in flags and f"--{f.name.replace('_', '-')}" in flags, f.name
    for name in ("loss", "beta", "gradient_accumulation_steps", "max_prompt_length"):
        assert flags[f"--{name}"].help == RankedGRPOConfig.__dataclass_fields__[name].metadata["help"]
    config = train_config([*BASE, "--gradient-accumulation-steps", "4", "--warmup_steps", "3", "--weighting", "log"])
    assert (config.gradient_accumulation_steps, config.warmup_steps, config.weighting) == (4, 3, "log")


def test_max_length_alone_shrinks_the_prompt_budget_instead_of_refusing():
    assert train_config([*BASE, "--max-length", "256"]).max_prompt_length == 128
    assert train_config([*BASE, "--max-length", "100", "--max-prompt-length", "80"]).max_prompt_length == 80


def test_train_requires_data_model_and_output_and_evaluate_refuses_an_unknown_dtype(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--data", "d.jsonl"])
    assert "--model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--data", "d", "--model", "m", "--dtype", "float16"])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_evaluate_takes_precision_and_prompt_budget_flags():
    args = build_parser().parse_args(["evaluate", "--data", "d", "--model", "m", "--quantization", "4bit",
                                      "--dtype", "bfloat16", "--max-prompt-length", "48", "--max-length", "96", "--json"])
    assert (args.quantization, args.dtype, args.max_prompt_length, args.max_length, args.json) == (
        "4bit", "bfloat16", 48, 96, True)


@pytest.mark.slow  # ~6 s alone, 40 s+ on a busy 2-core machine (importing torch)
def test_bad_input_through_python_m_exits_non_zero_with_one_line(tmp_path, tiny_model_dir):
    result = engine("evaluate", "--data", str(tmp_path / "missing.jsonl"), "--model", tiny_model_dir)
    assert result.returncode == 2
    assert error_line(result) == f"error: {tmp_path / 'missing.jsonl'}: no such file or directory"


@pytest.mark.slow
def test_make_tiny_model_train_and_evaluate_json(tmp_path, vowel_data):
    model = tmp_path / "tiny"
    made = engine("make-tiny-model", str(model), "--hidden-size", "64", "--layers", "2")
    assert made.returncode == 0, made.stderr
    trained = engine("train", "--data", vowel_data, "--model", str(model), "--output", str(tmp_path / "out"),
                     "--learning-rate", "5e-3", "--num-train-epochs", "2", "--beta", "0.5", "--max-length", "64", "--max-prompt-length", "32",
                     "--validation-fraction", "0.2", "--patience", "5", "--attn-implementation", "eager")
    assert trained.returncode == 0, trained.stderr
    assert "adapter saved to" in trained.stdout and "best validation loss" in trained.stdout
    evaluated = engine("evaluate", "--data", vowel_data, "--model", str(model), "--adapter",
                       str(tmp_path / "out" / "adapter"), "--max-length", "64", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(evaluated.stdout)
    assert metrics["pairwise_accuracy"] > metrics["base"]["pairwise_accuracy"]


@pytest.mark.slow  # a fresh interpreter importing torch
def test_engine_never_imports_django():
    code = "import sys, training.engine, training.engine.cli; sys.exit('django' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    assert subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT).returncode == 0
