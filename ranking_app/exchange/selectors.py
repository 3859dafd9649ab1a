"""What an export of a project holds, read without writing a snapshot: its rows (prompt, responses and
exchange record, with the consensus and the submitted annotations). ``exchange.exports`` writes them;
the job launch form reads ``export_records`` for its data-readiness figures.

Which prompts are exported (validated only, by default) and their consensus come from
``ranking_app.review.validated.prompt_statuses`` and nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from ..annotators import people_only
from ..models import Project, Prompt, Ranking, Response
from ..ranking import tiers_to_ranks
from ..review.validated import prompt_statuses
from .jsonl import ResponseDetail, export_record


@dataclass
class ExportRow:
    prompt: Prompt
    responses: list[Response]
    record: dict


def export_records(project: Project, *, validated_only: bool = True) -> list[dict]:
    """The exchange records an export of ``project`` would hold now, without writing a snapshot."""
    return [row.record for row in export_rows(project, validated_only=validated_only)]


def _round_prompt_ids(project: Project, rounds: list[int]) -> set[int]:
    numbered = Q(round__number__in=[n for n in rounds if n])
    chosen = numbered | Q(round__isnull=True) if 0 in rounds else numbered
    return set(project.prompts.filter(chosen).values_list("id", flat=True))


def export_rows(project: Project, *, validated_only: bool, rounds: list[int] | None = None,
                 include_models: bool = False) -> list[ExportRow]:
    """Records of the exported prompts, by prompt id, with their consensus and submitted annotations
    (prompts still waiting for their responses are left out)."""
    statuses = prompt_statuses(project)
    ids = sorted(pid for pid, s in statuses.items() if s.status == "validated" or not validated_only)
    wanted = set(ids)
    if rounds:
        wanted &= _round_prompt_ids(project, rounds)
    responses: dict[int, list[Response]] = defaultdict(list)
    for response in Response.objects.filter(prompt__project=project).order_by("prompt_id", "position"):
        responses[response.prompt_id].append(response)
    annotations: dict[int, list[tuple[str, list]]] = defaultdict(list)
    submitted = Ranking.objects.filter(prompt__project=project, status=Ranking.Status.SUBMITTED)
    submitted = submitted if include_models else people_only(submitted)
    for prompt_id, username, tiers in submitted.order_by("prompt_id", "annotator__username").values_list(
        "prompt_id", "annotator__username", "tiers"
    ):
        annotations[prompt_id].append((username, tiers))
    rows = []
    for prompt in project.prompts.order_by("id"):
        if prompt.id not in wanted or len(responses[prompt.id]) < 2:
            continue
        rows.append(_row(prompt, responses[prompt.id], annotations[prompt.id], statuses[prompt.id]))
    return rows


def _row(prompt: Prompt, responses: list[Response], annotations: list, status) -> ExportRow:
    n = len(responses)
    record = export_record(
        record_id=prompt.external_id,
        prompt=prompt.text,
        responses=[r.text for r in responses],
        details=[ResponseDetail(r.source, r.metadata or {}) for r in responses],
        rankings=tiers_to_ranks(status.consensus, n) if status.consensus else None,
        annotations=[(name, tiers_to_ranks(tiers, n)) for name, tiers in annotations],
        split=prompt.split,
        metadata=prompt.metadata or {},
        agreement={"kendall_w": status.kendall_w, "n_annotators": status.n_submitted, "status": status.status},
    )
    return ExportRow(prompt, responses, record)
