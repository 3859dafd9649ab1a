"""Database unavailable -> 503 with Retry-After, built without touching the database.

``DatabaseUnavailableMiddleware`` answers a view that raised ``OperationalError``/``InterfaceError``;
``config.views.server_error`` (handler500) answers the same errors raised anywhere else on the way
(session load and save, the user lookup, django-axes on login). HTML pages get ``503.html``
rendered without a request (no context processor, so no session, user or query); paths under
/api/ get an RFC 9457 problem detail (``application/problem+json``).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

DATABASE_DOWN = (OperationalError, InterfaceError)
logger = logging.getLogger("grpo.outage")


def database_unavailable(request, error: BaseException | None = None) -> HttpResponse:
    """The 503 for ``request``: problem JSON under /api/, the HTML page elsewhere; Retry-After either way."""
    retry = settings.DATABASE_RETRY_AFTER_SECONDS
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, error)
    detail = f"The database is unavailable; nothing was changed by this request. Retry in {retry} seconds."
    if request.path.startswith("/api/"):
        body = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": detail}
        response = HttpResponse(json.dumps(body), status=503, content_type="application/problem+json")
    else:
        html = render_to_string("503.html", {"detail": detail, "retry_after": retry})
        response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(request, exception) if isinstance(exception, DATABASE_DOWN) else None
