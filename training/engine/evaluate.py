"""Held-out evaluation of a base model, or base + LoRA adapter, against human rankings.

A response's model score is its mean token log-prob given the prompt. Metric definitions are in
docs/training.md ("Evaluation metrics"); ``ranking_metrics`` is the pure-numpy core.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import torch

from .data import DataError, GroupCollator, has_valid_pair, load_records, select_split, tokenize_group
from .modeling import load_adapter, load_base_model, load_tokenizer, response_logps


def dense_ranking(scores) -> list[int]:
    """Model ranking as dense tiers, 0 = highest score; equal scores share a tier."""
    distinct = sorted(set(scores), reverse=True)
    tier_of = {value: tier for tier, value in enumerate(distinct)}
    return [tier_of[s] for s in scores]


def relevance(ranks: np.ndarray) -> np.ndarray:
    """nDCG gain of each response: number of tiers below it; unranked responses get 0."""
    worst = ranks.max()
    return np.where(ranks >= 0, worst - ranks, 0).astype(float)


def ndcg(gains: np.ndarray, scores: np.ndarray) -> float:
    """nDCG with tied scores averaged, exactly as ``sklearn.metrics.ndcg_score`` (ignore_ties=False)."""
    discount_cumsum = np.cumsum(1.0 / np.log2(np.arange(len(gains)) + 2))
    ideal = _tie_averaged_dcg(gains, gains, discount_cumsum)
    return 0.0 if ideal == 0 else _tie_averaged_dcg(gains, scores, discount_cumsum) / ideal


def _tie_averaged_dcg(gains, scores, discount_cumsum) -> float:
    _, inverse, counts = np.unique(-np.asarray(scores, dtype=float), return_inverse=True, return_counts=True)
    group_gain = np.zeros(len(counts))
    np.add.at(group_gain, inverse, gains)
    group_gain /= counts
    ends = np.cumsum(counts) - 1
    discount_sums = np.diff(np.concatenate([[0.0], discount_cumsum[ends]]))
    return float((group_gain * discount_sums).sum())


def kendall_tau_b(scores: np.ndarray, ranks: np.ndarray) -> float:
    """Kendall tau-b between model scores and human order over the ranked responses (nan if undefined)."""
    from scipy.stats import kendalltau

    ranked = ranks >= 0
    if ranked.sum() < 2:
        return math.nan
    return float(kendalltau(scores[ranked], -ranks[ranked]).statistic)


def _pair_outcomes(scores: np.ndarray, ranks: np.ndarray, adjacent_only: bool = False) -> list[float]:
    i, j = np.nonzero((ranks[:, None] >= 0) & (ranks[None, :] >= 0) & (ranks[:, None] < ranks[None, :]))
    if adjacent_only:
        keep = ranks[j] - ranks[i] == 1
        i, j = i[keep], j[keep]
    return list(np.where(scores[i] > scores[j], 1.0, np.where(scores[i] == scores[j], 0.5, 0.0)))


def _mean(values) -> float | None:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else None


def ranking_metrics(scores_per_prompt: list[list[float]], ranks_per_prompt: list[list[int]]) -> dict:
    """Top-1 accuracy, nDCG, MRR, Kendall tau-b (means over prompts), pairwise and adjacent-tier pairwise
    accuracy (over all valid pairs, a tied score counting half)."""
    top1, ndcgs, rrs, taus, pairs, adjacent = [], [], [], [], [], []
    for raw_scores, raw_ranks in zip(scores_per_prompt, ranks_per_prompt, strict=True):
        scores, ranks = np.asarray(raw_scores, dtype=float), np.asarray(raw_ranks)
        top1.append(float(ranks[int(np.argmax(scores))] == 0))
        ndcgs.append(ndcg(relevance(ranks), scores))
        order = np.argsort(-scores, kind="stable")
        first_top = int(np.nonzero(ranks[order] == 0)[0][0])
        rrs.append(1.0 / (first_top + 1))
        taus.append(kendall_tau_b(scores, ranks))
        pairs += _pair_outcomes(scores, ranks)
        adjacent += _pair_outcomes(scores, ranks, adjacent_only=True)
    return {
        "n_prompts": len(top1),
        "accuracy": _mean(top1),
        "ndcg": _mean(ndcgs),
        "mrr": _mean(rrs),
        "kendall_tau": _mean(taus),
        "pairwise_accuracy": _mean(pairs),
        "n_pairs": len(pairs),
        "adjacent_pair_accuracy": _mean(adjacent),
    }


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


def _robustness(scorer: _Scorer, records: list[dict], means: list[list[float]], ranks: list[list[int]]) -> dict:
    reversed_records = [dict(r, responses=r["responses"][::-1]) for r in records]
    _, reversed_means = scorer.score(reversed_records)
    spaced_records = [dict(r, responses=[perturb_whitespace(x) for x in r["responses"]]) for r in records]
    _, spaced_means = scorer.score(spaced_records)
    original = [dense_ranking(m) for m in means]
    order_same = [dense_ranking(m[::-1]) == o for m, o in zip(reversed_means, original, strict=True)]
    space_same = [dense_ranking(m) == o for m, o in zip(spaced_means, original, strict=True)]
    space_tau = [kendall_tau_b(np.asarray(s), np.asarray(dense_ranking(m)))
                 for s, m in zip(spaced_means, means, strict=True)]
    return {
        "adjacent_pair_accuracy": ranking_metrics(means, ranks)["adjacent_pair_accuracy"],
        "order_consistency": _mean([float(x) for x in order_same]),
        "whitespace_consistency": _mean([float(x) for x in space_same]),
        "whitespace_kendall_tau": _mean(space_tau),
    }


def _adapter_beta(adapter_dir: str | None, beta: float | None) -> float:
    if beta is not None:
        return beta
    summary = Path(adapter_dir or "") / "grpo_training.json"
    if adapter_dir and summary.is_file():
        return float(json.loads(summary.read_text())["config"].get("beta", 0.1))
    return 0.1


def evaluate_model(model_name_or_path: str, data_path: str, adapter_dir: str | None = None, split: str = "test",
                   max_length: int = 512, batch_size: int = 8, *, max_prompt_length: int | None = None,
                   beta: float | None = None, quantization: str = "none", robustness: bool = True,
                   device: str | None = None) -> dict:
    """Score every response of the ``split`` records that hold a valid pair and compare with the humans.

    Returns the metrics of ``ranking_metrics`` plus ``robustness`` and ``per_prompt`` (id, scores,
    model ranking as dense tiers, human ranking); with an adapter also ``base`` (the base model's
    metrics) and per-prompt ``base_scores`` and ``implicit_rewards`` = beta * (log pi - log pi_ref).
    """
    records = [r for r in select_split(load_records(data_path), split) if has_valid_pair(r["ranks"])]
    if not records:
        raise DataError(f"{data_path}: no prompts with valid pairs in split {split!r}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(model_name_or_path)
    model = load_base_model(model_name_or_path, quantization=quantization, device=device)
    if adapter_dir:
        model = load_adapter(model, adapter_dir)
    model.eval()
    scorer = _Scorer(model, tokenizer, max_length=max_length, batch_size=batch_size,
                     max_prompt_length=max_prompt_length or max(1, max_length // 2))
    ranks = [r["ranks"] for r in records]
    sums, means = scorer.score(records)
    result = {"model": model_name_or_path, "adapter_dir": adapter_dir, "split": split, **ranking_metrics(means, ranks)}
    result["robustness"] = _robustness(scorer, records, means, ranks) if robustness else {}
    per_prompt = [{"id": r["id"], "scores": m, "ranking": dense_ranking(m), "human_ranking": r["ranks"]}
                  for r, m in zip(records, means, strict=True)]
    if adapter_dir:
        with model.disable_adapter():
            base_sums, base_means = scorer.score(records)
            result["base"] = ranking_metrics(base_means, ranks)
        result["beta"] = _adapter_beta(adapter_dir, beta)
        for entry, s, b, bm in zip(per_prompt, sums, base_sums, base_means, strict=True):
            entry["base_scores"] = bm
            entry["implicit_rewards"] = [result["beta"] * (x - y) for x, y in zip(s, b, strict=True)]
    result["per_prompt"] = per_prompt
    return result
