"""Writes of model annotators: the user a model's rankings are stored under (``ranking_app.annotators``)."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from ..annotators import MODEL_ANNOTATOR_GROUP, MODEL_NAME_PREFIX

USERNAME_LIMIT = 150


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
