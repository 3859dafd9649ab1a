"""The torch side of a judge (``judge.ModelJudge``): load the model, score responses (docs/judging.md)."""

from __future__ import annotations

import torch

from .config_fields import prompt_budget
from .data import GroupCollator, tokenize_group
from .judge_settings import JudgeSettings
from .metrics import evaluation_report, ranking_metrics
from .modeling import ModelLoadError, load_adapter, load_base_model, load_tokenizer, response_logps
from .records import has_valid_pair


def load_judge(settings: JudgeSettings, kind: str, device: str | None = None):
    """(tokenizer, model in eval mode) of a ``reward`` or ``causal`` judge."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(settings.model)
    if kind == "reward":
        return tokenizer, load_reward_model(settings.model, settings.adapter, device)
    model = load_base_model(settings.model, device=device)
    return tokenizer, (load_adapter(model, settings.adapter) if settings.adapter else model).eval()


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
