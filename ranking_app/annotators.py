"""Model annotators: users flagged as models (the ``model-annotator`` group), e.g. ``model:tiny-reward``.

A model's rankings are stored like anyone's (``services.rankings.ranking_save``), but they never
count toward a prompt's overlap target, its queue slots or its consensus, and exports leave them
out unless asked (docs/judging.md). Every count of "people's rankings" filters through
``people_only`` so the rule lives here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

MODEL_ANNOTATOR_GROUP = "model-annotator"
MODEL_NAME_PREFIX = "model:"


def model_annotators() -> QuerySet:
    """Every user flagged as a model annotator."""
    return get_user_model().objects.filter(groups__name=MODEL_ANNOTATOR_GROUP)


def model_annotator_ids() -> QuerySet:
    """Their ids, as a subquery."""
    return model_annotators().values("pk")


def people_only(rankings: QuerySet) -> QuerySet:
    """``rankings`` (a Ranking queryset) without those of model annotators."""
    return rankings.exclude(annotator_id__in=model_annotator_ids())


def is_model_annotator(user) -> bool:
    cached = getattr(user, "_grpo_is_model", None)
    if cached is None:
        cached = user.groups.filter(name=MODEL_ANNOTATOR_GROUP).exists()
        user._grpo_is_model = cached
    return cached
