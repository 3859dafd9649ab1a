"""Exports: immutable, hashed snapshots of a project's rankings in six formats.

A snapshot file lives at ``settings.EXPORT_DIR/<project slug>/<name>`` and is never
overwritten (training jobs freeze one at launch and read it later). The same database gives
byte-identical data files: record order is by prompt id, key order is fixed, no timestamps
inside the data. Which prompts are exported (validated only, by default) and their consensus
come from ``ranking_app.review.validated.prompt_statuses`` and nowhere else; pairs and their
weights from ``ranking_app.ranking.weighted_pairs``. The exchange JSON/JSONL writers live with
their reader in ``exchange.jsonl``; every other format's writer in its module of ``formats``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from training.engine.dataset_hash import dataset_sha256

from ..models import ExportSnapshot, Project
from .formats import hf, label_studio, pairs, trl
from .jsonl import write_json_array, write_json_lines
from .selectors import export_rows

FORMATS = ("json", "jsonl", "pairs", "hf", "label-studio", "trl")
SUFFIX = {"json": ".json", "jsonl": ".jsonl", "pairs": ".pairs.jsonl", "hf": "", "label-studio": ".json", "trl": ".jsonl"}


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
    return export_write(project=project, format=format, validated_only=validated_only, created_by=created_by,
                        round_number=round_number, rounds=rounds, include_models=include_models)[0]


def export_write(
    *, project: Project, format: str, validated_only: bool = True, created_by=None, round_number: int | None = None,
    rounds: list[int] | None = None, include_models: bool = False,
) -> tuple[ExportSnapshot, list[dict]]:
    """``export_create``, also returning the exchange-format records written (what a reader of the file
    gets back), so that a caller who needs them does not parse the file again."""
    if format not in FORMATS:
        raise ExportError(f"format: must be one of {', '.join(FORMATS)} (got {format!r})")
    if round_number:
        rounds = [round_number]
    rows = export_rows(project, validated_only=validated_only, rounds=rounds, include_models=include_models)
    records = [row.record for row in rows]
    directory = Path(settings.EXPORT_DIR) / project.slug
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        written = staging / "data"
        counts = WRITERS[format](records, written)
        digest = dataset_sha256(written)
        final = _publish(written, directory, f"{project.slug}-{format}", SUFFIX[format], digest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    counts = {"prompts": len(rows), **counts}
    with transaction.atomic():
        snapshot = ExportSnapshot.objects.create(
            project=project,
            format=format,
            filters={"validated_only": validated_only, **_round_filter(round_number, rounds),
                     **({"include_models": True} if include_models else {})},
            counts=counts,
            sha256=digest,
            path=str(final.relative_to(Path(settings.EXPORT_DIR))),
            created_by=created_by,
        )
    return snapshot, records


def export_path(snapshot: ExportSnapshot) -> Path:
    """Absolute path of the snapshot's file (a directory for the ``hf`` format)."""
    return (Path(settings.EXPORT_DIR) / snapshot.path).resolve()


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


def _write_json(records: list[dict], path: Path) -> dict:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_array(records, out)
    return _record_counts(records)


def _write_jsonl(records: list[dict], path: Path) -> dict:
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        write_json_lines(records, out)
    return _record_counts(records)


def _record_counts(records: list[dict]) -> dict:
    splits: dict[str, int] = defaultdict(int)
    for record in records:
        splits[record["split"] or "unassigned"] += 1
    return {
        "responses": sum(len(record["responses"]) for record in records),
        "annotations": sum(len(record["annotations"]) for record in records),
        "splits": dict(sorted(splits.items())),
    }


WRITERS = {
    "json": _write_json,
    "jsonl": _write_jsonl,
    "pairs": pairs.write,
    "hf": hf.write,
    "label-studio": label_studio.write,
    "trl": trl.write,
}
