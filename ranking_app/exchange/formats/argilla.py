"""Argilla ranking questions, in the two shapes that keep the ranks.

* **Server records** (``GET /api/v1/datasets/{id}/records?include=responses``, Argilla 1.x and
  2.x servers): ``{"id", "fields": {...}, "responses": [{"user_id", "status", "values":
  {"<question>": {"value": [{"value": "<option>", "rank": 1}, ...]}}}]}``. Equal ranks tie; an
  option without a rank is unranked.
* **Argilla 1.x Hub rows** (``FeedbackDataset.push_to_huggingface``): one column per field and
  per question; a ranking column holds ``[{"user_id", "status", "value": {"rank": [...],
  "value": [...]}}]``.

The options must name the record's fields (the usual ``response-1``, ``response-2`` set-up):
those fields are the responses, the other text field is the prompt. Submitted responses are
imported, one ranking per ``user_id``; drafts and discarded responses are not decisions and are
skipped. Argilla 2.x SDK exports (``Dataset.to_disk``, ``to_datasets``, ``to_hub``) keep only the
option names in order and drop the ranks (argilla#5712): ties and unranked options are lost, so
such a file is refused with a note on how to fetch the records with their ranks.
"""

from __future__ import annotations

from ..jsonl import ExchangeError
from .conversion import ImportOptions, RowError, convert_rows, username

NAME = "argilla"
PROMPT_KEYS = ("prompt", "instruction", "question", "input", "text")
RANKLESS = (
    "argilla: this is an Argilla 2.x SDK export (Dataset.to_disk / to_datasets / to_hub), whose ranking "
    "responses keep only the option names in order and drop the ranks (argilla#5712), so ties and unranked "
    "options cannot be told apart. Export the records with their ranks from the server instead: "
    "GET /api/v1/datasets/<dataset id>/records?include=responses (or client.api.records in the SDK), "
    "and import that JSON with --format argilla"
)


def mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if _is_server_record(first) or _hub_questions(first) or _is_rankless(first):
        return None
    return "records have neither `fields` + `responses` nor a column of {\"rank\", \"value\"} rankings"


def convert(rows: list, options: ImportOptions) -> list[dict]:
    first = next((row for row in rows if isinstance(row, dict)), {})
    if _is_rankless(first):
        raise ExchangeError([RANKLESS])
    return convert_rows(rows, _record, lambda row: row.get("id") or row.get("external_id"))


def _is_server_record(row: dict) -> bool:
    return isinstance(row.get("fields"), dict) and isinstance(row.get("responses"), list)


def _hub_questions(row: dict) -> list[str]:
    """Columns of a 1.x Hub row that hold ranking responses."""
    return [
        key for key, value in row.items()
        if isinstance(value, list) and value and all(_is_hub_ranking(v) for v in value)
    ]


def _is_hub_ranking(value: object) -> bool:
    inner = value.get("value") if isinstance(value, dict) else None
    return isinstance(inner, dict) and isinstance(inner.get("rank"), list) and isinstance(inner.get("value"), list)


def _is_rankless(row: dict) -> bool:
    if isinstance(row.get("fields"), dict) and isinstance(row.get("responses"), dict):
        return True  # Dataset.to_disk records.json: {"responses": {"<question>": [{"value": [names]}]}}
    return any(key.endswith(".responses") for key in row)  # to_datasets / to_hub columns


def _record(row: dict) -> dict:
    read = _server_rankings if _is_server_record(row) else _hub_rankings
    fields = row["fields"] if _is_server_record(row) else _hub_fields(row)
    rankings = read(row, submitted_only=True)
    options = list(dict.fromkeys(option for ranks in read(row, submitted_only=False).values() for option in ranks))
    unknown = [o for o in options if not isinstance(fields.get(o), str)]
    if unknown:
        raise RowError("responses", f"ranking option(s) {unknown} are not text fields of the record {sorted(fields)}")
    responses = [key for key in fields if key in options] or _fail("responses", "no ranking question answered")
    prompt_key = next((k for k in PROMPT_KEYS if isinstance(fields.get(k), str)), None)
    prompt_key = prompt_key or next((k for k, v in fields.items() if isinstance(v, str) and k not in options), None)
    if prompt_key is None:
        raise RowError("fields", "no prompt text (a text field that is not a ranking option)")
    record = {"prompt": fields[prompt_key], "responses": [fields[k] for k in responses]}
    record["annotations"] = [
        {"annotator": name, "rankings": [ranks.get(key) for key in responses]} for name, ranks in rankings.items()
    ]
    record_id = row.get("external_id") or row.get("id")
    if record_id is not None:
        record["id"] = f"argilla-{record_id}"
    record["metadata"] = {"dataset": "argilla", "argilla_id": row.get("id")}
    return record


def _fail(field: str, reason: str):
    raise RowError(field, reason)


def _skip(response: object, submitted_only: bool) -> bool:
    if not isinstance(response, dict):
        return True
    return submitted_only and response.get("status", "submitted") != "submitted"


def _server_rankings(row: dict, *, submitted_only: bool) -> dict[str, dict[str, int | None]]:
    """user -> {option: rank or None} of the (submitted) responses."""
    rankings = {}
    for response in row["responses"]:
        if _skip(response, submitted_only):
            continue
        for value in (response.get("values") or {}).values():
            options = value.get("value") if isinstance(value, dict) else None
            if isinstance(options, list) and options and all(isinstance(o, dict) and "value" in o for o in options):
                rankings[username(response.get("user_id"), "argilla")] = {o["value"]: o.get("rank") for o in options}
    return rankings


def _hub_fields(row: dict) -> dict:
    skip = {*_hub_questions(row), "id", "external_id", "metadata"}
    return {k: v for k, v in row.items() if isinstance(v, str) and k not in skip and "suggestion" not in k}


def _hub_rankings(row: dict, *, submitted_only: bool) -> dict[str, dict[str, int | None]]:
    rankings = {}
    for question in _hub_questions(row):
        for response in row[question]:
            if _skip(response, submitted_only):
                continue
            value = response["value"]
            if len(value["rank"]) != len(value["value"]):
                raise RowError(question, "`rank` and `value` have different lengths")
            rankings[username(response.get("user_id"), "argilla")] = dict(zip(value["value"], value["rank"], strict=True))
    return rankings
