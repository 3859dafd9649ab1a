"""The exchange format: read and check import files, render export records.

One record per prompt (JSON array or JSONL)::

    {"id": "p-001", "prompt": "...", "responses": ["...", "..."], "rankings": [0, 1],
     "annotations": [{"annotator": "alice", "rankings": [1, 0]}], "split": "train", "metadata": {}}

This module is pure (no database access): ``read_exchange_file`` parses a file,
``clean_records`` checks every record against the limits and the project's ranking rules and
returns typed ``ExchangeRecord`` values, ``export_record`` renders one prompt back into the format.
Every problem is reported, not just the first, as ``record N (id X): field: reason``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from .. import safe_json
from ..ranking import RankingRules, Ranks, normalize_ranks, ranks_errors

# Keys an import record may carry. ``agreement`` is what an export adds: a record that carries it
# was exported by GRPO Studio, so its ``rankings`` is a derived consensus (see ``ExchangeRecord``).
RECORD_KEYS = ("id", "prompt", "responses", "response_details", "rankings", "annotations", "split", "metadata", "agreement")
SPLITS = {"train": "train", "test": "test", "validation": "validation", "unassigned": "unassigned", None: "unassigned"}
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}\Z")
MAX_ID_CHARS = 200
MAX_SOURCE_CHARS = 200


class ExchangeError(ValueError):
    """An import that cannot go ahead; ``errors`` lists every problem found, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class ResponseDetail:
    source: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass
class ExchangeRecord:
    """One checked record. ``rankings`` is None when the record brings no top-level ranking
    (absent, null, all-null, or a consensus in a record exported by GRPO Studio)."""

    number: int
    id: str
    prompt: str
    responses: list[str]
    details: list[ResponseDetail]
    rankings: Ranks | None
    annotations: dict[str, Ranks]  # username -> normalised ranks, in file order
    split: str
    metadata: dict
    times: dict[str, int] = field(default_factory=dict)  # username -> optional time_spent_ms


# --------------------------------------------------------------------------- reading


