"""Reviewer screens: agreement dashboard, review queue, prompt review (adjudicate, send back, gold).

Every view here is reviewer-or-admin only (labelers get 403); gold rankings are admin only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..labeling.throughput import labeling_throughput
from ..models import Project, Prompt
from ..rank_widget import build_rank_widget, tiers_from_post
from ..ranking import RankingError
from ..roles import is_admin, reviewer_required
from ..safe_json import whole_number
from . import agreement
from .agreement_read import agreement_compute
from .agreement_store import agreement_current
from .selectors import ANNOTATOR_SORTS, annotator_table, prompt_review, review_next, review_rows
from .services import prompt_adjudicate, prompt_gold_clear, prompt_gold_set, prompt_send_back

QUEUE_PAGE_SIZE = 50


@require_GET
@reviewer_required
def dashboard(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    cache = agreement_current(project=project, with_items=False, with_queue=False)
    include_models = request.GET.get("include_models") == "1"  # what-if: models counted as people, not cached
    summary = agreement_compute(project, include_models=True)[0] if include_models else cache.summary
    sort = request.GET.get("sort", "agreement")
    sort = sort if sort in ANNOTATOR_SORTS else "agreement"
    descending = request.GET.get("dir", "desc" if sort != "annotator" else "asc") == "desc"
    peak = max((b["count"] for b in summary["histogram"]), default=0) or 1
    histogram = [{**b, "pct": round(100 * b["count"] / peak, 1)} for b in summary["histogram"]]
    return render(request, "ranking_app/review/dashboard.html", {
        "project": project,
        "summary": summary,
        "computed_at": cache.computed_at,
        "compute_ms": cache.compute_ms,
        "histogram": histogram,
        "threshold_pct": round(100 * project.agreement_threshold, 1),
        "annotators": annotator_table(summary["annotators"], sort=sort, descending=descending),
        "include_models": include_models,
        "sort": sort,
        "descending": descending,
        "throughput": labeling_throughput(project=project),
        "sort_columns": [
            ("annotator", "Annotator"), ("agreement", "Agreement (tau-b vs others' consensus)"),
            ("count", "Submitted"), ("time", "Median time / prompt"), ("skip", "Skip rate"),
            ("gold", "Agreement with gold"),
        ],
    })


@require_GET
@reviewer_required
def queue(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    status = request.GET.get("status", agreement.NEEDS_REVIEW)
    if status not in agreement.STATUSES:
        status = agreement.NEEDS_REVIEW
    order = "model" if request.GET.get("order") == "model" else "w"
    agreement_current(project=project, with_items=False, with_queue=False)  # stored for the reads below
    rows, status_counts = review_rows(project=project, status=status, order=order)
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(whole_number(request.GET.get("page", "")))
    return render(request, "ranking_app/review/queue.html", {
        "project": project,
        "page": page,
        "status": status,
        "statuses": agreement.STATUSES,
        "status_counts": status_counts,
        "threshold": project.agreement_threshold,
        "order": order,
        "order_query": "&order=model" if order == "model" else "",
    })


def _prompt(slug: str, prompt_id: int) -> Prompt:
    return get_object_or_404(Prompt.objects.select_related("project", "adjudicated_by"), pk=prompt_id, project__slug=slug)


@require_GET
@reviewer_required
def prompt_detail(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    agreement_current(project=prompt.project, with_items=False, with_queue=False)  # stored for the reads below
    return _render_prompt(request, prompt)


def _render_prompt(request, prompt: Prompt, *, errors: list[str] | None = None, status: int = 200):
    data = prompt_review(prompt=prompt)
    project = prompt.project
    widget = build_rank_widget(
        responses=data["responses"],
        tiers=data["final_tiers"],
        allow_ties=project.allow_ties,
        allow_partial=project.allow_partial,
        action=reverse("review:adjudicate", args=[project.slug, prompt.pk]),
        version=0,
        uid="adjudicate",
        submit_label="Adjudicate: save as final ranking",
        extra_template="ranking_app/review/_adjudicate_extra.html",
        show_sources=True,
    )
    return render(request, "ranking_app/review/prompt.html", {
        "project": project,
        "prompt": prompt,
        "data": data,
        "widget": widget,
        "errors": errors or [],
        "next_url": _next_in_queue(prompt),
    }, status=status)


def _next_in_queue(prompt: Prompt) -> str | None:
    next_id = review_next(prompt=prompt)
    return None if next_id is None else reverse("review:prompt", args=[prompt.project.slug, next_id])


def _post_ranking(request, prompt: Prompt, action):
    try:
        tiers = tiers_from_post(request.POST, prompt.responses.count())
        action(tiers)
    except RankingError as exc:
        return _render_prompt(request, prompt, errors=exc.errors, status=400)
    except ValueError as exc:
        return _render_prompt(request, prompt, errors=[str(exc)], status=400)
    return None


@require_POST
@reviewer_required
def adjudicate(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    note = request.POST.get("note", "")
    failed = _post_ranking(request, prompt, lambda t: prompt_adjudicate(prompt=prompt, tiers=t, reviewer=request.user, note=note))
    if failed:
        return failed
    messages.success(request, f"{prompt.external_id} adjudicated: it is now validated with your ranking.")
    return redirect(_next_in_queue(prompt) or reverse("review:queue", args=[slug]))


@require_POST
@reviewer_required
def send_back(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    try:
        prompt = prompt_send_back(prompt=prompt, reviewer=request.user, note=request.POST.get("note", ""))
    except ValueError as exc:
        return _render_prompt(request, prompt, errors=[str(exc)], status=400)
    target = prompt.project.target_annotators + prompt.extra_annotators
    messages.success(request, f"{prompt.external_id} sent back: it now needs {target} submitted rankings.")
    return redirect(_next_in_queue(prompt) or reverse("review:queue", args=[slug]))


@require_POST
@reviewer_required
def gold(request, slug: str, prompt_id: int):
    if not is_admin(request.user):
        raise PermissionDenied("Only admins set gold rankings.")
    prompt = _prompt(slug, prompt_id)
    if request.POST.get("action") == "clear":
        prompt_gold_clear(prompt=prompt, user=request.user)
        messages.success(request, f"Gold ranking of {prompt.external_id} cleared.")
    else:
        failed = _post_ranking(request, prompt, lambda t: prompt_gold_set(prompt=prompt, tiers=t, user=request.user))
        if failed:
            return failed
        messages.success(request, f"Gold ranking of {prompt.external_id} saved.")
    return redirect("review:prompt", slug, prompt.pk)
