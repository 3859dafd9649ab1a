"""Held-out evaluation of a base model, or base + LoRA adapter, against human rankings.

Responses are scored three ways (mean and summed token log-prob given the prompt, and the implicit
reward the training optimises). Metric definitions are in docs/training.md ("Evaluation metrics");
``metrics`` is the pure-numpy core.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch

from .config_fields import prompt_budget
from .data import GroupCollator, tokenize_group
from .metrics import _mean, dense_ranking, evaluation_report, kendall_tau_b, ranking_metrics, scoring_changes
from .modeling import load_adapter, load_base_model, load_tokenizer, response_logps
from .records import DataError, has_valid_pair, load_records, select_split
from .verdict import VERDICT_SCORINGS, build_verdict, check_primary_metric, verdict_scoring


def perturb_whitespace(text: str) -> str:
    """The whitespace variant scored for robustness: trimmed, first space doubled, one trailing space."""
    return re.sub(" ", "  ", text.strip(), count=1) + " "


class _Scorer:
    """Summed and mean response log-probs of groups under a loaded model."""

    def __init__(self, model, tokenizer, *, max_length: int, max_prompt_length: int, batch_size: int):
        self.model, self.tokenizer = model, tokenizer
        self.max_length, self.max_prompt_length, self.batch_size = max_length, max_prompt_length, batch_size
        self.collator = GroupCollator(pad_token_id=tokenizer.pad_token_id)
        self.device = next(p.device for p in model.parameters())

    @torch.no_grad()
    def score(self, records: list[dict]) -> tuple[list[list[float]], list[list[float]]]:
        groups = [tokenize_group(r, self.tokenizer, max_length=self.max_length,
                                 max_prompt_length=self.max_prompt_length) for r in records]
        sums, means = [], []
        for start in range(0, len(groups), self.batch_size):
            chunk = groups[start : start + self.batch_size]
            batch = {k: v.to(self.device) for k, v in self.collator(chunk).items()}
            logps = response_logps(self.model, batch["input_ids"], batch["attention_mask"],
                                   batch["completion_mask"]).float().cpu()
            counts = batch["completion_mask"][:, 1:].sum(dim=1).clamp(min=1).float().cpu()
            offset = 0
            for group in chunk:
                k = len(group["response_ids"])
                sums.append(logps[offset : offset + k].tolist())
                means.append((logps[offset : offset + k] / counts[offset : offset + k]).tolist())
                offset += k
        return sums, means


def _robustness(scorer: _Scorer, records: list[dict], means: list[list[float]]) -> dict:
    """Whether the model's ranking (mean log-prob) survives a whitespace perturbation of every response."""
    spaced_records = [dict(r, responses=[perturb_whitespace(x) for x in r["responses"]]) for r in records]
    _, spaced_means = scorer.score(spaced_records)
    original = [dense_ranking(m) for m in means]
    space_same = [dense_ranking(m) == o for m, o in zip(spaced_means, original, strict=True)]
    space_tau = [kendall_tau_b(np.asarray(s), np.asarray(dense_ranking(m)))
                 for s, m in zip(spaced_means, means, strict=True)]
    return {
        "whitespace_consistency": _mean([float(x) for x in space_same]),
        "whitespace_kendall_tau": _mean(space_tau),
    }


DTYPES = ("auto", "float32", "bfloat16")
DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential")  # transformers' device_map strategies


def training_settings(adapter_dir: str | None) -> dict:
    """The config an adapter was trained with (its ``grpo_training.json``), or {} without one."""
    summary = Path(adapter_dir or "") / "grpo_training.json"
    if not adapter_dir or not summary.is_file():
        return {}
    return json.loads(summary.read_text()).get("config", {})


