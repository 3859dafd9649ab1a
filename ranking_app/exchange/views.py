"""Import / export page of a project (admins): upload form, export buttons, snapshot list."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..archives import zip_directory
from ..models import ExportSnapshot, Project
from ..review.validated import prompt_statuses
from ..roles import admin_required
from ..safe_json import whole_number
from .exports import FORMATS, ExportError, export_create, export_path
from .formats import FORMATS as IMPORT_FORMATS
from .formats import ImportOptions
from .imports import MAX_SOURCE_NAME, import_file
from .jsonl import ExchangeError

FORMAT_LABELS = dict(ExportSnapshot.Format.choices)
MAX_LABEL_CONFIG_BYTES = 1_000_000


def _page(request, project: Project, *, status: int = 200, **extra):
    snapshots = Paginator(
        ExportSnapshot.objects.filter(project=project).select_related("created_by"), 25
    ).get_page(whole_number(request.GET.get("page", "")))
    statuses = prompt_statuses(project)
    context = {
        "project": project,
        "n_prompts": len(statuses),
        "n_validated": sum(1 for s in statuses.values() if s.status == "validated"),
        "snapshots": snapshots,
        "formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
        "max_source": MAX_SOURCE_NAME,
        "import_formats": IMPORT_FORMATS,
        **extra,
    }
    return render(request, "ranking_app/exchange/project_data.html", context, status=status)


@require_GET
@admin_required
def project_data(request, slug: str):
    return _page(request, get_object_or_404(Project, slug=slug))


@require_POST
@admin_required
def project_import(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    upload = request.FILES.get("file")
    source = request.POST.get("source", "").strip() or "import"
    if upload is None:
        return _page(request, project, status=400, import_errors=["file: choose a JSON or JSONL file to upload"])
    try:
        report = import_file(file=upload, slug=project.slug, format=request.POST.get("import_format", "auto"),
                             options=_import_options(request), source=source, user=request.user,
                             overwrite=request.POST.get("overwrite") == "on")
    except ExchangeError as error:
        return _page(request, project, status=400, import_errors=error.errors, upload_name=upload.name)
    messages.success(request, f"Imported {upload.name}: {report}")
    return redirect("exchange:project_data", slug=project.slug)


def _import_options(request) -> ImportOptions:
    config = request.FILES.get("label_config")
    if config is not None and config.size > MAX_LABEL_CONFIG_BYTES:
        raise ExchangeError([f"label config: over {MAX_LABEL_CONFIG_BYTES:,} bytes"])
    text = config.read().decode("utf-8", errors="replace") if config is not None else None
    return ImportOptions.from_text(
        label_config=text, buckets=request.POST.get("buckets", ""), score=request.POST.get("score", "")
    )


@require_POST
@admin_required
def project_export(request, slug: str):
    project = get_object_or_404(Project, slug=slug)
    try:
        snapshot = export_create(
            project=project,
            format=request.POST.get("format", ""),
            validated_only=request.POST.get("scope", "validated") != "all",
            created_by=request.user,
        )
    except ExportError as error:
        messages.error(request, str(error))
        return redirect("exchange:project_data", slug=project.slug)
    messages.success(request, f"Export #{snapshot.pk} ({FORMAT_LABELS[snapshot.format]}) written, sha256 {snapshot.sha256[:12]}…")
    return redirect("exchange:project_data", slug=project.slug)


@require_GET
@admin_required
def export_download(request, pk: int):
    return snapshot_download_response(get_object_or_404(ExportSnapshot, pk=pk))


# The content type of each export file (the API schema documents these, plus application/zip for `hf`).
DOWNLOAD_TYPES = {".json": "application/json", ".jsonl": "application/x-ndjson"}


def download_type(path) -> str:
    return DOWNLOAD_TYPES.get(path.suffix, "application/octet-stream")


def snapshot_download_response(snapshot: ExportSnapshot) -> FileResponse:
    """The snapshot's file as an attachment; a Hugging Face directory is zipped on the fly."""
    path = export_path(snapshot)
    if not path.exists():
        raise Http404("the snapshot's file is missing from the export directory")
    if path.is_file():
        return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name, content_type=download_type(path))
    archive = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    zip_directory(path, archive, root=path.name)
    archive.seek(0)
    return FileResponse(archive, as_attachment=True, filename=f"{path.name}.zip", content_type="application/zip")