def read_exchange_file(path_or_file: str | os.PathLike | IO) -> list[dict]:
    """Parse a JSON array, a single JSON object or JSONL into a list of raw records.

    Accepts a path or an open file (text or binary, e.g. a Django ``UploadedFile``). Raises
    ``ExchangeError`` for a file over ``settings.IMPORT_MAX_FILE_BYTES``, text that is not UTF-8,
    malformed JSON (with the line number; every bad JSONL line is listed) and an empty file.
    """
    raw = _read_bytes(path_or_file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExchangeError([f"file: not UTF-8 text (bad byte at offset {error.start})"]) from None
    stripped = text.lstrip()
    if not stripped:
        raise ExchangeError(["file: is empty (expected a JSON array or JSON lines, one record per prompt)"])
    if stripped[0] == "[":
        return _parse_json_array(text)
    if stripped[0] == "{":
        try:
            value = safe_json.parse(text)
        except json.JSONDecodeError:
            pass  # several objects: JSON lines
        except safe_json.JsonInputError as error:
            raise ExchangeError([f"file: {error}"]) from None
        else:
            return [value]
    return parse_json_lines(text)


def _read_bytes(path_or_file) -> bytes:
    limit = settings.IMPORT_MAX_FILE_BYTES
    if isinstance(path_or_file, (str, os.PathLike)):
        path = Path(path_or_file)
        if not path.is_file():
            raise ExchangeError([f"file: {path} does not exist or is not a file"])
        size = path.stat().st_size
        if size > limit:
            raise ExchangeError([_too_big(size, limit)])
        return path.read_bytes()
    size = getattr(path_or_file, "size", None)
    if size is not None and size > limit:
        raise ExchangeError([_too_big(size, limit)])
    if hasattr(path_or_file, "seek"):
        path_or_file.seek(0)
    data = path_or_file.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise ExchangeError([_too_big(None, limit)])
    return data


def _too_big(size: int | None, limit: int) -> str:
    actual = f"{size:,} bytes" if size is not None else "more than that"
    return f"file: too big ({actual}; the limit is {limit:,} bytes, setting GRPO_IMPORT_MAX_FILE_BYTES)"


def _parse_json_array(text: str) -> list[dict]:
    try:
        value = safe_json.parse(text)
    except json.JSONDecodeError as error:
        raise ExchangeError(
            [f"file: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from None
    except safe_json.JsonInputError as error:
        raise ExchangeError([f"file: {error}"]) from None
    if not isinstance(value, list):
        raise ExchangeError([f"file: expected a JSON array of records (got {type(value).__name__})"])
    return value


def parse_json_lines(text: str) -> list[dict]:
    """The project's one JSONL reader: a value per non-blank line; ``ExchangeError`` lists every bad line."""
    records, errors = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(safe_json.parse(line))
        except json.JSONDecodeError as error:
            errors.append(f"line {line_number}: malformed JSON at column {error.colno}: {error.msg}")
        except safe_json.JsonInputError as error:
            errors.append(f"line {line_number}: {error}")
    if errors:
        raise ExchangeError(errors)
    return records


# --------------------------------------------------------------------------- checking


def clean_records(
    records: Iterable[object],
    *,
    rules: RankingRules,
    source: str = "import",
) -> list[ExchangeRecord]:
    """Check every raw record; return them typed or raise ``ExchangeError`` listing every problem.

    ``rules`` are the target project's ranking rules (ties, partial rankings); ``source`` is the
    username the top-level ``rankings`` will be stored under.
    """
    cleaned, errors = [], []
    first_seen: dict[str, int] = {}
    for number, raw in enumerate(records, start=1):
        record_id, record, record_errors = _clean_record(number, raw, rules, source)
        if record_id is not None and record_id in first_seen:
            record_errors.append(f"id: duplicate of record {first_seen[record_id]} in this file")
        elif record_id is not None:
            first_seen[record_id] = number
        label = record_label(number, record_id if record_id is not None else raw.get("id") if isinstance(raw, dict) else None)
        errors.extend(f"{label}: {problem}" for problem in record_errors)
        if record is not None and not record_errors:
            cleaned.append(record)
    if not cleaned and not errors:
        errors.append("file: contains no records")
    if errors:
        raise ExchangeError(errors)
    return cleaned


def record_label(number: int, record_id: object) -> str:
    if isinstance(record_id, str) and safe_json.text_problem(record_id):
        record_id = record_id.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    if isinstance(record_id, (str, int)) and not isinstance(record_id, bool):
        return f"record {number} (id {record_id})"
    return f"record {number}"


def _clean_record(
    number: int, raw: object, rules: RankingRules, source: str
) -> tuple[str | None, ExchangeRecord | None, list[str]]:
    """(clean id or None, the record or None, problems)."""
    if not isinstance(raw, dict):
        return None, None, [f"record: expected a JSON object (got {_type_name(raw)})"]
    errors: list[str] = []
    stored_problem = safe_json.problem(raw, max_depth=safe_json.MAX_DEPTH - 1)  # depth, unstorable text
    if stored_problem:
        errors.append(stored_problem)
    unknown = sorted(set(raw) - set(RECORD_KEYS))
    if unknown:
        errors.append(f"{', '.join(unknown)}: unknown field (expected some of {', '.join(RECORD_KEYS)})")
    prompt = _clean_text("prompt", raw.get("prompt"), errors, required=True)
    responses = _clean_responses(raw.get("responses"), errors)
    record_id = _clean_id(raw["id"], errors) if raw.get("id") is not None else derived_id(prompt, responses)
    n = len(responses) if responses is not None else None
    details = _clean_details(raw.get("response_details"), n, errors)
    exported = "agreement" in raw
    # An exported consensus is not stored (below), so only its shape is checked, not the project's rules.
    rankings_rules = RankingRules(allow_ties=True, allow_partial=True, min_ranked=0) if exported else rules
    rankings = _clean_ranks("rankings", raw.get("rankings"), n, rankings_rules, errors)
    annotations = _clean_annotations(raw.get("annotations"), n, rules, errors)
    times = _clean_times(raw.get("annotations"), errors)
    split = _clean_split(raw.get("split"), errors)
    metadata = _clean_metadata(raw.get("metadata"), errors)
    if exported:
        rankings = None  # an exported consensus, derived from the annotations: not a ranking of its own
    if responses == [] and (rankings is not None or annotations):
        errors.append("rankings: a prompt without responses cannot carry rankings or annotations")
    if rankings is not None and source in annotations and annotations[source] != rankings:
        errors.append(
            f"annotations: annotator {source!r} is also the import source that top-level rankings "
            f"are stored under, and the two rankings differ"
        )
    if errors:
        return record_id, None, errors
    record = ExchangeRecord(number, record_id, prompt, responses, details, rankings, annotations, split, metadata, times)
    return record_id, record, []


def _type_name(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def derived_id(prompt: str | None, responses: list[str] | None) -> str | None:
    """The id of a record that brings none: a hash of its prompt and responses (in order), so
    importing the same file again matches the same prompts. None while either is invalid."""
    if prompt is None or responses is None:
        return None
    content = json.dumps([prompt, responses], ensure_ascii=False, separators=(",", ":"))
    return "sha256-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:20]


def _clean_id(value: object, errors: list[str]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.append(f"id: must be a string or an integer (got {_type_name(value)})")
        return None
    value = str(value)
    if not value.strip():
        errors.append("id: must not be empty")
        return None
    if len(value) > MAX_ID_CHARS:
        errors.append(f"id: {len(value)} characters, over the limit of {MAX_ID_CHARS}")
        return None
    return value


def _clean_text(name: str, value: object, errors: list[str], *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        errors.append(f"{name}: must be a string (got {_type_name(value)})")
        return None
    if required and not value.strip():
        errors.append(f"{name}: must not be empty")
        return None
    limit = settings.IMPORT_MAX_TEXT_CHARS
    if len(value) > limit:
        errors.append(f"{name}: {len(value):,} characters, over the limit of {limit:,} (GRPO_IMPORT_MAX_TEXT_CHARS)")
        return None
    return value


def _clean_responses(value: object, errors: list[str]) -> list[str] | None:
    if value is None or value == []:
        return []  # a prompt without responses yet: a generation job fills them in
    if not isinstance(value, list):
        errors.append(f"responses: must be an array of strings (got {_type_name(value)})")
        return None
    low, high = settings.IMPORT_MIN_RESPONSES, settings.IMPORT_MAX_RESPONSES
    if not low <= len(value) <= high:
        errors.append(f"responses: has {len(value)} responses; a prompt needs {low} to {high}")
        return None
    before = len(errors)
    texts = [_clean_text(f"responses[{i}]", text, errors, required=True) for i, text in enumerate(value)]
    return None if len(errors) > before else texts


def _clean_details(value: object, n: int | None, errors: list[str]) -> list[ResponseDetail]:
    if value is None:
        return [ResponseDetail() for _ in range(n or 0)]
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        errors.append("response_details: must be an array of objects {\"source\": string, \"metadata\": object}")
        return []
    if n is not None and len(value) != n:
        errors.append(f"response_details: has {len(value)} entries but there are {n} responses")
        return []
    details = []
    for i, item in enumerate(value):
        unknown = sorted(set(item) - {"source", "metadata"})
        source, metadata = item.get("source") or "", item.get("metadata") or {}
        if unknown:
            errors.append(f"response_details[{i}]: unknown field {', '.join(unknown)} (expected source, metadata)")
        if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
            errors.append(f"response_details[{i}].source: must be a string of at most {MAX_SOURCE_CHARS} characters")
        if not isinstance(metadata, dict):
            errors.append(f"response_details[{i}].metadata: must be an object (got {_type_name(metadata)})")
        details.append(ResponseDetail(source if isinstance(source, str) else "", metadata if isinstance(metadata, dict) else {}))
    return details


def _clean_ranks(name: str, value: object, n: int | None, rules: RankingRules, errors: list[str]) -> Ranks | None:
    """Normalised ranks, or None for no ranking (absent, null or every entry null)."""
    if value is None:
        return None
    if isinstance(value, list) and value and all(r is None for r in value) and (n is None or len(value) == n):
        return None
    if n is None:  # responses are broken: only the type can be checked
        if not isinstance(value, list):
            errors.append(f"{name}: must be an array of integers or nulls (got {_type_name(value)})")
        return None
    problems = ranks_errors(value, n, rules, submitted=True)
    errors.extend(f"{name}: {problem}" for problem in problems)
    return None if problems else normalize_ranks(value)  # type: ignore[arg-type]


def _clean_annotations(value: object, n: int | None, rules: RankingRules, errors: list[str]) -> dict[str, Ranks]:
    if value is None:
        return {}
    if not isinstance(value, list):
        errors.append(f"annotations: must be an array of {{\"annotator\", \"rankings\"}} objects (got {_type_name(value)})")
        return {}
    annotations: dict[str, Ranks] = {}
    for i, item in enumerate(value):
        name = f"annotations[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{name}: must be an object {{\"annotator\", \"rankings\"}} (got {_type_name(item)})")
            continue
        unknown = sorted(set(item) - {"annotator", "rankings", "time_spent_ms"})
        if unknown:
            errors.append(f"{name}: unknown field {', '.join(unknown)} (expected annotator, rankings, time_spent_ms)")
        annotator = item.get("annotator")
        if not isinstance(annotator, str) or not USERNAME_RE.match(annotator):
            errors.append(f"{name}.annotator: must be a username (letters, digits and @.+-_, at most 150 characters)")
            continue
        if annotator in annotations:
            errors.append(f"{name}.annotator: {annotator!r} appears more than once in this record")
            continue
        before = len(errors)
        ranks = _clean_ranks(f"{name}.rankings", item.get("rankings"), n, rules, errors)
        if ranks is None and len(errors) == before and n is not None:
            errors.append(f"{name}.rankings: is required and must rank at least {rules.min_ranked} responses")
        if ranks is not None:
            annotations[annotator] = ranks
    return annotations


def _clean_times(value: object, errors: list[str]) -> dict[str, int]:
    """The optional ``time_spent_ms`` of each annotation (milliseconds, stored with a first ranking)."""
    times = {}
    for i, item in enumerate(value if isinstance(value, list) else []):
        if not isinstance(item, dict) or item.get("time_spent_ms") is None:
            continue
        ms = item["time_spent_ms"]
        if isinstance(ms, bool) or not isinstance(ms, int) or not 0 <= ms < 2**31:
            errors.append(f"annotations[{i}].time_spent_ms: must be a whole number of milliseconds (0 to 2^31-1)")
        elif isinstance(item.get("annotator"), str):
            times[item["annotator"]] = ms
    return times


def _clean_split(value: object, errors: list[str]) -> str:
    if isinstance(value, str) or value is None:
        if value in SPLITS:
            return SPLITS[value]
    errors.append(f"split: must be \"train\", \"validation\", \"test\", \"unassigned\" or null (got {json.dumps(value)})")
    return "unassigned"


def _clean_metadata(value: object, errors: list[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"metadata: must be an object (got {_type_name(value)})")
        return {}
    return value


# --------------------------------------------------------------------------- writing


def sorted_json(value: Any) -> Any:
    """``value`` with every object's keys sorted, so exports do not depend on storage order."""
    if isinstance(value, dict):
        return {key: sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(item) for item in value]
    return value


def export_record(
    *,
    record_id: str,
    prompt: str,
    responses: list[str],
    details: list[ResponseDetail],
    rankings: Ranks | None,
    annotations: list[tuple[str, Ranks]],
    split: str,
    metadata: dict,
    agreement: dict,
) -> dict:
    """One export record, keys in a fixed order. ``response_details`` only appears when some
    response has a source or metadata; an unassigned prompt is written with ``"split": null``."""
    record: dict[str, Any] = {"id": record_id, "prompt": prompt, "responses": responses}
    if any(d.source or d.metadata for d in details):
        record["response_details"] = [{"source": d.source, "metadata": sorted_json(d.metadata)} for d in details]
    record["rankings"] = rankings
    record["annotations"] = [{"annotator": name, "rankings": ranks} for name, ranks in annotations]
    record["split"] = None if split == "unassigned" else split
    record["metadata"] = sorted_json(metadata)
    record["agreement"] = agreement
    return record


def dumps_line(record: dict) -> str:
    """One record as a compact JSON line (UTF-8 text kept as is, no trailing spaces)."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False)


def write_json_array(records: Iterable[dict], out: io.TextIOBase) -> None:
    """A JSON array with one record per line: valid JSON that still diffs line by line."""
    out.write("[")
    for index, record in enumerate(records):
        out.write(",\n" if index else "\n")
        out.write(dumps_line(record))
    out.write("\n]\n")


def write_json_lines(records: Iterable[dict], out: io.TextIOBase) -> None:
    for record in records:
        out.write(dumps_line(record))
        out.write("\n")
