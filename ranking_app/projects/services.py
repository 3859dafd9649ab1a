"""Writes of projects: the one place a project is created."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from ..models import Project

MAX_TARGET_ANNOTATORS = 100


def project_create(
    *,
    slug: str,
    name: str = "",
    guidelines: str = "",
    target_annotators: int = 3,
    agreement_threshold: float = 0.6,
    allow_ties: bool = True,
    allow_partial: bool = True,
    queue_order: str = Project.QueueOrder.DEFAULT,
    created_by=None,
) -> Project:
    """Create and return a project (named after its slug unless ``name`` is given).

    Raises ``django.core.exceptions.ValidationError`` with a message per field (a bad or taken
    slug, a target outside 1..100, a threshold outside 0..1, a name over 200 characters).
    """
    project = Project(
        slug=slug,
        name=name or slug,
        guidelines=guidelines,
        target_annotators=target_annotators,
        agreement_threshold=agreement_threshold,
        allow_ties=allow_ties,
        allow_partial=allow_partial,
        queue_order=queue_order,
        created_by=created_by,
    )
    errors = _range_errors(target_annotators, agreement_threshold)
    try:
        project.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    project.save()
    return project


def _range_errors(target_annotators, agreement_threshold) -> dict[str, list[str]]:
    errors = {}
    if not isinstance(target_annotators, int) or not 1 <= target_annotators <= MAX_TARGET_ANNOTATORS:
        errors["target_annotators"] = [f"must be between 1 and {MAX_TARGET_ANNOTATORS} (got {target_annotators!r})"]
    if not isinstance(agreement_threshold, (int, float)) or not 0.0 <= agreement_threshold <= 1.0:
        errors["agreement_threshold"] = [f"must be between 0 and 1 (Kendall's W; got {agreement_threshold!r})"]
    return errors
