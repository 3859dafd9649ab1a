"""Job pages (admins only): list with a live table, launch form, job page with live status, actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from ranking_app.models import Project
from ranking_app.roles import admin_required
from ranking_app.safe_json import whole_number

from .forms import JobLaunchForm, launch_initial
from .models import TrainingJob
from .selectors import (
    evaluation_table,
    job_get,
    job_kl_alert,
    job_list,
    job_log_tail,
    job_metric_series,
    job_timing,
    project_readiness,
)
from .services.adapters import adapter_archive, adapter_path
from .services.job_config import JobConfigError
from .services.jobs import JobStateError, job_cancel, job_launch, job_resume
from .services.merges import job_merge_cancel, job_merge_request, job_merged_archive


def _job_or_404(pk: int) -> TrainingJob:
    try:
        return job_get(pk=pk)
    except TrainingJob.DoesNotExist:
        raise Http404(f"no training job {pk}") from None


def _rows(jobs) -> list[dict]:
    return [{"job": job, **job_timing(job)} for job in jobs]


@vary_on_headers("HX-Request")
@require_GET
@admin_required
def job_list_view(request):
    jobs = job_list()[:200]
    context = {"rows": _rows(jobs)}
    if request.htmx:
        return render(request, "training/_job_rows.html", context)
    return render(request, "training/job_list.html", context)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@admin_required
def job_launch_view(request):
    if request.method == "POST":
        form = JobLaunchForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = job_launch(project=data["project"], config=form.config, created_by=request.user,
                                 preset=data["preset"], name=data["name"], validated_only=data["validated_only"],
                                 rounds=data["rounds"], launch=form.launch)
            except JobConfigError as exc:
                form.add_config_errors(exc)
            else:
                messages.success(request, f"Job {job.pk} queued.")
                for warning in job.data_summary.get("readiness", {}).get("warnings", []):
                    messages.warning(request, f"Is this data ready? {warning}.")
                return redirect("training:job_detail", pk=job.pk)
    else:
        project = Project.objects.filter(slug=request.GET.get("project", "")).first()
        clone = None
        if (clone_id := whole_number(request.GET.get("clone", ""))) is not None:
            clone = get_object_or_404(TrainingJob, pk=clone_id)
        form = JobLaunchForm(initial=launch_initial(project=project, preset=request.GET.get("preset"), clone=clone))
    template = "training/_launch_form.html" if request.htmx else "training/job_launch.html"
    return render(request, template, {"form": form, "readiness": _form_readiness(form)})


def _form_readiness(form: JobLaunchForm) -> dict | None:
    """The agreement of the project the form has chosen, before the run (None without one)."""
    slug = form.data.get("project") if form.is_bound else form.initial.get("project")
    choices = form.fields["project"].queryset
    project = choices.filter(slug=slug).first() if slug else choices.first()  # the select shows the first by default
    if project is None:
        return None
    validated = bool(form.data.get("validated_only")) if form.is_bound else form.initial.get("validated_only", True)
    return project_readiness(project=project, validated_only=validated)


@require_GET
@admin_required
def launch_readiness_view(request):
    """The launch form's "Is this data ready?" panel for ``?project=slug`` (refreshed when the project changes)."""
    project = get_object_or_404(Project, slug=request.GET.get("project", ""))
    validated = request.GET.get("validated_only", "on") in ("on", "true", "1")
    return render(request, "training/_readiness.html", {"readiness": project_readiness(project=project,
                                                                                        validated_only=validated)})


def _detail_context(job: TrainingJob, scoring: str | None = None) -> dict:
    evaluation = evaluation_table(job=job, scoring=scoring)
    return {
        "job": job,
        **job_timing(job),
        "evaluation": evaluation,
        "kl_alert": job_kl_alert(job=job),
        "log_tail": job_log_tail(job=job),
        "has_adapter": adapter_path(job) is not None,
        "has_merged": job_merged_archive(job) is not None,
        "merge": job.adapter_merge,
        "actions": job.allowed_actions(),
    }


@vary_on_headers("HX-Request")
@require_GET
@admin_required
def job_detail_view(request, pk: int):
    job = _job_or_404(pk)
    context = _detail_context(job, scoring=request.GET.get("scoring"))
    if request.htmx:
        return render(request, "training/_job_live.html", context)
    return render(request, "training/job_detail.html", context)


@require_GET
@admin_required
def job_metrics_view(request, pk: int):
    job = _job_or_404(pk)
    return JsonResponse({"status": job.status, "active": job.is_active, **job_metric_series(job=job)})


@vary_on_headers("HX-Request")
@require_POST
@admin_required
def job_cancel_view(request, pk: int):
    return _act(request, pk, job_cancel, "Cancel requested: the job stops after saving a checkpoint.")


@vary_on_headers("HX-Request")
@require_POST
@admin_required
def job_resume_view(request, pk: int):
    return _act(request, pk, job_resume, "Job queued again; it continues from its last checkpoint.")


def _act(request, pk: int, action, done: str):
    job = _job_or_404(pk)
    try:
        job = action(job=job)
    except JobStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    if request.htmx:
        return render(request, "training/_job_live.html", _detail_context(job_get(pk=pk)))
    return redirect("training:job_detail", pk=pk)


@require_GET
@admin_required
def job_adapter_download_view(request, pk: int):
    return _download(adapter_archive(_job_or_404(pk)), f"grpo-job-{pk}-adapter.zip", "this job has no saved adapter")


@require_POST
@admin_required
def job_merge_view(request, pk: int):
    return _act(request, pk, job_merge_request, "Merged model queued: a worker builds it; its download appears here.")


@require_POST
@admin_required
def job_merge_cancel_view(request, pk: int):
    return _act(request, pk, job_merge_cancel, "Merged model: cancelled (a build under way stops before zipping).")


@require_GET
@admin_required
def job_merged_download_view(request, pk: int):
    return _download(job_merged_archive(_job_or_404(pk)), f"grpo-job-{pk}-merged.zip", "this job has no merged model yet")


def _download(archive, filename: str, missing: str) -> FileResponse:
    if archive is None:
        raise Http404(missing)
    return FileResponse(open(archive, "rb"), as_attachment=True, filename=filename)
