"""A model as an annotator (training/engine/judge.py) and the reward model it can be (training/engine/reward.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification

from training.engine.cli import main
from training.engine.judge import (
    ModelJudge,
    detect_kind,
    ranks_from_tiers,
    tiers_from_scores,
)
from training.engine.judge_scoring import verdict_rows
from training.engine.judge_settings import DEFAULT_TEMPLATE, JudgeSettings
from training.engine.modeling import load_tokenizer
from training.engine.records import load_records, select_split
from training.engine.reward import RewardConfig, reward_loss, train_reward_model


def test_scores_become_tiers_best_first_with_ties_within_epsilon():
    assert tiers_from_scores([0.1, 0.9, 0.5, 0.88], 0.0) == [[1], [3], [2], [0]]
    assert tiers_from_scores([0.1, 0.9, 0.5, 0.88], 0.05) == [[1, 3], [2], [0]]
    # a tier is anchored at its best score: 0.9 and 0.86 are 0.04 apart, 0.82 is 0.08 from 0.9
    assert tiers_from_scores([0.9, 0.86, 0.82], 0.05) == [[0, 1], [2]]
    assert ranks_from_tiers([[1, 3], [2], [0]], 4) == [2, 0, 1, 0]


def test_judge_settings_name_every_bad_field():
    with pytest.raises(ValueError) as caught:
        JudgeSettings(model="m", kind="oracle", template="no placeholders", verdict="", tie_epsilon=-1, batch_size=0)
    message = str(caught.value)
    for name in ("kind", "template", "verdict", "tie_epsilon", "batch_size"):
        assert f"{name}:" in message
    with pytest.raises(ValueError, match="template"):
        JudgeSettings(model="m", template="{prompt} {response} {other}")


def test_causal_judge_scores_the_verdict_after_the_template(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    settings = JudgeSettings(model=tiny_model_dir, verdict=" Yes", max_length=400)
    rows = verdict_rows(tokenizer, settings, "Say hi", ["hello there", "x" * 500])
    verdict_ids = tokenizer(text=" Yes", add_special_tokens=False)["input_ids"]
    for ids, n_verdict in rows:
        assert n_verdict == len(verdict_ids) and ids[-n_verdict:] == verdict_ids and len(ids) <= 400
    assert len(rows[1][0]) == 400  # the long row lost the start of its question, never the verdict
    question = DEFAULT_TEMPLATE.format(prompt="Say hi", response="hello there")
    assert tokenizer.decode(rows[0][0][:-n_verdict], skip_special_tokens=True) == question


def test_causal_judge_ranks_every_response_and_a_different_verdict_changes_scores(tiny_model_dir, vowel_data):
    records = load_records(vowel_data)[:3]
    yes = ModelJudge(JudgeSettings(model=tiny_model_dir, tie_epsilon=0.0))
    assert yes.kind == "causal"
    results = yes.judge(records)
    assert [r["id"] for r in results] == [r["id"] for r in records]
    for record, result in zip(records, results, strict=True):
        assert len(result["scores"]) == len(record["responses"]) and all(s < 0 for s in result["scores"])
        assert sorted(set(result["rankings"])) == list(range(len(set(result["scores"]))))
    no = ModelJudge(JudgeSettings(model=tiny_model_dir, verdict=" No")).judge(records)
    assert no[0]["scores"] != results[0]["scores"]
    everything_tied = ModelJudge(JudgeSettings(model=tiny_model_dir, tie_epsilon=1e5)).judge(records)
    assert all(set(r["rankings"]) == {0} for r in everything_tied)


def test_reward_losses_prefer_the_human_order():
    ranks = torch.tensor([[0, 1, 2, -1]])
    right, wrong = torch.tensor([[3.0, 2.0, 1.0, 0.0]]), torch.tensor([[1.0, 2.0, 3.0, 0.0]])
    for loss in ("bradley_terry", "plackett_luce"):
        assert reward_loss(right, ranks, loss) < reward_loss(wrong, ranks, loss)


def test_reward_config_names_every_bad_field(tmp_path):
    with pytest.raises(ValueError) as caught:
        RewardConfig(data_path="d", model_name_or_path="m", output_dir="o", loss="hinge", num_train_epochs=0,
                     learning_rate=5, batch_size=True)
    for name in ("loss", "num_train_epochs", "learning_rate", "batch_size"):
        assert f"{name}:" in str(caught.value)


@pytest.mark.parametrize("loss", ["bradley_terry", "plackett_luce"])
def test_train_reward_learns_the_ranking_and_saves_a_loadable_classifier(tiny_model_dir, vowel_data, tmp_path, loss):
    output = tmp_path / "reward"
    config = RewardConfig(data_path=vowel_data, model_name_or_path=tiny_model_dir, output_dir=str(output), loss=loss,
                          num_train_epochs=3, learning_rate=1e-3)
    summary = train_reward_model(config)
    assert summary["final_loss"] < summary["history"][0]["loss"]
    after = summary["evaluation"]["scorings"]["reward"]["metrics"]["pairwise_accuracy"]
    assert after["value"] > 0.8 and after["low"] > summary["evaluation"]["chance"]["pairwise_accuracy"]
    assert json.loads((output / "adapter" / "adapter_config.json").read_text())["task_type"] == "SEQ_CLS"
    loaded = AutoModelForSequenceClassification.from_pretrained(output)
    assert loaded.config.num_labels == 1 and loaded.config.architectures == ["LlamaForSequenceClassification"]
    assert "pairwise_accuracy" in (output / "README.md").read_text()
    assert detect_kind(str(output)) == "reward" and detect_kind(tiny_model_dir, str(output / "adapter")) == "reward"


def test_reward_model_judges_held_out_prompts_as_trained_through_merged_and_adapter(tiny_model_dir, vowel_data, tmp_path):
    output = tmp_path / "reward"
    train_reward_model(RewardConfig(data_path=vowel_data, model_name_or_path=tiny_model_dir, output_dir=str(output),
                                    num_train_epochs=3, learning_rate=1e-3))
    held_out = select_split(load_records(vowel_data), "test")
    merged = ModelJudge(JudgeSettings(model=str(output))).judge(held_out)
    adapter = ModelJudge(JudgeSettings(model=tiny_model_dir, adapter=str(output / "adapter"))).judge(held_out)
    assert merged[0]["scores"] == pytest.approx(adapter[0]["scores"], abs=1e-4)
    assert [r["rankings"] for r in merged] == [r["rankings"] for r in adapter]


def test_cli_judge_and_train_reward(tiny_model_dir, vowel_data, tmp_path, capsys):
    assert main(["train-reward", "--data", vowel_data, "--model", tiny_model_dir, "--output", str(tmp_path / "rm"),
                 "--num-train-epochs", "1", "--learning-rate", "1e-3", "--loss", "plackett_luce"]) == 0
    assert "held-out pairwise accuracy" in capsys.readouterr().out
    out = tmp_path / "ranked.jsonl"
    assert main(["judge", "--data", vowel_data, "--model", str(tmp_path / "rm"), "--output", str(out),
                 "--split", "test", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["kind"] == "reward" and printed["report"]["n_prompts"] == printed["n_prompts"]
    lines = [json.loads(line) for line in Path(out).read_text().splitlines()]
    assert len(lines) == printed["n_prompts"] and set(lines[0]) == {"id", "scores", "rankings"}
    assert main(["judge", "--data", vowel_data, "--model", tiny_model_dir, "--output", str(out),
                 "--template", "no placeholders"]) == 2
    assert "template: must contain {prompt} and {response}" in capsys.readouterr().err
