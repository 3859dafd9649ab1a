"""Evaluate a job's base or tuned model on an export (``evaluation_compute``, shared by the job runner
and the comparison's "evaluate job J on project P") and store what ``training.engine.evaluate_model``
returned: aggregate metrics and per-prompt rankings."""

from __future__ import annotations

import math
from pathlib import Path

from django.db import transaction

from ranking_app.models import ExportSnapshot, Prompt
from training.engine.metrics import dense_ranking

from ..engine.verdict import PRIMARY_METRIC, verdict_scoring
from ..models import EvaluationResult, PromptEvaluation, TrainingJob

AGGREGATE_KEYS = (
    "n_prompts", "accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy", "n_pairs", "adjacent_pair_accuracy",
    "robustness", "beta", "scorings", "chance", "baselines", "human_length_spearman", "default_scoring", "change",
    "scoring", "primary_metric", "verdict", "base",
)  # fmt: skip


def load_engine():
    """The training engine module (imported on first use: torch takes a while; tests swap in a fake)."""
    import training.engine

    return training.engine


def evaluation_compute(*, engine, job: TrainingJob, data_path: str | Path, split: str = "test",
                       adapter: str | Path | None = None) -> dict:
    """Score ``split`` of the export at ``data_path`` with the job's base model, plus ``adapter`` when
    given (then the result also holds the base model's half: see ``base_half``), with the job's settings."""
    config = job.config or {}
    return engine.evaluate_model(
        config.get("model_name_or_path") or job.base_model, str(data_path),
        adapter_dir=str(adapter) if adapter else None, split=split,
        max_length=int(config.get("max_length", 512)), max_prompt_length=config.get("max_prompt_length"),
        batch_size=max(1, int(config.get("per_device_train_batch_size", 4))),
        quantization=config.get("quantization", "none"), beta=config.get("beta"),
        primary_metric=config.get("primary_metric") or PRIMARY_METRIC,
        scoring=verdict_scoring(config.get("loss"), config.get("length_normalize")),
    )  # fmt: skip


def base_half(result: dict) -> dict:
    """The base model's half of an adapter evaluation, shaped like a base-only ``evaluate_model`` result."""
    per_prompt = [
        {"id": entry["id"], "scores": entry["base_scores"], "ranking": dense_ranking(entry["base_scores"]),
         "human_ranking": entry.get("human_ranking", []), "sum_logps": entry.get("base_sum_logps")}
        for entry in result["per_prompt"]
    ]  # fmt: skip
    return {**result.get("base", {}), "per_prompt": per_prompt}


@transaction.atomic
def evaluation_store(
    *, job: TrainingJob, model: str, result: dict, export: ExportSnapshot | None = None, split: str = "test"
) -> EvaluationResult:
    """Replace the job's evaluation of ``model`` on ``export``/``split`` with ``result``."""
    export = export or job.export
    EvaluationResult.objects.filter(job=job, model=model, export=export, split=split).delete()
    evaluation = EvaluationResult.objects.create(
        job=job, model=model, project=export.project, export=export, split=split,
        n_prompts=int(result.get("n_prompts") or len(result.get("per_prompt", []))),
        metrics=finite({key: result[key] for key in AGGREGATE_KEYS if key in result}),
    )  # fmt: skip
    per_prompt = result.get("per_prompt", [])
    prompt_ids = dict(
        Prompt.objects.filter(project=export.project, external_id__in=[str(p["id"]) for p in per_prompt])
        .values_list("external_id", "id")
    )
    PromptEvaluation.objects.bulk_create(
        PromptEvaluation(
            evaluation=evaluation, prompt_id=prompt_ids.get(str(entry["id"])), external_id=str(entry["id"]),
            scores=finite(entry["scores"]), ranking=entry["ranking"], human_ranking=entry.get("human_ranking", []),
            implicit_rewards=finite(entry.get("implicit_rewards")), sum_logps=finite(entry.get("sum_logps")),
        )
        for entry in per_prompt
    )  # fmt: skip
    return evaluation


def finite(value):
    """JSON-safe copy: NaN and infinities (e.g. an undefined Kendall tau) become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value
