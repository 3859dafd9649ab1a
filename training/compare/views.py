"""Model-vs-human comparison pages (namespace ``compare``): reviewers and admins only, labelers get 403.

The project page compares any two ranking sources prompt by prompt; the prompt page shows every
source's ranking of one prompt; CSV/JSON exports give the same rows and figures as the page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from ranking_app.models import Project, Prompt
from ranking_app.review.services import prompt_send_back
from ranking_app.roles import reviewer_required
from ranking_app.safe_json import whole_number

from ..models import EvaluationRequest, TrainingJob
from ..selectors import SCORINGS
from . import aggregates as cmp
from .report import comparison_csv, comparison_filename, comparison_json
from .selectors import SORTS, comparison_cached, evaluable_jobs, evaluation_requests, project_rounds, prompt_comparison
from .services import SPLITS, EvaluationRequestError, evaluation_cancel, evaluation_request
from .sources import default_pair, project_sources

PAGE_SIZE = 50
FLAG_PREFIX = "flagged in model comparison"


def _options(request, sources) -> dict:
    default_a, default_b = default_pair(sources)
    return {
        "a": request.GET.get("a") or default_a,
        "b": request.GET.get("b") or default_b,
        "ambiguous": request.GET.get("ambiguous") in ("1", "on", "true"),
        "worse": request.GET.get("worse") in ("1", "on", "true"),
        "sort": request.GET.get("sort") or "disagreement",
        "round": request.GET.get("round", "").strip(),
        "scoring": request.GET.get("scoring", "").strip(),
    }


def _query(options: dict) -> str:
    params = {"a": options["a"], "b": options["b"], "sort": options["sort"]}
    params.update({name: "1" for name in ("ambiguous", "worse") if options[name]})
    params.update({name: options[name] for name in ("round", "scoring") if options[name]})
    return urlencode(params)


def _build(project: Project, options: dict):
    return comparison_cached(project, options["a"], options["b"], ambiguous=options["ambiguous"],
                             worse=options["worse"], sort=options["sort"], round=options["round"],
                             scoring=options["scoring"] or None)  # fmt: skip


@vary_on_headers("HX-Request", "HX-Target")  # htmx asking for #compare-results gets the partial
@require_GET
@reviewer_required
def project_compare(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    sources = project_sources(project)
    options = _options(request, sources)
    context = {
        "project": project, "sources": sources, "options": options, "query": _query(options), "sorts": SORTS,
        "jobs": evaluable_jobs(), "splits": SPLITS, "evaluation_requests": evaluation_requests(project),
        "has_models": any(s.is_model for s in sources), "rounds": project_rounds(project),
        "scoring_explanations": SCORINGS,
    }  # fmt: skip
    partial = bool(request.htmx) and request.htmx.target == "compare-results"
    try:
        comparison = _build(project, options)
    except cmp.CompareError as exc:
        # htmx swaps only 2xx responses: the partial carries the error with 200, a full page gets 400
        template = "training/compare/_results.html" if partial else "training/compare/project.html"
        return render(request, template, {**context, "error": str(exc)}, status=200 if partial else 400)
    page = Paginator(comparison.rows, PAGE_SIZE).get_page(whole_number(request.GET.get("page", "")))
    context.update(comparison=comparison, page=page)
    return render(request, "training/compare/_results.html" if partial else "training/compare/project.html", context)


def _export_comparison(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    options = _options(request, project_sources(project))
    return project, _build(project, options)


def _export(request, slug: str, suffix: str, content_type: str, write, refuse) -> HttpResponse:
    """The comparison the query asks for as an attachment (``write`` fills it), or ``refuse(reason)``."""
    try:
        project, comparison = _export_comparison(request, slug)
    except cmp.CompareError as exc:
        return refuse(str(exc))
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{comparison_filename(project, comparison, suffix)}"'
    write(project, comparison, response)
    return response


@require_GET
@reviewer_required
def export_json(request, slug: str):
    return _export(request, slug, "json", "application/json", comparison_json,
                   lambda reason: JsonResponse({"error": reason}, status=400))  # fmt: skip


@require_GET
@reviewer_required
def export_csv(request, slug: str):
    return _export(request, slug, "csv", "text/csv; charset=utf-8", comparison_csv,
                   lambda reason: HttpResponse(f"error: {reason}\n", status=400, content_type="text/plain; charset=utf-8"))


# ---------------------------------------------------------------------------- one prompt
def _prompt(slug: str, prompt_id: int) -> Prompt:
    return get_object_or_404(Prompt.objects.select_related("project"), pk=prompt_id, project__slug=slug)


@require_GET
@reviewer_required
def prompt_compare(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    back = {k: v for k, v in request.GET.items()
            if k in ("a", "b", "sort", "ambiguous", "worse", "round", "scoring", "page")}
    return render(request, "training/compare/prompt.html", {
        "project": prompt.project, "prompt": prompt, "data": prompt_comparison(prompt, request.GET.get("scoring") or None),
        "back_query": urlencode(back), "max_note": 2000,
    })  # fmt: skip


@require_POST
@reviewer_required
def prompt_flag(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    note = request.POST.get("note", "").strip()
    if not note:
        messages.error(request, "Flagging needs a note: say what looks wrong (e.g. \"humans likely wrong here\").")
    else:
        try:
            prompt_send_back(prompt=prompt, reviewer=request.user, note=f"{FLAG_PREFIX}: {note}")
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{prompt.external_id} flagged and sent back to the review queue with your note.")
    url = reverse("compare:prompt", args=[slug, prompt.pk])
    back = request.POST.get("back_query", "")
    return redirect(f"{url}?{back}" if back else url)


# ---------------------------------------------------------------------------- evaluate a job here
@require_POST
@reviewer_required
def evaluate(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    job_id = request.POST.get("job", "")
    job = TrainingJob.objects.filter(pk=pk).first() if (pk := whole_number(job_id)) is not None else None
    if job is None:
        messages.error(request, f"job: no training job {job_id!r}")
    else:
        try:
            evaluation_request(job=job, project=project, split=request.POST.get("split", "test"), user=request.user)
        except EvaluationRequestError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Evaluation of job {job.pk} on {project.name} queued: its rankings appear "
                                      "here as sources when the training worker has scored them.")
    return redirect("compare:project", slug)


@require_POST
@reviewer_required
def evaluation_cancel_view(request, slug: str, request_id: int):
    project = get_object_or_404(Project, slug=slug)
    evaluation = get_object_or_404(EvaluationRequest, pk=request_id, project=project)
    try:
        messages.success(request, evaluation_cancel(request=evaluation))
    except EvaluationRequestError as exc:
        messages.error(request, str(exc))
    return redirect("compare:project", slug)
