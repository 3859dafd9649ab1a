"""Project agreement figures, read: the stored figures when they are current, else computed now.

Reads only. The figures (``ranking_app.review.agreement`` maths over the project's rankings) are stored
as one ``ProjectAgreement`` row per project by ``review.agreement_store`` (``agreement_current``, called
by the pages, the API, the command and the queue order before they read). The row is keyed by a
*fingerprint* of the data it was computed from (count and latest ``updated_at`` of the project's
submitted/skipped rankings and of its prompts, plus the target and threshold): ``agreement_read``
returns it only while the fingerprint matches, so a read after any change (a bulk import that
bypasses model signals included) gets figures computed from the data, never stale ones.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, TextField
from django.db.models.functions import Cast

from ..annotators import model_annotators
from ..models import Project, ProjectAgreement, Prompt, Ranking, Response
from . import agreement
from .model_agreement import model_figures, prompt_model_tau

FINGERPRINT_VERSION = "agreement-v4"  # bump when the stored figures change (shape or meaning)
COUNTED = (Ranking.Status.SUBMITTED, Ranking.Status.SKIPPED)
QUEUE_HEAD = 10


def agreement_fingerprint(project: Project) -> str:
    """Changes whenever a submitted/skipped ranking, a prompt or the project's rule changes."""
    rankings = Ranking.objects.filter(prompt__project_id=project.pk, status__in=COUNTED).aggregate(
        n=Count("id"), last=Max("updated_at")
    )
    prompts = Prompt.objects.filter(project_id=project.pk).aggregate(n=Count("id"), last=Max("updated_at"))
    target, threshold = Project.objects.filter(pk=project.pk).values_list(
        "target_annotators", "agreement_threshold"
    ).get()
    return (
        f"{FINGERPRINT_VERSION}|r{rankings['n']}@{rankings['last']}|p{prompts['n']}@{prompts['last']}"
        f"|t{target}|w{threshold!r}"
    )


def _prompt_rows(project: Project) -> list[tuple]:
    n_responses = dict(
        Response.objects.filter(prompt__project_id=project.pk)
        .values("prompt_id")
        .annotate(n=Count("id"))
        .values_list("prompt_id", "n")
    )
    rows = Prompt.objects.filter(project_id=project.pk).order_by("id")
    fields = ("id", "external_id", "extra_annotators", "gold_tiers", "adjudicated_tiers")
    return [(*row, n_responses.get(row[0], 0)) for row in rows.values_list(*fields)]


def _ranking_rows(project: Project) -> list[tuple]:
    """(prompt_id, annotator_id, status, tiers, time_spent_ms) of submitted and skipped rankings.

    The tiers arrive as JSON text and are decoded in one ``json.loads`` call: per-row decoding
    is the largest cost of a 30,000-ranking project.
    """
    rows = list(
        Ranking.objects.filter(prompt__project_id=project.pk, status__in=COUNTED)
        .order_by("prompt_id", "annotator_id")
        .annotate(tiers_text=Cast("tiers", TextField()))
        .values_list("prompt_id", "annotator_id", "status", "tiers_text", "time_spent_ms")
    )
    all_tiers = json.loads("[" + ",".join(row[3] or "[]" for row in rows) + "]")
    return [(p, a, s, tiers, t) for (p, a, s, _, t), tiers in zip(rows, all_tiers, strict=True)]


def _annotator_activity(rankings: list[tuple]) -> dict[int, dict]:
    """Per annotator: submitted count, median time per submitted prompt, skip rate."""
    times: dict[int, list[int]] = defaultdict(list)
    skipped: dict[int, int] = defaultdict(int)
    for _prompt_id, annotator_id, status, _tiers, time_ms in rankings:
        if status == Ranking.Status.SUBMITTED:
            times[annotator_id].append(time_ms)
        else:
            skipped[annotator_id] += 1
    activity = {}
    for annotator_id in set(times) | set(skipped):
        done = len(times[annotator_id])
        activity[annotator_id] = {
            "count": done,
            "skipped": skipped[annotator_id],
            "skip_rate": skipped[annotator_id] / (done + skipped[annotator_id]),
            "median_time_ms": statistics.median(times[annotator_id]) if done else None,
        }
    return activity


def agreement_compute(project: Project, *, include_models: bool = False) -> tuple[dict, list[dict]]:
    """All figures of ``project`` from the database: ``(summary, items)`` (see ProjectAgreement).

    Model annotators' rankings stay out of W, consensus, alpha, statuses and the annotator table
    (``summary["model_annotators"]`` measures each against the people) unless ``include_models``,
    which counts them as people.
    """
    prompt_rows = _prompt_rows(project)
    models = set() if include_models else set(model_annotators().values_list("pk", flat=True))
    rankings = _ranking_rows(project)
    people = [row for row in rankings if row[1] not in models]
    submitted = _submitted(people)
    prompts = [agreement.PromptData(pid, n, submitted.get(pid, {}), gold or None)
               for pid, _ext, _extra, gold, _adj, n in prompt_rows]  # fmt: skip
    figures = agreement.project_figures(prompts)
    items = _items(project, prompt_rows, figures)
    summary = _summary(project, items, figures, _annotator_activity(people))
    by_model = _submitted([row for row in rankings if row[1] in models])
    summary["model_annotators"] = _model_rows(prompts, items, by_model, _annotator_activity(rankings))
    return summary, items


def _submitted(rankings: list[tuple]) -> dict[int, dict[int, list]]:
    """{prompt id: {annotator id: tiers}} of the submitted rankings among ``rankings``."""
    submitted: dict[int, dict[int, list]] = defaultdict(dict)
    for prompt_id, annotator_id, status, tiers, _ in rankings:
        if status == Ranking.Status.SUBMITTED:
            submitted[prompt_id][annotator_id] = tiers
    return submitted


