"""The generation page (admins: launch a job that fills the next round) and the loop's timeline (reviewers)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from ranking_app.models import Project
from ranking_app.roles import admin_required, reviewer_required

from ..services.job_config import JobConfigError
from .forms import GenerationForm
from .selectors import project_timeline, timeline_metric_labels
from .services import generation_launch


@require_http_methods(["GET", "POST"])
@admin_required
def generation_launch_view(request):
    form = GenerationForm(request.POST or None, initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        try:
            job = generation_launch(
                project=form.cleaned_data["project"], sources=form.sources(), base_model=form.chosen_base_model(),
                sampling=form.sampling(), prompt_set=form.cleaned_data["prompt_set"], created_by=request.user,
            )  # fmt: skip
        except JobConfigError as exc:
            form.add_launch_errors(exc.errors)
        else:
            messages.success(request, f"Generation job {job.pk} queued: it opens round {job.round.number}.")
            return redirect("training:job_detail", pk=job.pk)
    return render(request, "training/generation_launch.html", {"form": form})


@require_GET
@reviewer_required
@vary_on_headers("HX-Request")
def project_timeline_view(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    context = {"project": project, "rounds": project_timeline(project=project), "metrics": timeline_metric_labels()}
    template = "training/_timeline.html" if request.htmx else "training/timeline.html"
    return render(request, template, context)
