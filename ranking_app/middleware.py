"""Refuse form fields and query parameters holding text that cannot be stored (``safe_json.text_problem``:
a NUL or other control character, which PostgreSQL rejects or nobody means), before any view runs.

JSON bodies are checked by the API's parser; this covers the HTML forms and every query string.
"""

from itertools import chain

from django.http import HttpResponseBadRequest, JsonResponse

from .safe_json import text_problem


class RefuseUnstorableTextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        form = request.POST.lists() if request.method == "POST" else ()
        for name, values in chain(request.GET.lists(), form):
            for value in values:
                reason = text_problem(value) or text_problem(name)
                if reason:
                    message = f"{name[:50]!r}: {reason}"
                    if request.path.startswith("/api/"):
                        return JsonResponse({"detail": message}, status=400)
                    return HttpResponseBadRequest(f"Bad request: {message}\n", content_type="text/plain; charset=utf-8")
        return self.get_response(request)
