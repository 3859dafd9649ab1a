"""Store what ``training.engine.evaluate_model`` returned: aggregate metrics and per-prompt rankings."""

from __future__ import annotations

import math

from django.db import transaction

from ranking_app.models import ExportSnapshot, Prompt

from ..models import EvaluationResult, PromptEvaluation, TrainingJob

AGGREGATE_KEYS = (
    "n_prompts", "accuracy", "ndcg", "mrr", "kendall_tau", "pairwise_accuracy", "n_pairs", "adjacent_pair_accuracy",
    "robustness", "beta", "scorings", "chance", "baselines", "human_length_spearman", "default_scoring", "change",
)  # fmt: skip


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
            implicit_rewards=finite(entry.get("implicit_rewards")),
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
