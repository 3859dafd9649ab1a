"""The generation page (admins only): launch a job that fills the next round with candidates."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ranking_app.roles import admin_required

from ..services.config import JobConfigError
from .forms import GenerationForm
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
