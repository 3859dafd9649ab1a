"""Which prompts are fit to export and train on, and their consensus ranking.

This is the one place that decides "validated"; export and training call only this.
Interim rule until the agreement module lands: a prompt with at least one submitted ranking
is validated, and its consensus is a tie-aware Borda count of the submitted rankings.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from .models import Project, Ranking
from .ranking import Tiers, ranks_to_tiers, tiers_to_ranks


@dataclass(frozen=True)
class PromptStatus:
    status: str  # validated | needs_review | in_progress
    consensus: Tiers  # best first; [] when nothing was submitted
    kendall_w: float | None
    n_submitted: int


def borda_consensus(rankings: list[Tiers], n_responses: int) -> Tiers:
    """Tie-aware Borda count: a response scores the number of responses ranked below it."""
    if not rankings:
        return []
    scores = [0.0] * n_responses
    for tiers in rankings:
        ranks = tiers_to_ranks(tiers, n_responses)
        for i, ri in enumerate(ranks):
            for rj in ranks:
                if ri is not None and (rj is None or ri < rj):
                    scores[i] += 1
    return ranks_to_tiers([-s for s in scores])


def prompt_statuses(project: Project) -> dict[int, PromptStatus]:
    """Status and consensus of every prompt of ``project``, keyed by prompt id."""
    n_responses = dict(
        project.prompts.annotate(n=Count("responses")).values_list("id", "n")
    )
    submitted: dict[int, list[Tiers]] = {pid: [] for pid in n_responses}
    rows = Ranking.objects.filter(prompt__project=project, status=Ranking.Status.SUBMITTED)
    for prompt_id, tiers in rows.values_list("prompt_id", "tiers"):
        submitted[prompt_id].append(tiers)
    return {
        pid: PromptStatus(
            status="validated" if submitted[pid] else "in_progress",
            consensus=borda_consensus(submitted[pid], n_responses[pid]),
            kendall_w=None,
            n_submitted=len(submitted[pid]),
        )
        for pid in n_responses
    }


def validated_prompt_ids(project: Project) -> list[int]:
    return sorted(pid for pid, s in prompt_statuses(project).items() if s.status == "validated")
