"""Which prompts are fit to export and train on, and their consensus ranking.

This is the one place that decides "validated"; export and training call only this. The rule
itself is ``ranking_app.review.agreement.prompt_status``:

* ``validated``: adjudicated by a reviewer (the adjudicated ranking overrides the consensus),
  or at least ``project.target_annotators + prompt.extra_annotators`` submitted rankings with
  Kendall's W >= ``project.agreement_threshold``;
* ``needs_review``: enough submitted rankings but W below the threshold;
* ``in_progress``: fewer submitted rankings than the target.

The figures come from ``agreement_read.agreement_read`` (the stored figures while current,
else computed from the data), so export, UI, API and command agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Project
from ..ranking import Tiers
from .agreement import VALIDATED
from .agreement_read import agreement_read


@dataclass(frozen=True)
class PromptStatus:
    status: str  # validated | needs_review | in_progress
    consensus: Tiers  # best first (the adjudicated ranking when there is one); [] when nothing was submitted
    kendall_w: float | None
    n_submitted: int


def prompt_statuses(project: Project) -> dict[int, PromptStatus]:
    """Status and consensus of every prompt of ``project``, keyed by prompt id."""
    return {
        item["prompt_id"]: PromptStatus(
            status=item["status"],
            consensus=item["consensus"],
            kendall_w=item["kendall_w"],
            n_submitted=item["n_annotators"],
        )
        for item in agreement_read(project=project, with_queue=False).items
    }


def validated_prompt_ids(project: Project) -> list[int]:
    return sorted(pid for pid, s in prompt_statuses(project).items() if s.status == VALIDATED)
