"""``python -m training.engine``: the happy path and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.engine.cli import main

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
    (["train", "--data", "{data}", "--model", "{model}", "--output", "{out}", "--beta", "-1"], "error: beta: must be > 0"),
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
                     "--lr", "5e-3", "--epochs", "2", "--beta", "0.5", "--max-length", "64", "--max-prompt-length", "32")
    assert trained.returncode == 0, trained.stderr
    assert "adapter saved to" in trained.stdout
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
