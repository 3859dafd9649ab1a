"""One engine process per job: ``train --evaluate_base_output --evaluate_output`` parses the data once, loads
the base model once (base evaluation, reference pass, training, tuned evaluation) and reports what the
separate ``evaluate`` commands report."""

from __future__ import annotations

import json

import pytest
import transformers

from training.engine import records as engine_records
from training.engine.cli import main
from training.engine.evaluate import evaluate_model

TINY = ["--lora_r", "4", "--lora_alpha", "8", "--max_length", "64", "--per_device_train_batch_size", "8",
        "--num_train_epochs", "2", "--learning_rate", "0.005", "--beta", "0.5", "--save_steps", "1000",
        "--quantization", "none", "--disable_tqdm", "true"]


@pytest.fixture
def counted(monkeypatch) -> dict:
    """How often this process parses a data file and loads a base model's weights."""
    counts = {"parses": 0, "model_loads": 0}
    parse, load = engine_records._read_json_records, transformers.AutoModelForCausalLM.from_pretrained

    def counted_parse(*args, **kwargs):
        counts["parses"] += 1
        return parse(*args, **kwargs)

    def counted_load(*args, **kwargs):
        counts["model_loads"] += 1
        return load(*args, **kwargs)

    monkeypatch.setattr(engine_records, "_read_json_records", counted_parse)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", counted_load)
    return counts


def test_one_process_parses_once_loads_the_model_once_and_reports_what_evaluate_reports(
        tmp_path, tiny_model_dir, vowel_data, counted):
    out, base_json, tuned_json = tmp_path / "run", tmp_path / "base.json", tmp_path / "tuned.json"
    code = main(["train", "--data", vowel_data, "--model", tiny_model_dir, "--output", str(out), *TINY,
                 "--evaluate_base_output", str(base_json), "--evaluate_output", str(tuned_json)])
    assert code == 0
    assert counted == {"parses": 1, "model_loads": 1}
    base, tuned = json.loads(base_json.read_text()), json.loads(tuned_json.read_text())
    adapter = out / "adapter"
    assert "Held-out evaluation" in (adapter / "README.md").read_text()

    separate_base = evaluate_model(tiny_model_dir, vowel_data, max_length=64, batch_size=8, beta=0.5)
    separate_tuned = evaluate_model(tiny_model_dir, vowel_data, adapter_dir=str(adapter), max_length=64, batch_size=8)
    for together, apart in ((base, separate_base), (tuned, separate_tuned)):
        assert together["settings"] == apart["settings"] and together["n_pairs"] == apart["n_pairs"] > 0
        for mine, theirs in zip(together["per_prompt"], apart["per_prompt"], strict=True):
            assert mine["id"] == theirs["id"]
            assert mine["sum_logps"] == pytest.approx(theirs["sum_logps"], abs=1e-4)
        assert together["pairwise_accuracy"] == pytest.approx(apart["pairwise_accuracy"])
    assert tuned["verdict"]["outcome"] == separate_tuned["verdict"]["outcome"] == "better than base"
    assert tuned["base"]["pairwise_accuracy"] == pytest.approx(base["pairwise_accuracy"])


def test_evaluating_in_the_run_is_refused_under_a_distributed_launch(tmp_path, tiny_model_dir, vowel_data,
                                                                    monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    code = main(["train", "--data", vowel_data, "--model", tiny_model_dir, "--output", str(tmp_path), *TINY,
                 "--evaluate_output", str(tmp_path / "tuned.json")])
    assert code == 2
    assert "evaluate_output: not with several processes" in capsys.readouterr().err
