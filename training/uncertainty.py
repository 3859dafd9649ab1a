"""Where the project's latest tuned model is least sure: the keys of the labeling queue's
``model_uncertainty`` order (``ranking_app.labeling.queue_orders``), registered by ``TrainingConfig.ready``."""

from __future__ import annotations

import math

from ranking_app.models import Project

from .models import PromptEvaluation


def model_uncertainty_keys(project: Project, ids: list[int]) -> dict[int, float]:
    """Gap between the two best scores of each prompt under the newest tuned evaluation that scored it."""
    rows = (
        PromptEvaluation.objects.filter(prompt_id__in=ids, evaluation__model="tuned")
        .order_by("prompt_id", "-evaluation__created_at", "-evaluation_id")
        .values_list("prompt_id", "scores")
    )
    gaps: dict[int, float] = {}
    for prompt_id, scores in rows:
        if prompt_id not in gaps:
            gaps[prompt_id] = top_two_gap(scores)
    return gaps


def top_two_gap(scores: list[float | None]) -> float:
    """Best score minus the second best (inf when fewer than two responses were scored)."""
    ranked = sorted((s for s in scores if s is not None), reverse=True)
    return ranked[0] - ranked[1] if len(ranked) >= 2 else math.inf
