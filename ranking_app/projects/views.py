"""Project list and project overview pages."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..models import Project
from .selectors import project_counts, project_list


@require_GET
@login_required
def home(request):
    return render(request, "ranking_app/home.html", {"projects": project_list(user=request.user)})


@require_GET
@login_required
def project_detail(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    return render(
        request,
        "ranking_app/project_detail.html",
        {"project": project, "counts": project_counts(project=project)},
    )