def _model_rows(prompts: list, items: list[dict], by_model: dict[int, dict[int, list]], activity: dict) -> list[dict]:
    """One row per model annotator (``agreement_models.model_figures``); each item gets ``model_tau``."""
    consensus = {item["prompt_id"]: item["consensus"] for item in items}
    n_responses = {p.prompt_id: p.n_responses for p in prompts}
    for item in items:
        item["model_tau"] = prompt_model_tau(by_model.get(item["prompt_id"], {}), item["consensus"],
                                             n_responses[item["prompt_id"]])
    per_model: dict[int, dict[int, list]] = defaultdict(dict)
    for prompt_id, rankings in by_model.items():
        for annotator_id, tiers in rankings.items():
            per_model[annotator_id][prompt_id] = tiers
    names = dict(get_user_model().objects.filter(pk__in=per_model).values_list("pk", "username"))
    return [{"annotator": names[user_id], "user_id": user_id, "count": activity[user_id]["count"],
             **model_figures(prompts, per_model[user_id], consensus)}
            for user_id in sorted(per_model, key=lambda pk: names[pk])]  # fmt: skip


def _items(project: Project, prompt_rows: list[tuple], figures: agreement.ProjectFigures) -> list[dict]:
    items = []
    for pid, external_id, extra, gold, adjudicated, _n in prompt_rows:
        fig = figures.prompts[pid]
        target = project.target_annotators + extra
        status = agreement.prompt_status(
            n_submitted=fig.n_submitted,
            target=target,
            kendall_w=fig.kendall_w,
            threshold=project.agreement_threshold,
            adjudicated=adjudicated is not None,
        )
        items.append({
            "prompt_id": pid,
            "id": external_id,
            "kendall_w": fig.kendall_w,
            "n_annotators": fig.n_submitted,
            "target": target,
            "status": status,
            "adjudicated": adjudicated is not None,
            "gold": bool(gold),
            "consensus": adjudicated if adjudicated is not None else fig.consensus,
        })
    return items


def _summary(project: Project, items: list[dict], figures: agreement.ProjectFigures, activity: dict) -> dict:
    ws = [item["kendall_w"] for item in items if item["kendall_w"] is not None]
    counts = {status: 0 for status in agreement.STATUSES}
    for item in items:
        counts[item["status"]] += 1
    usernames = dict(
        get_user_model().objects.filter(pk__in=set(activity) | set(figures.annotators)).values_list("pk", "username")
    )
    annotators = []
    for user_id in sorted(usernames, key=lambda pk: usernames[pk]):
        fig = figures.annotators.get(user_id, agreement.AnnotatorFigures())
        act = activity.get(user_id, {"count": 0, "skipped": 0, "skip_rate": 0.0, "median_time_ms": None})
        annotators.append({
            "annotator": usernames[user_id],
            "user_id": user_id,
            "agreement": fig.agreement,
            "n_compared": fig.n_compared,
            "gold_agreement": fig.gold_agreement,
            "n_gold": fig.n_gold,
            **act,
        })
    return {
        "krippendorff_alpha": figures.krippendorff_alpha,
        "mean_kendall_w": statistics.fmean(ws) if ws else None,
        "median_kendall_w": statistics.median(ws) if ws else None,
        "n_prompts": len(items),
        "n_with_w": len(ws),
        "n_adjudicated": sum(item["adjudicated"] for item in items),
        "n_gold": sum(item["gold"] for item in items),
        "status_counts": counts,
        "histogram": agreement.w_histogram(ws),
        "agreement_threshold": project.agreement_threshold,
        "target_annotators": project.target_annotators,
        "annotators": annotators,
    }


def review_queue(items: list[dict], *, status: str = agreement.NEEDS_REVIEW) -> list[dict]:
    """Prompts with ``status``, lowest W first (undefined W first of all: nothing to go on)."""
    chosen = [i for i in items if i["status"] == status]
    return sorted(chosen, key=lambda i: (i["kendall_w"] is not None, i["kendall_w"] or 0.0, i["prompt_id"]))


def agreement_values(project: Project) -> dict:
    """Every column of ``project``'s ``ProjectAgreement`` row, computed from the data now."""
    project.refresh_from_db(fields=["target_annotators", "agreement_threshold"])
    fingerprint = agreement_fingerprint(project)
    started = time.perf_counter()
    summary, items = agreement_compute(project)
    queue = [
        {k: v for k, v in item.items() if k != "consensus"}
        for item in review_queue(items, status=agreement.NEEDS_REVIEW)
    ]
    summary["queue_head"] = queue[:QUEUE_HEAD]  # the dashboard shows the first few
    return {
        "fingerprint": fingerprint,
        "summary": summary,
        "items": items,
        "queue": queue,
        "compute_ms": int((time.perf_counter() - started) * 1000),
    }


def agreement_read(*, project: Project, with_items: bool = True, with_queue: bool = True) -> ProjectAgreement:
    """The stored figures of ``project`` if they are current, else figures computed now (an unsaved
    row, ``pk`` None: storing it is ``agreement_store.agreement_current``'s business).

    ``with_items=False`` / ``with_queue=False`` leave those (large) columns of a stored row unloaded until used.
    """
    fingerprint = agreement_fingerprint(project)
    deferred = [name for name, wanted in (("items", with_items), ("queue", with_queue)) if not wanted]
    stored = ProjectAgreement.objects.filter(project=project).defer(*deferred).first()
    if stored is not None and stored.fingerprint == fingerprint:
        return stored
    return ProjectAgreement(project=project, **agreement_values(project))
