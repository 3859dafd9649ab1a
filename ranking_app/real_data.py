"""Converters from the public ranking data sets in ``../shared/data/real`` to the exchange format.

Pure functions (no Django): each takes the source rows and returns exchange records
``{"id", "prompt", "responses", "response_details", "annotations", "split", "metadata"}``
(ARCHITECTURE.md; ``response_details[i]`` is ``{"source", "metadata"}`` of ``responses[i]``).
The converted copies ship in ``data/real/`` (attribution in ``data/real/SOURCES.md``) so a fresh
machine has them; regenerate them with::

    python -m ranking_app.real_data [--source ../shared/data/real] [--output data/real]

* **LAMP** (salesforce/creativity_eval, BSD-3-Clause): 201 writing prompts x 3 responses
  (``AI-generated``, ``AI-edited``, ``Human-edited``: each response's ``source``), each ranked
  1 (best) .. 3 by 3 named annotators. Ranks become 0 .. 2; the response order is the source's
  (it varies per record).
  The source id ``gene_batch1_10`` occurs twice, so every id gets the instruction id appended.
* **OASST** (LAION-AI/Open-Assistant, Apache-2.0): 154 groups of 3-9 assistant replies to one
  conversation, with one merged ranking (0 = best, no ties), stored as annotator ``oasst``. The
  source lists replies best first, so they are shuffled (seeded by the group id) to keep the best
  from always sitting at position 0. Earlier turns of the conversation are rendered into the
  prompt text as ``**User:**`` / ``**Assistant:**`` paragraphs; the raw turns stay in metadata.

The train/test split is a pure function of the record id (about 20% test,
``ranking_app.ranking.split_for``), so it never changes when records are added, removed or reordered.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable
from pathlib import Path

from .exchange.jsonl import ExchangeError, parse_json_lines
from .ranking import normalize_ranks, split_for

REPO_DIR = Path(__file__).resolve().parent.parent
SHIPPED_DIR = REPO_DIR / "data" / "real"
SHARED_DIR = REPO_DIR.parent / "shared" / "data" / "real"

LAMP_SOURCE = "lamp_preference_rankings_consolidated.jsonl"
OASST_SOURCE = "oasst1_en_100_ranked_sibling_groups.jsonl"
OASST_ANNOTATOR = "oasst"
ROLE_LABELS = {"prompter": "User", "assistant": "Assistant"}


class SourceError(ValueError):
    """A source row that cannot be converted; the message names the row and the problem."""


def read_jsonl(path: Path) -> list[dict]:
    """A source file's rows, read by the exchange's JSONL reader; a bad line is a ``SourceError``."""
    try:
        return parse_json_lines(path.read_text(encoding="utf-8"))
    except ExchangeError as error:
        raise SourceError(f"{path.name} {'; '.join(error.errors)}") from None


def write_jsonl(records: Iterable[dict], path: Path) -> int:
    """Write records one per line, byte-identical for the same input; returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def lamp_record(row: dict, number: int = 0) -> dict:
    """One LAMP row -> an exchange record with one annotation per named annotator."""
    where = f"LAMP row {number} (id {row.get('id')!r})"
    keys = list(row.get("responses") or {})
    if len(keys) < 2:
        raise SourceError(f"{where}: needs at least two responses")
    annotations = []
    for annotation in row.get("annotations") or []:
        rank = annotation.get("rank") or {}
        if set(rank) != set(keys):
            raise SourceError(f"{where}: annotator {annotation.get('annotator')!r} ranks {sorted(rank)}, not {keys}")
        annotations.append({"annotator": annotation["annotator"], "rankings": normalize_ranks([rank[k] for k in keys])})
    record_id = f"lamp-{row['id']}-i{row['instruction_id']}"
    return {
        "id": record_id,
        "prompt": row["instruction"],
        "responses": [row["responses"][k] for k in keys],
        "response_details": [{"source": k, "metadata": {}} for k in keys],
        "annotations": annotations,
        "split": split_for(record_id),
        "metadata": {
            "dataset": "lamp",
            "source_id": row["id"],
            "instruction_id": row["instruction_id"],
            "batch": row.get("batch"),
            "type": row.get("type"),
            "source_model": row.get("source_model"),
        },
    }


