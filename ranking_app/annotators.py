"""Model annotators: users flagged as models (the ``model-annotator`` group), e.g. ``model:tiny-reward``.

A model's rankings are stored like anyone's (``ranking_store.ranking_save``), but they never
count toward a prompt's overlap target, its queue slots or its consensus, and exports leave them
out unless asked (docs/judging.md). Every count of "people's rankings" filters through
``people_only`` so the rule lives here. A model annotator's user is made only by
``model_annotator_get_or_create``.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

MODEL_ANNOTATOR_GROUP = "model-annotator"
MODEL_NAME_PREFIX = "model:"
USERNAME_LIMIT = 150


def model_annotators() -> QuerySet:
    """Every user flagged as a model annotator."""
    return get_user_model().objects.filter(groups__name=MODEL_ANNOTATOR_GROUP)


def model_annotator_ids() -> QuerySet:
    """Their ids, as a subquery."""
    return model_annotators().values("pk")


def people_only(rankings: QuerySet) -> QuerySet:
    """``rankings`` (a Ranking queryset) without those of model annotators."""
    return rankings.exclude(annotator_id__in=model_annotator_ids())


def model_annotator_name(model: str, adapter: str | None = None) -> str:
    """``model:<model folder or hub id>[+<adapter folder>]``, cut to a username's 150 characters."""
    def short(path: str) -> str:
        parts = [p for p in re.split(r"[\\/]", path.strip()) if p]
        return "/".join(parts[-2:]) if len(parts) > 1 and not path.strip().startswith(("/", ".", "~")) else parts[-1]

    name = MODEL_NAME_PREFIX + short(model) + (f"+{short(adapter)}" if adapter else "")
    return name[:USERNAME_LIMIT]


@transaction.atomic
def model_annotator_get_or_create(*, name: str):
    """The model annotator called ``name`` (created without a usable password: it never logs in).

    Raises ``ValueError`` when a person already holds that username.
    """
    users = get_user_model().objects
    group, _ = Group.objects.get_or_create(name=MODEL_ANNOTATOR_GROUP)
    user = users.filter(username=name).first()
    if user is None:
        try:
            with transaction.atomic():
                user = users.create_user(username=name, password=None)
        except IntegrityError:  # created by a concurrent run
            user = users.get(username=name)
        user.groups.add(group)
    if not user.groups.filter(pk=group.pk).exists():
        raise ValueError(f"annotator {name!r} is a person, not a model annotator; choose another name")
    return user
