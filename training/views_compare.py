"""Model-vs-human comparison pages (namespace ``compare``): reviewers and admins only, labelers get 403.

The project page compares any two ranking sources prompt by prompt; the prompt page shows every
source's ranking of one prompt; CSV/JSON exports give the same rows and figures as the page.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from defusedcsv import csv  # the csv module, with cells like =cmd() escaped (formula injection)
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ranking_app.models import Project, Prompt
from ranking_app.roles import reviewer_required
from ranking_app.safe_json import whole_number
from ranking_app.services.review import prompt_send_back

from . import comparison as cmp
from .compare_tasks import SPLITS, EvaluationRequestError, evaluation_request, evaluation_statuses
from .models import TrainingJob
from .selectors_compare import SORTS, comparison_cached, comparison_payload, default_pair, project_sources, public_row

PAGE_SIZE = 50
FLAG_PREFIX = "flagged in model comparison"
CSV_COLUMNS = (
    "prompt_id", "id", "split", "n_responses", "kendall_w", "status", "ambiguous", "tau_b", "top1_agree",
    "a_tau_vs_consensus", "b_tau_vs_consensus", "a_top1_correct", "b_top1_correct", "tau_change_vs_base",
    "worse_than_base",
)  # fmt: skip


def _options(request, sources) -> dict:
    default_a, default_b = default_pair(sources)
    return {
        "a": request.GET.get("a") or default_a,
        "b": request.GET.get("b") or default_b,
        "ambiguous": request.GET.get("ambiguous") in ("1", "on", "true"),
        "worse": request.GET.get("worse") in ("1", "on", "true"),
        "sort": request.GET.get("sort") or "disagreement",
    }


def _query(options: dict) -> str:
    params = {"a": options["a"], "b": options["b"], "sort": options["sort"]}
    params.update({name: "1" for name in ("ambiguous", "worse") if options[name]})
    return urlencode(params)


def _build(project: Project, options: dict):
    return comparison_cached(project, options["a"], options["b"], ambiguous=options["ambiguous"],
                             worse=options["worse"], sort=options["sort"])  # fmt: skip


@require_GET
@reviewer_required
def project_compare(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    sources = project_sources(project)
    options = _options(request, sources)
    context = {
        "project": project, "sources": sources, "options": options, "query": _query(options), "sorts": SORTS,
        "jobs": TrainingJob.objects.filter(status=TrainingJob.Status.SUCCEEDED).exclude(adapter_dir="")
        .select_related("project")[:100],
        "splits": SPLITS, "evaluation_statuses": evaluation_statuses(project=project),
        "has_models": any(s.is_model for s in sources),
    }  # fmt: skip
    partial = bool(request.htmx) and request.htmx.target == "compare-results"
    try:
        comparison = _build(project, options)
    except cmp.CompareError as exc:
        # htmx swaps only 2xx responses: the partial carries the error with 200, a full page gets 400
        template = "training/compare/_results.html" if partial else "training/compare/project.html"
        return render(request, template, {**context, "error": str(exc)}, status=200 if partial else 400)
    page = Paginator(comparison.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context.update(comparison=comparison, page=page)
    return render(request, "training/compare/_results.html" if partial else "training/compare/project.html", context)


def _export_comparison(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    options = _options(request, project_sources(project))
    return project, _build(project, options)


def _filename(project: Project, comparison, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{comparison.a.key}-vs-{comparison.b.key}")
    return f"{project.slug}-compare-{safe}.{suffix}"


@require_GET
@reviewer_required
def export_json(request, slug: str):
    try:
        project, comparison = _export_comparison(request, slug)
    except cmp.CompareError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    payload = {**comparison_payload(project, comparison), "rows": [public_row(r) for r in comparison.rows]}
    response = HttpResponse(json.dumps(payload, indent=2, allow_nan=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_filename(project, comparison, "json")}"'
    return response


@require_GET
@reviewer_required
def export_csv(request, slug: str):
    try:
        project, comparison = _export_comparison(request, slug)
    except cmp.CompareError as exc:
        return HttpResponse(f"error: {exc}\n", status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(project, comparison, "csv")}"'
    writer = csv.writer(response)
    writer.writerow(["# a", comparison.a.key, "b", comparison.b.key, "reference", "consensus"])
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        public = public_row(row)
        public["tau_change_vs_base"] = json.dumps(public["tau_change_vs_base"], sort_keys=True)
        writer.writerow(["" if public[c] is None else public[c] for c in CSV_COLUMNS])
    return response


# ---------------------------------------------------------------------------- one prompt
def _prompt(slug: str, prompt_id: int) -> Prompt:
    return get_object_or_404(Prompt.objects.select_related("project"), pk=prompt_id, project__slug=slug)


@require_GET
@reviewer_required
def prompt_compare(request, slug: str, prompt_id: int):
    from .selectors_compare import prompt_comparison

    prompt = _prompt(slug, prompt_id)
    back = {k: v for k, v in request.GET.items() if k in ("a", "b", "sort", "ambiguous", "worse", "page")}
    return render(request, "training/compare/prompt.html", {
        "project": prompt.project, "prompt": prompt, "data": prompt_comparison(prompt),
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