def oasst_record(row: dict, number: int = 0) -> dict:
    """One OASST sibling group -> an exchange record with the merged ranking as annotator ``oasst``."""
    where = f"OASST row {number} (parent {row.get('parent_message_id')!r})"
    replies = list(row.get("replies") or [])
    context = list(row.get("context") or [])
    if len(replies) < 2:
        raise SourceError(f"{where}: needs at least two replies")
    if not context or context[-1].get("role") != "prompter":
        raise SourceError(f"{where}: the conversation must end with a prompter turn")
    record_id = f"oasst-{row['parent_message_id']}"
    random.Random(record_id).shuffle(replies)
    return {
        "id": record_id,
        "prompt": render_conversation(context),
        "responses": [reply["text"] for reply in replies],
        "response_details": [
            {"source": reply.get("model_name") or "human", "metadata": {"message_id": reply["message_id"]}}
            for reply in replies
        ],
        "annotations": [{"annotator": OASST_ANNOTATOR, "rankings": normalize_ranks([r["rank"] for r in replies])}],
        "split": split_for(record_id),
        "metadata": {
            "dataset": "oasst",
            "message_tree_id": row["message_tree_id"],
            "parent_message_id": row["parent_message_id"],
            "context": context,
        },
    }


def render_conversation(context: list[dict]) -> str:
    """The prompt text: a single question as is; a conversation as labelled Markdown paragraphs."""
    if len(context) == 1:
        return context[0]["text"]
    return "\n\n".join(f"**{ROLE_LABELS.get(turn['role'], turn['role'])}:** {turn['text']}" for turn in context)


def lamp_records(rows: Iterable[dict]) -> list[dict]:
    return _convert_all("LAMP", lamp_record, rows)


def oasst_records(rows: Iterable[dict]) -> list[dict]:
    return _convert_all("OASST", oasst_record, rows)


def _convert_all(dataset: str, convert, rows: Iterable[dict]) -> list[dict]:
    records = []
    for number, row in enumerate(rows, start=1):
        try:
            records.append(convert(row, number))
        except (KeyError, TypeError, AttributeError) as exc:
            raise SourceError(f"{dataset} row {number}: missing or malformed field ({exc!r})") from exc
    return _unique(records)


def _unique(records: list[dict]) -> list[dict]:
    seen: set[str] = set()
    for record in records:
        if record["id"] in seen:
            raise SourceError(f"duplicate record id {record['id']!r}")
        seen.add(record["id"])
    return records


CONVERTERS = {"lamp": (LAMP_SOURCE, lamp_records), "oasst": (OASST_SOURCE, oasst_records)}


def shipped_path(name: str) -> Path:
    return SHIPPED_DIR / f"{name}.jsonl"


def shipped_records(name: str) -> list[dict] | None:
    """The converted records shipped in ``data/real/<name>.jsonl``, or ``None`` if absent."""
    path = shipped_path(name)
    return read_jsonl(path) if path.exists() else None


def shipped_guidelines(name: str) -> str:
    """The labeling guidelines shipped beside the data (``data/real/<name>.guidelines.md``), or ``""``."""
    path = SHIPPED_DIR / f"{name}.guidelines.md"
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def regenerate(source: Path = SHARED_DIR, output: Path = SHIPPED_DIR) -> dict[str, int]:
    """Convert every source file found in ``source`` into ``output``; returns counts per data set."""
    counts = {}
    for name, (filename, convert) in CONVERTERS.items():
        path = source / filename
        if path.exists():
            counts[name] = write_jsonl(convert(read_jsonl(path)), output / f"{name}.jsonl")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert the real ranking data sets to the exchange format.")
    parser.add_argument("--source", type=Path, default=SHARED_DIR, help="folder with the source .jsonl files")
    parser.add_argument("--output", type=Path, default=SHIPPED_DIR, help="where to write lamp.jsonl, oasst.jsonl")
    args = parser.parse_args(argv)
    try:
        counts = regenerate(args.source, args.output)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not counts:
        print(f"error: no source files ({LAMP_SOURCE}, {OASST_SOURCE}) in {args.source}", file=sys.stderr)
        return 1
    for name, count in counts.items():
        print(f"wrote {args.output / (name + '.jsonl')}: {count} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
