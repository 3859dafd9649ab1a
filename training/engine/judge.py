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
from dataclasses import dataclass, field
from pathlib import Path

JUDGE_KINDS = ("auto", "reward", "causal")
DEFAULT_TEMPLATE = (
    "You are reviewing an assistant's answer to a user's request.\n\n"
    "Request:\n{prompt}\n\n"
    "Answer:\n{response}\n\n"
    "Is this answer helpful, correct and clearly written? Reply Yes or No.\n"
    "Verdict:"
)
DEFAULT_VERDICT = " Yes"


@dataclass
class JudgeSettings:
    """How a model ranks responses (every field is a ``judge`` flag)."""

    model: str = field(metadata={"help": "Hub id or local folder of the judge model (causal LM or reward model)."})
    adapter: str | None = field(default=None, metadata={"help": "Folder of a LoRA adapter to put on the model."})
    kind: str = field(default="auto", metadata={"help": "reward (sequence classifier), causal (verdict log-prob) or auto (from the model's config).", "choices": JUDGE_KINDS})
    template: str = field(default=DEFAULT_TEMPLATE, metadata={"help": "Causal judge: the question, with {prompt} and {response} placeholders."})
    verdict: str = field(default=DEFAULT_VERDICT, metadata={"help": "Causal judge: the text whose log-probability after the template scores a response."})
    tie_epsilon: float = field(default=0.0, metadata={"help": "Responses whose scores lie within this of a tier's best score are tied."})
    max_length: int = field(default=512, metadata={"help": "Maximum tokens per scored row (prompt + response, or filled template + verdict)."})
    batch_size: int = field(default=8, metadata={"help": "Rows per forward pass."})

    def __post_init__(self):
        problems = self.errors()
        if problems:
            raise ValueError("; ".join(f"{name}: {message}" for name, message in problems.items()))

    def errors(self) -> dict[str, str]:
        """Every problem at once, by field (empty when the settings can be used)."""
        return settings_errors(vars(self))


def settings_errors(values: dict) -> dict[str, str]:
    """The problems of ``JudgeSettings`` field values (a partial dict is checked field by field)."""
    problems = {}
    if "kind" in values and values["kind"] not in JUDGE_KINDS:
        problems["kind"] = f"must be one of {', '.join(JUDGE_KINDS)} (got {values['kind']!r})"
    if "template" in values:
        problems.update(_template_errors(values["template"]))
    if "verdict" in values and not (isinstance(values["verdict"], str) and values["verdict"]):
        problems["verdict"] = "must be a non-empty text"
    for name, low, high in (("tie_epsilon", 0, 1e6), ("max_length", 16, 131072), ("batch_size", 1, 4096)):
        value = values.get(name, low)
        whole = name != "tie_epsilon"
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or not low <= value <= high:
            problems[name] = f"must be {'an integer' if whole else 'a number'} from {low:g} to {high:g} (got {value!r})"
    return problems


def _template_errors(template) -> dict[str, str]:
    if not isinstance(template, str):
        return {"template": "must be a text"}
    missing = [name for name in ("{prompt}", "{response}") if name not in template]
    if missing:
        return {"template": f"must contain {' and '.join(missing)}"}
    try:
        template.format(prompt="", response="")
    except (KeyError, IndexError, ValueError) as error:
        return {"template": f"only {{prompt}} and {{response}} may appear in braces (double other braces: {{{{ }}}}); {error!r}"}
    return {}


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
