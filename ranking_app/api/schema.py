"""OpenAPI post-processing: every operation documents the error answers it can really give.

All API errors share one shape, the ``Error`` schema: DRF's ``{"detail": "..."}`` (401, 403, 404,
406, 415, a malformed or over-deep JSON body), field errors ``{"<field>": ["...", ...]}`` (400),
import problems ``{"errors": ["record N (id X): field: reason", ...]}`` (400), and a ranking
conflict's ``detail`` plus the stored version (409, documented where it happens).
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error. `detail` says what went wrong for the whole request; field errors are lists of "
    "messages under the field's name (nested objects for nested fields); an import lists every bad record under "
    "`errors`.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}, {"type": "string"}],
    },
}
REASONS = {
    "400": "The request (a query parameter, the body or one of its fields) is invalid; the body names each problem.",
    "401": "No valid credentials: a missing, unknown or inactive token (`WWW-Authenticate: Token`).",
    "403": "Authenticated, but this role may not do this.",
    "404": "No such object (or not visible to you).",
    "406": "The `Accept` header asks for a format the API cannot produce (it speaks JSON).",
    "415": "The request body's content type is not one this operation accepts.",
}
BODY_ONLY = {"415"}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the ``Error`` component and every error response."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, reason in REASONS.items():
                if code in BODY_ONLY and "requestBody" not in operation:
                    continue
                documented = responses.setdefault(code, {"description": reason})
                # One shape: a view's own 400 body (e.g. import's {"errors": [...]}) is an Error too,
                # and a 400 may also come from before the view (a bad query string, a too-large body).
                documented["content"] = {"application/json": {"schema": ref}}
    return result
