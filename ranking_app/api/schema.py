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
# What ``safe_json.text_problem`` lets through (no control character but tab, newline and carriage
# return), as the pattern of every string the API takes that has no stricter rule of its own.
CONTROL = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f"
STORABLE_TEXT = f"^[^{CONTROL}]*$"
# A required text (``minLength`` 1) is trimmed first (DRF's ``trim_whitespace``): it needs one character
# that is neither a control character nor what Python's ``str.strip`` removes.
STRIPPED = "".join(f"\\u{code:04x}" for code in range(0x3001) if chr(code).isspace())
NON_BLANK_TEXT = f"^[^{CONTROL}]*[^{CONTROL}{STRIPPED}][^{CONTROL}]*$"


STORABLE_REF = {"$ref": "#/components/schemas/StorableValue"}
STORABLE_VALUE = {
    "description": "Any JSON value whose strings and keys hold no control character (the JSON parser refuses "
    "them, at any depth).",
    "anyOf": [
        {"type": "string", "pattern": STORABLE_TEXT},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": STORABLE_REF},
        {"type": "object", "propertyNames": {"pattern": STORABLE_TEXT}, "additionalProperties": STORABLE_REF},
    ],
}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the ``Error`` component and every error response, and
    the storable-text pattern on every string an operation takes."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["StorableValue"] = STORABLE_VALUE
    for name, component in schemas.items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the request-side components
            _storable_strings(component)
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                _storable_strings(parameter.get("schema", {}))
            for body in operation.get("requestBody", {}).get("content", {}).values():
                _storable_strings(body.get("schema", {}))
            responses = operation.setdefault("responses", {})
            for code, reason in REASONS.items():
                if code in BODY_ONLY and "requestBody" not in operation:
                    continue
                documented = responses.setdefault(code, {"description": reason})
                # One shape: a view's own 400 body (e.g. import's {"errors": [...]}) is an Error too,
                # and a 400 may also come from before the view (a bad query string, a too-large body).
                documented["content"] = {"application/json": {"schema": ref}}
    return result


def _storable_strings(schema: dict) -> None:
    """Give every free-text string in ``schema`` (nested objects and arrays too) the STORABLE_TEXT pattern."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"pattern", "enum", "format"} & schema.keys()):
        schema["pattern"] = NON_BLANK_TEXT if schema.get("minLength", 0) >= 1 else STORABLE_TEXT
    if schema.get("type") == "object":  # keys too; and an extra key's value (ignored) must be storable
        schema["propertyNames"] = {"pattern": STORABLE_TEXT}
        if schema.get("additionalProperties") in (None, True, {}):
            schema["additionalProperties"] = STORABLE_REF
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _storable_strings(child)
    for key in ("items", "additionalProperties"):
        _storable_strings(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            _storable_strings(child)
