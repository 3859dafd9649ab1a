"""Error pages: JSON under /api/ (the API's one error shape), Django's HTML pages elsewhere; a 503 when
the database is unavailable (``config.outage``)."""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

from .outage import DATABASE_DOWN, database_unavailable


def _api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    """Django's own 400s (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a bad Host...), before any view."""
    if not _api(request):
        return defaults.bad_request(request, exception)
    detail = "Bad request."
    if isinstance(exception, RequestDataTooBig):
        detail = (f"request body over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes "
                  "(send big imports as a multipart file)")  # fmt: skip
    return JsonResponse({"detail": detail}, status=400)


def not_found(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """A 500, or the 503 of ``outage`` when the error being handled is the database's being unavailable."""
    error = sys.exception()
    if isinstance(error, DATABASE_DOWN):
        return database_unavailable(request, error)
    if _api(request):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return defaults.server_error(request)
