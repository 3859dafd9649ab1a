"""Job pages (admins only): list with a live table, launch form, job page with live status, actions."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ranking_app.models import Project
from ranking_app.roles import admin_required

from .forms import JobLaunchForm, launch_initial
from .models import TrainingJob
from .selectors import (
    evaluation_table,
    job_adapter_path,
    job_get,
    job_kl_alert,
    job_list,
    job_log_tail,
    job_metric_series,
    job_timing,
)
from .services.config import JobConfigError
from .services.jobs import JobStateError, job_cancel, job_launch, job_resume


def _job_or_404(pk: int) -> TrainingJob:
    try:
        return job_get(pk=pk)
    except TrainingJob.DoesNotExist:
        raise Http404(f"no training job {pk}") from None


def _rows(jobs) -> list[dict]:
    return [{"job": job, **job_timing(job)} for job in jobs]


@require_GET
@admin_required
def job_list_view(request):
    jobs = job_list()[:200]
    context = {"rows": _rows(jobs)}
    if request.htmx:
        return render(request, "training/_job_rows.html", context)
    return render(request, "training/job_list.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def job_launch_view(request):
    if request.method == "POST":
        form = JobLaunchForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = job_launch(project=data["project"], config=form.config, created_by=request.user,
                                 preset=data["preset"], name=data["name"], validated_only=data["validated_only"])
            except JobConfigError as exc:
                form.add_config_errors(exc)
            else:
                messages.success(request, f"Job {job.pk} queued.")
                return redirect("training:job_detail", pk=job.pk)
    else:
        project = Project.objects.filter(slug=request.GET.get("project", "")).first()
        clone = None
        if request.GET.get("clone", "").isdigit():
            clone = get_object_or_404(TrainingJob, pk=int(request.GET["clone"]))
        form = JobLaunchForm(initial=launch_initial(project=project, preset=request.GET.get("preset"), clone=clone))
    template = "training/_launch_form.html" if request.htmx else "training/job_launch.html"
    return render(request, template, {"form": form})


def _detail_context(job: TrainingJob, scoring: str | None = None) -> dict:
    evaluation = evaluation_table(job=job, scoring=scoring)
    return {
        "job": job,
        **job_timing(job),
        "evaluation": evaluation,
        "kl_alert": job_kl_alert(job=job),
        "eval_rows": evaluation["rows"],
        "log_tail": job_log_tail(job=job),
        "has_adapter": job_adapter_path(job) is not None,
    }


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


@require_POST
@admin_required
def job_cancel_view(request, pk: int):
    return _act(request, pk, job_cancel, "Cancel requested: the job stops after saving a checkpoint.")


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
    job = _job_or_404(pk)
    adapter = job_adapter_path(job)
    if adapter is None:
        raise Http404("this job has no saved adapter")
    archive = adapter.parent / "adapter.zip"
    if not archive.is_file() or archive.stat().st_mtime < _newest_mtime(adapter):
        _zip_directory(adapter, archive)
    return FileResponse(open(archive, "rb"), as_attachment=True, filename=f"grpo-job-{job.pk}-adapter.zip")


def _newest_mtime(directory: Path) -> float:
    return max((p.stat().st_mtime for p in directory.rglob("*") if p.is_file()), default=0.0)


def _zip_directory(directory: Path, archive: Path) -> None:
    partial = archive.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                out.write(path, arcname=str(Path("adapter") / path.relative_to(directory)))
    os.replace(partial, archive)
