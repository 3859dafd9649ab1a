"""Exports: immutable, hashed snapshots of a project's rankings in four formats.

A snapshot file lives at ``settings.EXPORT_DIR/<project slug>/<name>`` and is never
overwritten (training jobs freeze one at launch and read it later). The same database gives
byte-identical data files: record order is by prompt id, key order is fixed, no timestamps
inside the data. Which prompts are exported (validated only, by default) and their consensus
come from ``ranking_app.review.validated.prompt_statuses`` and nowhere else; pairs and their
weights from ``ranking_app.ranking.weighted_pairs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import ExportSnapshot, Project
from ..ranking import weighted_pairs
from .records import dumps_line, write_json_array, write_json_lines
from .selectors import ExportRow, export_rows

FORMATS = ("json", "jsonl", "pairs", "hf", "label-studio", "trl")
SUFFIX = {"json": ".json", "jsonl": ".jsonl", "pairs": ".pairs.jsonl", "hf": "", "label-studio": ".json", "trl": ".jsonl"}
PAIR_WEIGHTING = "none"  # pairs are unweighted in the file (weight 1); the trainer weights them by rank_gap


class ExportError(ValueError):
    pass


def export_create(
    *, project: Project, format: str, validated_only: bool = True, created_by=None, round_number: int | None = None,
    rounds: list[int] | None = None, include_models: bool = False,
) -> ExportSnapshot:
    """Write a new snapshot of ``project`` in ``format`` and record it as an ``ExportSnapshot``;
    ``round_number`` keeps only the prompts of that round of the preference loop, ``rounds`` those
    of any of these rounds (0: the prompts from before the loop). Model annotators' rankings are
    left out unless ``include_models`` (then they join ``annotations``; the consensus in
    ``rankings`` stays the people's)."""
    if format not in FORMATS:
        raise ExportError(f"format: must be one of {', '.join(FORMATS)} (got {format!r})")
    if round_number:
        rounds = [round_number]
    rows = export_rows(project, validated_only=validated_only, rounds=rounds, include_models=include_models)
    directory = Path(settings.EXPORT_DIR) / project.slug
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        written = staging / "data"
        counts = WRITERS[format](rows, written)
        digest = directory_sha256(written) if written.is_dir() else file_sha256(written)
        final = _publish(written, directory, f"{project.slug}-{format}", SUFFIX[format], digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = {"prompts": len(rows), **counts}
    with transaction.atomic():
        return ExportSnapshot.objects.create(
            project=project,
            format=format,
            filters={"validated_only": validated_only, **_round_filter(round_number, rounds),
                     **({"include_models": True} if include_models else {})},
            counts=counts,
            sha256=digest,
            path=str(final.relative_to(Path(settings.EXPORT_DIR))),
            created_by=created_by,
        )


def export_path(snapshot: ExportSnapshot) -> Path:
    """Absolute path of the snapshot's file (a directory for the ``hf`` format)."""
    return (Path(settings.EXPORT_DIR) / snapshot.path).resolve()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def directory_sha256(path: Path) -> str:
    """sha256 over ``"<relative path>\\0<sha256 of file>\\n"`` for every file, sorted by path."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
    return digest.hexdigest()


def _publish(written: Path, directory: Path, stem: str, suffix: str, digest: str) -> Path:
    """Move the finished file or directory to a fresh name; never replaces an existing one."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    for attempt in range(1000):
        extra = f"-{attempt}" if attempt else ""
        final = directory / f"{stem}-{stamp}-{digest[:12]}{extra}{suffix}"
        try:
            if written.is_dir():
                final.mkdir()  # fails if taken; os.replace then swaps the empty dir for ours
                os.replace(written, final)
            else:
                os.link(written, final)  # fails if taken, never overwrites
            return final
        except FileExistsError:
            continue
    raise ExportError(f"could not find a free file name for {stem} in {directory}")


# --------------------------------------------------------------------------- reads


def _round_filter(round_number: int | None, rounds: list[int] | None) -> dict:
    if round_number:
        return {"round": round_number}
    return {"rounds": sorted(rounds)} if rounds else {}


# --------------------------------------------------------------------------- writers


def _write_json(rows: list[ExportRow], path: Path) -> dict:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_array((row.record for row in rows), out)
    return _record_counts(rows)


def _write_jsonl(rows: list[ExportRow], path: Path) -> dict:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_lines((row.record for row in rows), out)
    return _record_counts(rows)


def _record_counts(rows: list[ExportRow]) -> dict:
    splits: dict[str, int] = defaultdict(int)
    for row in rows:
        splits[row.record["split"] or "unassigned"] += 1
    return {
        "responses": sum(len(row.record["responses"]) for row in rows),
        "annotations": sum(len(row.record["annotations"]) for row in rows),
        "splits": dict(sorted(splits.items())),
    }


def pair_records(record: dict) -> list[dict]:
    """Every valid pair of the record's consensus: better response first, with the rank gap."""
    if record["rankings"] is None:
        return []
    return [
        {
            "id": record["id"],
            "prompt": record["prompt"],
            "chosen": record["responses"][better],
            "rejected": record["responses"][worse],
            "rank_gap": gap,
            "weight": weight,
            "split": record["split"],
        }
        for better, worse, gap, weight in weighted_pairs(record["rankings"], PAIR_WEIGHTING)
    ]


def _write_pairs(rows: list[ExportRow], path: Path) -> dict:
    n_pairs = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            for pair in pair_records(row.record):
                out.write(dumps_line(pair) + "\n")
                n_pairs += 1
    return {"pairs": n_pairs}


def hf_columns(record: dict) -> dict:
    """One Hugging Face row: the exchange record with ``metadata`` and response details as JSON
    strings and the split the row sits in (unassigned prompts go to ``train``)."""
    return {
        "id": record["id"],
        "prompt": record["prompt"],
        "responses": record["responses"],
        "rankings": record["rankings"] if record["rankings"] is not None else [None] * len(record["responses"]),
        "annotations": record["annotations"],
        "split": record["split"] or "train",
        "metadata": json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True),
        "response_details": json.dumps(record.get("response_details"), ensure_ascii=False, sort_keys=True),
        "agreement": record["agreement"],
    }


def hf_features():
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "prompt": Value("string"),
            "responses": List(Value("string")),
            "rankings": List(Value("int32")),
            "annotations": List({"annotator": Value("string"), "rankings": List(Value("int32"))}),
            "split": Value("string"),
            "metadata": Value("string"),
            "response_details": Value("string"),
            "agreement": {"kendall_w": Value("float64"), "n_annotators": Value("int32"), "status": Value("string")},
        }
    )


