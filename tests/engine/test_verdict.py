"""The evaluation's verdict (tuned vs base on one pre-declared metric and scoring), the length
comparison, Holm-adjusted significance and the data-readiness report (issue 19 points 1, 2, 3, 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.engine.cli import main
from training.engine.evaluate import evaluate_model, verdict_settings
from training.engine.metrics import holm, holm_adjust, metric_terms, paired_change, scoring_changes
from training.engine.readiness import ALPHA_MIN, data_readiness, readiness_lines
from training.engine.verdict import (
    BETTER,
    NO_CHANGE,
    WORSE,
    build_verdict,
    length_controlled,
    shorter_better_terms,
    verdict_scoring,
)


def ranked_prompts(n: int, k: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    ranks = [list(range(k)) for _ in range(n)]
    lengths = [list(rng.permutation([10, 20, 30, 40][:k])) for _ in range(n)]
    good = [[float(k - r) for r in row] for row in ranks]  # agrees with the humans on every pair
    noise = [list(rng.normal(size=k)) for _ in range(n)]
    return ranks, lengths, good, noise


def test_the_scoring_matches_the_loss():
    assert verdict_scoring("grpo", False) == "sum_logp" and verdict_scoring("plackett-luce") == "sum_logp"
    assert verdict_scoring("grpo", True) == "mean_logp" and verdict_scoring("orpo", False) == "mean_logp"
    assert verdict_settings(None) == {"metric": "pairwise_accuracy", "scoring": "sum_logp"}
    with pytest.raises(ValueError, match="primary_metric: must be one of"):
        verdict_settings(None, primary_metric="f1")
    with pytest.raises(ValueError, match="scoring: must be one of sum_logp, mean_logp"):
        verdict_settings(None, scoring="implicit_reward")  # the base model has no implicit reward


def test_verdict_outcomes_follow_the_paired_interval():
    ranks, lengths, good, noise = ranked_prompts(40)
    better = build_verdict("pairwise_accuracy", "sum_logp", noise, good, ranks, lengths)
    assert better["outcome"] == BETTER and better["low"] > 0 and better["tuned"] == 1.0
    assert better["delta"] == pytest.approx(better["tuned"] - better["base"])
    assert better["base_low"] <= better["base"] <= better["base_high"]
    assert build_verdict("pairwise_accuracy", "sum_logp", good, noise, ranks, lengths)["outcome"] == WORSE
    same = build_verdict("ndcg", "sum_logp", noise, noise, ranks, lengths)
    assert same["outcome"] == NO_CHANGE and same["delta"] == 0 and same["metric"] == "ndcg"
    json.dumps(better)


def test_verdict_states_the_length_baseline_and_the_length_controlled_accuracy():
    ranks, lengths, good, noise = ranked_prompts(40)
    longer = [[float(n) for n in row] for row in lengths]  # a tuned model that learnt "longer is better"
    verdict = build_verdict("pairwise_accuracy", "sum_logp", noise, longer, ranks, lengths)
    assert verdict["longer"]["delta"] == 0 and verdict["longer"]["outcome"].startswith("no detectable difference")
    assert verdict["length_controlled"]["tuned"] == 0.0  # wrong on every pair whose better response is shorter
    real = build_verdict("pairwise_accuracy", "sum_logp", noise, good, ranks, lengths)
    assert real["longer"]["outcome"] == "beats longer is better" and real["longer"]["low"] > 0
    assert real["length_controlled"]["tuned"] == 1.0


def test_length_controlled_pairs_are_those_whose_better_response_is_shorter():
    terms = shorter_better_terms([[1.0, 3.0, 2.0]], [[0, 1, 2]], [[5, 10, 1]])
    # pairs (0,1) better shorter: wrong; (0,2) better longer: left out; (1,2) better longer: left out
    assert terms.tolist() == [[0.0, 1.0]]
    tied = length_controlled([[1.0, 1.0]], [[2.0, 1.0]], [[0, 1]], [[3, 9]])
    assert tied["base"] == 0.5 and tied["tuned"] == 1.0 and tied["n_pairs"] == 1


def test_holm_adjusts_a_family_of_p_values():
    adjusted = holm_adjust({"a": 0.01, "b": 0.04, "c": 0.03, "d": None})
    assert adjusted == {"a": pytest.approx(0.03), "b": pytest.approx(0.06), "c": pytest.approx(0.06), "d": None}
    marked = holm({"a": {"p_value": 0.01, "significant": True}, "b": {"p_value": 0.04, "significant": True},
                   "c": {"p_value": 0.03, "significant": True}})
    assert [marked[k]["significant"] for k in "abc"] == [True, False, False]
    assert marked["b"]["significant_unadjusted"] is True


def test_paired_change_has_a_bootstrap_p_value_and_scoring_changes_are_holm_adjusted():
    ranks, lengths, good, noise = ranked_prompts(40)
    change = paired_change(metric_terms(noise, ranks), metric_terms(good, ranks))
    assert change["pairwise_accuracy"]["p_value"] < 0.05 and change["pairwise_accuracy"]["significant"]
    report = {"scorings": {"sum_logp": {"prompt_terms": {k: v.tolist() for k, v in metric_terms(noise, ranks).items()}}}}
    after = {"scorings": {"sum_logp": {"prompt_terms": {k: v.tolist() for k, v in metric_terms(good, ranks).items()}}}}
    family = scoring_changes(report, after)["sum_logp"]
    assert all("p_holm" in entry for entry in family.values())
    assert family["pairwise_accuracy"]["p_holm"] >= family["pairwise_accuracy"]["p_value"]


@pytest.fixture(scope="module")
def trained_adapter(tmp_path_factory, tiny_model_dir):
    from training.engine import RankedGRPOConfig, run_training
    from training.engine.synthetic import vowel_ranked_records, write_jsonl

    folder = tmp_path_factory.mktemp("verdict")
    data = write_jsonl(vowel_ranked_records(64, 4), folder / "vowels.jsonl")
    config = RankedGRPOConfig(output_dir=str(folder / "run"), model_name_or_path=tiny_model_dir, data_path=data,
                              learning_rate=5e-3, num_train_epochs=1, beta=0.5, max_length=64, max_prompt_length=32,
                              kl_samples=0, primary_metric="ndcg", disable_tqdm=True)
    return data, run_training(config)["adapter_dir"]


def test_evaluate_leads_with_the_verdict_and_flat_metrics_use_its_scoring(tiny_model_dir, trained_adapter):
    data, adapter = trained_adapter
    metrics = evaluate_model(tiny_model_dir, data, adapter_dir=adapter, max_length=64, batch_size=8, robustness=False)
    verdict = metrics["verdict"]
    assert verdict["metric"] == "ndcg" and verdict["scoring"] == "sum_logp"  # from the adapter's training config
    assert {"base", "tuned", "delta", "low", "high", "outcome", "longer", "length_controlled"} <= set(verdict)
    assert verdict["outcome"] in (BETTER, NO_CHANGE, WORSE)
    assert metrics["scoring"] == metrics["default_scoring"] == "sum_logp"
    assert metrics["ndcg"] == metrics["scorings"]["sum_logp"]["metrics"]["ndcg"]["value"] == verdict["tuned"]
    assert metrics["base"]["ndcg"] == metrics["base"]["scorings"]["sum_logp"]["metrics"]["ndcg"]["value"] == verdict["base"]
    assert metrics["change"]["sum_logp"]["ndcg"]["delta"] == pytest.approx(verdict["delta"])
    assert metrics["change"]["implicit_reward"]["ndcg"]["versus"] == "chance"  # never a base-model figure
    assert metrics["change"]["implicit_reward"]["ndcg"]["before"] == pytest.approx(metrics["chance"]["ndcg"])
    mean = evaluate_model(tiny_model_dir, data, adapter_dir=adapter, max_length=64, robustness=False, scoring="mean_logp")
    assert mean["verdict"]["scoring"] == "mean_logp" and mean["ndcg"] == mean["scorings"]["mean_logp"]["metrics"]["ndcg"]["value"]


def test_cli_evaluate_json_has_the_verdict_and_text_leads_with_it(tiny_model_dir, trained_adapter, capsys):
    data, adapter = trained_adapter
    common = ["evaluate", "--data", data, "--model", tiny_model_dir, "--adapter", adapter, "--max-length", "64"]
    assert main([*common, "--json", "--primary-metric", "pairwise_accuracy"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"]["metric"] == "pairwise_accuracy" and printed["scoring"] == "sum_logp"
    assert main(common) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("verdict: ") and "ndcg (sum_logp)" in lines[0]
    assert any(line.startswith("Significance is Holm-adjusted over the 6 changes") for line in lines)


# ---------------------------------------------------------------------------- is this data ready?
def record(ranks, annotators):
    return {"ranks": ranks, "annotator_ranks": annotators}


def test_readiness_figures_on_consistent_and_on_noisy_annotators():
    agreeing = [record([0, 1, 2], [[0, 1, 2], [0, 1, 2]]) for _ in range(10)]
    ready = data_readiness(agreeing)
    assert ready["krippendorff_alpha"] == pytest.approx(1.0) and ready["contested_pair_share"] == 0.0
    assert ready["single_annotator_share"] == 0.0 and ready["warnings"] == []
    noisy = [record([0, 1, 2], [[0, 1, 2], [2, 1, 0]]) for _ in range(10)] + [record([0, 1], [[0, 1]])] * 12
    report = data_readiness(noisy)
    assert report["krippendorff_alpha"] < ALPHA_MIN
    assert report["contested_pair_share"] == 1.0 and report["n_judged_pairs"] == 30
    assert report["single_annotator_share"] == pytest.approx(12 / 22)
    assert [w.split(" ")[0] for w in report["warnings"]] == ["Krippendorff's", "contested", "prompts"]
    assert "below 0.667" in report["warnings"][0]
    assert readiness_lines(report)[0].startswith("data agreement: Krippendorff's alpha")


def test_readiness_without_annotations_reports_no_figures():
    report = data_readiness([record([0, 1], [])])
    assert report["krippendorff_alpha"] is None and report["contested_pair_share"] is None
    assert report["single_annotator_share"] is None and report["warnings"] == []


def test_train_reports_the_data_agreement_before_the_run(tmp_path, tiny_model_dir, capsys):
    rows = [{"id": f"p{i}", "prompt": f"prompt {i}", "responses": ["aaa", "b", "cc"], "rankings": [0, 1, 2],
             "split": "train", "annotations": [{"annotator": "x", "rankings": [0, 1, 2]},
                                               {"annotator": "y", "rankings": [2, 1, 0]}]} for i in range(4)]
    data = tmp_path / "noisy.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code = main(["train", "--data", str(data), "--model", tiny_model_dir, "--output", str(tmp_path / "out"),
                 "--max-steps", "1", "--max-length", "32", "--kl-samples", "0", "--disable-tqdm", "true"])
    assert code == 0
    captured = capsys.readouterr()
    assert "data agreement: Krippendorff's alpha" in captured.out
    assert "warning: Krippendorff's alpha" in captured.err and "warning: contested pairs 100%" in captured.err
