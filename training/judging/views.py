"""The "Rank with a model" page (admins): queue a judging job."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ranking_app.roles import admin_required

from ..services.job_config import JobConfigError
from .forms import JudgingForm
from .services import judging_launch


@require_http_methods(["GET", "POST"])
@admin_required
def judging_launch_view(request):
    form = JudgingForm(request.POST or None, initial={"project": request.GET.get("project")})
    if request.method == "POST" and form.is_valid():
        try:
            job = judging_launch(
                project=form.cleaned_data["project"], model=form.chosen_model(), settings=form.settings(),
                adapter_job=form.cleaned_data["adapter_job"], round_number=form.cleaned_data["round"],
                created_by=request.user,
            )  # fmt: skip
        except JobConfigError as exc:
            form.add_launch_errors(exc.errors)
        else:
            messages.success(request, f"Job {job.pk} queued: {job.config['annotator']} will rank "
                                      f"{job.data_summary['prompts']} prompts.")
            return redirect("training:job_detail", pk=job.pk)
    return render(request, "training/judging/launch.html", {"form": form})
