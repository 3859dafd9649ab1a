"""A model as an annotator: score every response of a prompt and rank them (docs/judging.md).

Two kinds of judge:

* ``reward``: a sequence-classification model (``AutoModelForSequenceClassification``, one logit,
  e.g. the output of ``train-reward``), optionally with a LoRA adapter; the score of a response is
  the logit on prompt + response, tokenised as training tokenises it.
* ``causal``: a causal LM asked a question: the judge template (``DEFAULT_TEMPLATE`` unless given)
  is filled with the prompt and the response, and the score is the summed log-probability of the
  verdict tokens (``" Yes"`` by default) right after it.

``kind="auto"`` picks ``reward`` when the model's config (or the adapter's task type) is a
sequence classifier, ``causal`` otherwise. Scores become a ranking (``tiers_from_scores``): higher
is better, and responses whose scores lie within ``tie_epsilon`` of a tier's best score share it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .judge_settings import JudgeSettings


def tiers_from_scores(scores: list[float], epsilon: float = 0.0) -> list[list[int]]:
    """Positions best first (highest score); a tier holds every score within ``epsilon`` of its best."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    tiers: list[list[int]] = []
    anchor = None
    for position in order:
        if anchor is None or anchor - scores[position] > epsilon:
            tiers.append([])
            anchor = scores[position]
        tiers[-1].append(position)
    return [sorted(tier) for tier in tiers]


def ranks_from_tiers(tiers: list[list[int]], n_responses: int) -> list[int | None]:
    """Exchange-format ranks (0 best, equal = tie, None = in no tier) of ``tiers``."""
    ranks: list[int | None] = [None] * n_responses
    for tier_index, tier in enumerate(tiers):
        for position in tier:
            ranks[position] = tier_index
    return ranks


def detect_kind(model: str, adapter: str | None = None) -> str:
    """"reward" for a sequence classifier (model config or adapter task type), else "causal"."""
    adapter_config = Path(adapter or "") / "adapter_config.json"
    if adapter and adapter_config.is_file():
        if json.loads(adapter_config.read_text()).get("task_type") == "SEQ_CLS":
            return "reward"
    config_file = Path(model) / "config.json"
    if config_file.is_file():
        architectures = json.loads(config_file.read_text()).get("architectures") or []
        return "reward" if any(a.endswith("ForSequenceClassification") for a in architectures) else "causal"
    from transformers import AutoConfig

    try:
        architectures = AutoConfig.from_pretrained(model).architectures or []
    except Exception as error:  # hub/network/format errors come in many types
        raise ValueError(f"cannot read the config of model {model!r}: {error}") from None
    return "reward" if any(a.endswith("ForSequenceClassification") for a in architectures) else "causal"


class ModelJudge:
    """A loaded judge: ``judge(records)`` gives each record's scores and ranking (torch loads here, so
    the settings above stay importable by the web process)."""

    def __init__(self, settings: JudgeSettings, device: str | None = None):
        from . import judge_scoring

        self.settings, self.scoring = settings, judge_scoring
        self.kind = settings.kind if settings.kind != "auto" else detect_kind(settings.model, settings.adapter)
        self.tokenizer, self.model = judge_scoring.load_judge(settings, self.kind, device)

    def scores(self, records: list[dict]) -> list[list[float]]:
        if self.kind == "reward":
            return self.scoring.reward_scores(self.model, self.tokenizer, records, max_length=self.settings.max_length,
                                              batch_size=self.settings.batch_size)
        return self.scoring.verdict_scores(self.model, self.tokenizer, self.settings, records)

    def judge(self, records: list[dict]) -> list[dict]:
        """``{"id", "scores", "rankings"}`` per record (rankings: exchange ranks, 0 best)."""
        results = []
        for record, scores in zip(records, self.scores(records), strict=True):
            tiers = tiers_from_scores(scores, self.settings.tie_epsilon)
            results.append({"id": record["id"], "scores": scores, "rankings": ranks_from_tiers(tiers, len(scores))})
        return results

    def close(self) -> None:
        from .memory import release_memory

        self.model = None
        release_memory()
