"""Project agreement figures, stored: one ``ProjectAgreement`` row per project, shared by the web
process, workers and management commands.

The figures are computed by ``ranking_app.review.agreement_read`` (reads only); this module stores
them. ``agreement_current`` is what a page, the API, the command and the queue order call before
they read: it stores the figures when the data changed since (the fingerprint differs) and returns
the current row, so a change is computed once, by the first read after it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ..models import Project, ProjectAgreement
from .agreement_read import agreement_compute, agreement_read, agreement_values

STORED_COLUMNS = ("fingerprint", "summary", "items", "queue", "compute_ms")


def _store(project: Project, values: dict) -> ProjectAgreement:
    try:
        with transaction.atomic():
            cache, _ = ProjectAgreement.objects.update_or_create(project=project, defaults=values)
    except IntegrityError:  # another process created the row at the same moment
        ProjectAgreement.objects.filter(project=project).update(**values)
        cache = ProjectAgreement.objects.get(project=project)
    return cache


def agreement_refresh(*, project: Project) -> ProjectAgreement:
    """Recompute and store the figures of ``project`` (whatever the stored row holds)."""
    return _store(project, agreement_values(project))


def agreement_current(*, project: Project, with_items: bool = True, with_queue: bool = True) -> ProjectAgreement:
    """The current figures of ``project``, stored first if the data changed since they were.

    ``with_items=False`` / ``with_queue=False`` leave those (large) columns unloaded until used.
    """
    cache = agreement_read(project=project, with_items=with_items, with_queue=with_queue)
    if cache.pk is None:  # computed now from changed data: store it for the next reads
        cache = _store(project, {name: getattr(cache, name) for name in STORED_COLUMNS})
    return cache


def agreement_payload(*, project: Project, include_models: bool = False) -> dict:
    """The public figures (``manage.py agreement --json`` and the REST API give exactly this).

    ``include_models`` counts model annotators as people (computed afresh, not cached).
    """
    if include_models:
        summary, items = agreement_compute(project, include_models=True)
    else:
        cache = agreement_current(project=project, with_queue=False)
        summary, items = cache.summary, cache.items
    return {
        "krippendorff_alpha": summary["krippendorff_alpha"],
        "mean_kendall_w": summary["mean_kendall_w"],
        "status_counts": summary["status_counts"],
        "items": [
            {"id": i["id"], "kendall_w": i["kendall_w"], "n_annotators": i["n_annotators"], "status": i["status"]}
            for i in items
        ],
        "annotators": [
            {"annotator": a["annotator"], "agreement": a["agreement"], "count": a["count"]}
            for a in summary["annotators"]
        ],
        "models_included": include_models,
        "model_annotators": [{k: v for k, v in row.items() if k != "user_id"}
                             for row in summary.get("model_annotators", [])],
    }