def _write_hf(rows: list[ExportRow], path: Path) -> dict:
    import datasets

    datasets.disable_progress_bars()
    features = hf_features()
    by_split: dict[str, list[dict]] = {"train": [], "test": []}
    for row in rows:
        columns = hf_columns(row.record)
        by_split[columns["split"]].append(columns)
    dataset = datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict(
                {column: [r[column] for r in split_rows] for column in features}, features=features
            )
            for name, split_rows in by_split.items()
        }
    )
    dataset.save_to_disk(str(path))
    return {"splits": {name: len(split_rows) for name, split_rows in by_split.items()}}


# --------------------------------------------------------------------------- for the next tool

LS_RANKER, LS_LIST = "rank", "answers"


def label_studio_task(record: dict) -> dict:
    """One Label Studio task of a ``<List name="answers" value="$items">`` + ``<Ranker name="rank">``
    project (docs/exchange.md has the labeling config): the responses as items ``r0, r1, ...``
    and the consensus as a prediction, one bucket per tier (``tier-1`` best) and unranked items
    in ``"_"``. ``data.external_id`` brings the prompt back to this project on re-import."""
    items = [{"id": f"r{i}", "title": f"Response {i + 1}", "body": text} for i, text in enumerate(record["responses"])]
    task = {"data": {"prompt": record["prompt"], "items": items, "external_id": record["id"], "split": record["split"]}}
    if record["rankings"] is not None:
        buckets: dict[str, list[str]] = {}
        for tier, position in sorted((r, i) for i, r in enumerate(record["rankings"]) if r is not None):
            buckets.setdefault(f"tier-{tier + 1}", []).append(f"r{position}")
        unranked = [f"r{i}" for i, r in enumerate(record["rankings"]) if r is None]
        value = {"ranker": {**buckets, **({"_": unranked} if unranked else {})}}
        result = {"from_name": LS_RANKER, "to_name": LS_LIST, "type": "ranker", "value": value}
        task["predictions"] = [{"model_version": "grpo-studio-consensus", "result": [result]}]
    return task


def _write_label_studio(rows: list[ExportRow], path: Path) -> dict:
    tasks = [label_studio_task(row.record) for row in rows]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_array(tasks, out)
    return {"tasks": len(tasks), "predictions": sum("predictions" in task for task in tasks)}


def trl_pair(pair: dict) -> dict:
    """A consensus pair in TRL's conversational preference format."""
    return {
        "prompt": [{"role": "user", "content": pair["prompt"]}],
        "chosen": [{"role": "assistant", "content": pair["chosen"]}],
        "rejected": [{"role": "assistant", "content": pair["rejected"]}],
    }


def _write_trl(rows: list[ExportRow], path: Path) -> dict:
    pairs = [trl_pair(pair) for row in rows for pair in pair_records(row.record)]
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_lines(pairs, out)
    return {"pairs": len(pairs)}


WRITERS = {
    "json": _write_json,
    "jsonl": _write_jsonl,
    "pairs": _write_pairs,
    "hf": _write_hf,
    "label-studio": _write_label_studio,
    "trl": _write_trl,
}
