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

import torch

from .config import prompt_budget
from .data import GroupCollator, has_valid_pair, tokenize_group
from .metrics import evaluation_report, ranking_metrics
from .modeling import ModelLoadError, load_adapter, load_base_model, load_tokenizer, response_logps

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
        problems = {}
        if self.kind not in JUDGE_KINDS:
            problems["kind"] = f"must be one of {', '.join(JUDGE_KINDS)} (got {self.kind!r})"
        problems.update(_template_errors(self.template))
        if not self.verdict:
            problems["verdict"] = "must not be empty"
        if not isinstance(self.tie_epsilon, (int, float)) or not 0 <= self.tie_epsilon <= 1e6:
            problems["tie_epsilon"] = f"must be a number from 0 to 1e6 (got {self.tie_epsilon!r})"
        if not isinstance(self.max_length, int) or not 16 <= self.max_length <= 131072:
            problems["max_length"] = f"must be an integer from 16 to 131072 (got {self.max_length!r})"
        if not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= 4096:
            problems["batch_size"] = f"must be an integer from 1 to 4096 (got {self.batch_size!r})"
        return problems


def _template_errors(template: str) -> dict[str, str]:
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
        raise ModelLoadError(f"cannot read the config of model {model!r}: {error}") from None
    return "reward" if any(a.endswith("ForSequenceClassification") for a in architectures) else "causal"


def load_reward_model(model: str, adapter: str | None = None, device: str = "cpu"):
    """A sequence classifier with one output (score), plus its adapter, in eval mode."""
    from transformers import AutoModelForSequenceClassification

    try:
        loaded = AutoModelForSequenceClassification.from_pretrained(model, num_labels=1, dtype=torch.float32)
    except Exception as error:
        raise ModelLoadError(f"cannot load reward model {model!r}: {str(error).splitlines()[0]}") from None
    if loaded.config.pad_token_id is None:
        loaded.config.pad_token_id = load_tokenizer(model).pad_token_id
    if adapter:
        loaded = load_adapter(loaded, adapter)
    return loaded.to(device).eval()


@torch.no_grad()
def reward_scores(model, tokenizer, records: list[dict], *, max_length: int, batch_size: int) -> list[list[float]]:
    """The reward model's score of every response of every record (prompt + response as training reads
    it), whole prompts per forward pass, about ``batch_size`` rows each."""
    collator = GroupCollator(pad_token_id=tokenizer.pad_token_id)
    device = next(model.parameters()).device
    groups = [tokenize_group({**r, "ranks": [0] * len(r["responses"])}, tokenizer, max_length=max_length,
                             max_prompt_length=prompt_budget(max_length)) for r in records]  # fmt: skip
    per_batch = max(1, batch_size // max(len(g["response_ids"]) for g in groups)) if groups else 1
    scores: list[list[float]] = []
    for start in range(0, len(groups), per_batch):
        chunk = groups[start : start + per_batch]
        batch = collator(chunk)
        logits = model(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device)).logits
        flat = logits[:, 0].float().cpu().tolist()
        offset = 0
        for group in chunk:
            k = len(group["response_ids"])
            scores.append(flat[offset : offset + k])
            offset += k
    return scores


def verdict_rows(tokenizer, settings: JudgeSettings, prompt: str, responses: list[str]) -> list[tuple[list[int], int]]:
    """(token ids of the filled template + verdict, number of verdict tokens) per response; the
    template part loses its start when the row would pass ``max_length``."""
    verdict_ids = list(tokenizer(text=settings.verdict, add_special_tokens=False)["input_ids"])
    room = max(1, settings.max_length - len(verdict_ids))
    rows = []
    for response in responses:
        question = settings.template.format(prompt=prompt, response=response)
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=True,
                                                return_dict=True, add_generation_prompt=True)["input_ids"]
        else:
            ids = tokenizer(text=question)["input_ids"]
        rows.append((list(ids)[-room:] + verdict_ids, len(verdict_ids)))
    return rows


@torch.no_grad()
def verdict_scores(model, tokenizer, settings: JudgeSettings, records: list[dict]) -> list[list[float]]:
    """Summed log-probability of the verdict after the judge question, per response of every record."""
    device = next(model.parameters()).device
    rows = [(index, row) for index, r in enumerate(records)
            for row in verdict_rows(tokenizer, settings, r["prompt"], r["responses"])]  # fmt: skip
    flat: list[float] = []
    for start in range(0, len(rows), settings.batch_size):
        chunk = [row for _, row in rows[start : start + settings.batch_size]]
        width = max(len(ids) for ids, _ in chunk)
        input_ids = torch.full((len(chunk), width), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        verdict_mask = torch.zeros_like(input_ids)
        for n, (ids, n_verdict) in enumerate(chunk):
            input_ids[n, : len(ids)] = torch.tensor(ids)
            attention[n, : len(ids)] = 1
            verdict_mask[n, len(ids) - n_verdict : len(ids)] = 1
        flat += response_logps(model, input_ids.to(device), attention.to(device), verdict_mask.to(device)).float().cpu().tolist()
    scores: list[list[float]] = [[] for _ in records]
    for (index, _), value in zip(rows, flat, strict=True):
        scores[index].append(value)
    return scores


class ModelJudge:
    """A loaded judge: ``judge(records)`` gives each record's scores and ranking."""

    def __init__(self, settings: JudgeSettings, device: str | None = None):
        self.settings = settings
        self.kind = settings.kind if settings.kind != "auto" else detect_kind(settings.model, settings.adapter)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = load_tokenizer(settings.model)
        if self.kind == "reward":
            self.model = load_reward_model(settings.model, settings.adapter, self.device)
        else:
            model = load_base_model(settings.model, device=self.device)
            self.model = (load_adapter(model, settings.adapter) if settings.adapter else model).eval()

    def scores(self, records: list[dict]) -> list[list[float]]:
        if self.kind == "reward":
            return reward_scores(self.model, self.tokenizer, records, max_length=self.settings.max_length,
                                 batch_size=self.settings.batch_size)
        return verdict_scores(self.model, self.tokenizer, self.settings, records)

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


def judge_report(records: list[dict], scores: list[list[float]]) -> dict | None:
    """The judge's scores against the human ranks of the records that hold a valid pair (the
    evaluation's metrics, chance level, length baselines and strata), or None when none does."""
    kept = [(r, s) for r, s in zip(records, scores, strict=True) if has_valid_pair(r["ranks"])]
    if not kept:
        return None
    ranks = [r["ranks"] for r, _ in kept]
    annotators = [r.get("annotator_ranks") or [] for r, _ in kept]
    lengths = [[len(x) for x in r["responses"]] for r, _ in kept]
    values = [s for _, s in kept]
    return {**ranking_metrics(values, ranks), **evaluation_report({"judge": values}, ranks, annotators, lengths),
            "n_prompts": len(kept)}  # fmt: skip