def scoring_settings(adapter_dir: str | None, *, max_length: int | None = None, max_prompt_length: int | None = None,
                     quantization: str | None = None, dtype: str = "auto", beta: float | None = None,
                     device: str = "cpu") -> dict:
    """What is not given comes from the adapter's training config, else the engine's defaults; ``dtype`` "auto"
    is the training precision on a GPU (bf16 where supported) and float32 on CPU."""
    trained = training_settings(adapter_dir)
    if dtype not in DTYPES:
        raise ValueError(f"dtype: must be one of {', '.join(DTYPES)} (got {dtype!r})")
    max_length = max_length or trained.get("max_length") or 512
    prompt = max_prompt_length or trained.get("max_prompt_length")
    on_gpu = str(device).startswith("cuda")
    auto_bf16 = on_gpu and trained.get("bf16", torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return {
        "max_length": max_length,
        "max_prompt_length": prompt if prompt and prompt < max_length else prompt_budget(max_length),
        "quantization": quantization or trained.get("quantization") or "none",
        "bf16": dtype == "bfloat16" or (dtype == "auto" and bool(auto_bf16)),
        "beta": beta if beta is not None else float(trained.get("beta", 0.1)),
    }


def verdict_settings(adapter_dir: str | None, primary_metric: str | None = None, scoring: str | None = None) -> dict:
    """The verdict's metric and scoring: given, else the adapter's training config (its ``primary_metric``,
    and the log-prob scoring its loss trains: ``verdict_scoring``), else pairwise accuracy and sum_logp."""
    trained = training_settings(adapter_dir)
    scoring = scoring or verdict_scoring(trained.get("loss"), trained.get("length_normalize"))
    if scoring not in VERDICT_SCORINGS:
        raise ValueError(f"scoring: must be one of {', '.join(VERDICT_SCORINGS)} (got {scoring!r})")
    return {"metric": check_primary_metric(primary_metric or trained.get("primary_metric")), "scoring": scoring}


def evaluate_model(model_name_or_path: str, data_path: str, adapter_dir: str | None = None, split: str = "test",
                   max_length: int | None = None, batch_size: int = 8, *, max_prompt_length: int | None = None,
                   beta: float | None = None, quantization: str | None = None, dtype: str = "auto",
                   robustness: bool = True, device: str | None = None, primary_metric: str | None = None,
                   scoring: str | None = None, device_map: str | None = None) -> dict:
    """Score every response of the ``split`` records that hold a valid pair and compare with the humans.

    The model loads as training loaded it (``load_base_model``: quantization, bf16); settings left out
    follow ``scoring_settings``. Returns, per scoring (``mean_logp``, ``sum_logp``, ``implicit_reward``
    = beta * (sum log pi - sum log pi_ref); without an adapter the model is its own reference, every
    implicit reward is 0 and scores chance), every metric with its 95% bootstrap interval
    (``metrics.evaluation_report``), the chance level, the length baselines, the robustness strata and
    the whitespace robustness; with an adapter also ``base`` (the same for the base model), ``change``
    (paired before -> after, Holm-adjusted per scoring) and ``verdict`` (``verdict.build_verdict``: the
    pre-declared ``primary_metric`` under ``scoring``, see ``verdict_settings``). ``device_map`` ("auto")
    spreads the model over every visible GPU (``modeling.load_base_model``). The top-level metric
    keys are those of that one scoring, named by ``scoring``; ``per_prompt`` holds each prompt's id,
    scores (mean log-prob), summed log-probs, model and human rankings and response lengths.
    """
    declared = verdict_settings(adapter_dir, primary_metric, scoring)
    records = held_out_records(load_records(data_path), split, data_path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    settings = scoring_settings(adapter_dir, max_length=max_length, max_prompt_length=max_prompt_length,
                                quantization=quantization, dtype=dtype, beta=beta, device=device)
    tokenizer = load_tokenizer(model_name_or_path)
    model = load_base_model(model_name_or_path, quantization=settings["quantization"], bf16=settings["bf16"],
                            device=device, device_map=device_map)
    model = load_adapter(model, adapter_dir) if adapter_dir else model
    result = evaluate_loaded(model, tokenizer, records, settings=settings, declared=declared, batch_size=batch_size,
                             with_adapter=bool(adapter_dir), robustness=robustness)
    result.update(model=model_name_or_path, adapter_dir=adapter_dir, split=split)
    return result


def held_out_records(records: list[dict], split: str, data_path: str) -> list[dict]:
    """The ``split`` records that hold a valid pair; ``DataError`` when there are none."""
    kept = [r for r in select_split(records, split) if has_valid_pair(r["ranks"])]
    if not kept:
        raise DataError(f"{data_path}: no prompts with valid pairs in split {split!r}")
    return kept


def evaluate_loaded(model, tokenizer, records: list[dict], *, settings: dict, declared: dict, batch_size: int,
                    with_adapter: bool, robustness: bool = True) -> dict:
    """``evaluate_model``'s report on a model this process already holds (``with_adapter``: a PEFT model whose
    adapter is switched off for the base scores). ``settings``: ``scoring_settings``; ``declared``:
    ``verdict_settings``. The model is scored in eval mode and left in the mode it was in."""
    was_training = model.training
    model.eval()
    scorer = _Scorer(model, tokenizer, max_length=settings["max_length"], batch_size=batch_size,
                     max_prompt_length=settings["max_prompt_length"])
    try:
        sums, means = scorer.score(records)
        base = None
        if with_adapter:
            with model.disable_adapter():
                base = scorer.score(records)
        result = _report(records, sums, means, base, settings["beta"], declared)
        result["settings"] = {k: settings[k] for k in ("max_length", "max_prompt_length", "quantization", "bf16")}
        result["robustness"] = _robustness(scorer, records, means) if robustness else {}
    finally:
        model.train(was_training)
    return result


def _report(records: list[dict], sums, means, base, beta: float, declared: dict) -> dict:
    ranks = [r["ranks"] for r in records]
    annotators = [r.get("annotator_ranks") or [] for r in records]
    lengths = [[len(x) for x in r["responses"]] for r in records]
    base_sums, base_means = base or (sums, means)
    rewards = [[beta * (x - y) for x, y in zip(s, b, strict=True)] for s, b in zip(sums, base_sums, strict=True)]
    scorings = {"mean_logp": means, "sum_logp": sums, "implicit_reward": rewards}
    scoring = declared["scoring"]
    result = {**ranking_metrics(scorings[scoring], ranks), **evaluation_report(scorings, ranks, annotators, lengths)}
    result.update(beta=beta, scoring=scoring, default_scoring=scoring, primary_metric=declared["metric"])
    result["per_prompt"] = [{"id": r["id"], "scores": m, "ranking": dense_ranking(m), "human_ranking": r["ranks"],
                             "sum_logps": s, "lengths": n}
                            for r, m, s, n in zip(records, means, sums, lengths, strict=True)]
    if base:
        before = evaluation_report({"mean_logp": base_means, "sum_logp": base_sums,
                                    "implicit_reward": [[0.0] * len(s) for s in sums]}, ranks, annotators, lengths)
        base_scores = {"mean_logp": base_means, "sum_logp": base_sums}[scoring]
        result["base"] = {**ranking_metrics(base_scores, ranks), **before, "scoring": scoring}
        result["change"] = scoring_changes(before, result)
        for entry in result["change"]["implicit_reward"].values():  # the base model's rewards are all 0: chance
            entry["versus"] = "chance"
        result["verdict"] = build_verdict(declared["metric"], scoring, base_scores, scorings[scoring], ranks, lengths)
        for entry, bm, bs, reward in zip(result["per_prompt"], base_means, base_sums, rewards, strict=True):
            entry.update(base_scores=bm, base_sum_logps=bs, implicit_rewards=reward)
    return result
