"""Labeling decisions: submit, save as draft or skip one's own ranking of a prompt.

The labeling pages and the REST API both call these functions and translate the returned
``LabelingResult`` into a response, so every door keeps the same rules:

* the queue: a labeler works on a prompt only while they hold its lease or a slot is free
  (``assignment_claim``; target = ``target_annotators + extra_annotators``, never exceeded);
  changing one's own submitted ranking needs no slot;
* a submitted ranking stays submitted: it can be changed, not turned back into a draft or skipped;
* a skip needs a reason;
* every write goes through ``ranking_save`` (optimistic version + a revision row), so a stale
  version is a conflict and nothing is overwritten.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..models import Prompt, Ranking
from ..ranking import RankingError, Tiers
from ..ranking_store import RankingConflict, ranking_save
from .assignments import PromptFull, assignment_claim, assignment_release, progress_note_submitted
from .selectors import ranking_own

ALREADY_SUBMITTED_DRAFT = "this ranking is already submitted; use Save changes to change it"
ALREADY_SUBMITTED_SKIP = "a submitted ranking cannot be skipped"
SKIP_REASON_MISSING = "say why you are skipping this prompt"


class Outcome(enum.StrEnum):
    SUBMITTED = "submitted"  # first submission of this prompt by this labeler
    UPDATED = "updated"  # a submitted ranking was changed
    DRAFT_SAVED = "draft_saved"
    SKIPPED = "skipped"
    CONFLICT = "conflict"  # stale version: nothing was overwritten
    INVALID = "invalid"  # breaks the project's rules: nothing was stored
    KEPT_AS_DRAFT = "kept_as_draft"  # a submit broke the rules; the work was saved as a draft
    ALREADY_SUBMITTED = "already_submitted"  # a submitted ranking cannot become a draft or a skip
    PROMPT_FULL = "prompt_full"  # the queue refuses: no lease and no free slot


SAVED = frozenset({Outcome.SUBMITTED, Outcome.UPDATED, Outcome.DRAFT_SAVED, Outcome.SKIPPED})


@dataclass(frozen=True)
class LabelingResult:
    """What a labeling service did. ``ranking`` is the labeler's stored ranking afterwards (on a
    conflict the current one; ``None`` when they have none); ``version`` its version (0: none)."""

    outcome: Outcome
    ranking: Ranking | None = None
    errors: tuple[str, ...] = ()

    @property
    def saved(self) -> bool:
        return self.outcome in SAVED

    @property
    def version(self) -> int:
        return self.ranking.version if self.ranking is not None else 0

    @property
    def message(self) -> str:
        return "; ".join(self.errors)


def _submitted(ranking: Ranking | None) -> bool:
    return ranking is not None and ranking.status == Ranking.Status.SUBMITTED


def conflict_message(*, expected_version: int, current_version: int) -> str:
    return (
        f"this ranking was saved elsewhere (another tab or device) since you loaded it: you edited "
        f"version {expected_version}, the saved one is version {current_version}."
    )


def _claim(prompt: Prompt, annotator) -> LabelingResult | None:
    """``None`` when the labeler may work on ``prompt`` now (lease renewed or taken)."""
    try:
        assignment_claim(prompt=prompt, annotator=annotator)
    except PromptFull as exc:
        return LabelingResult(Outcome.PROMPT_FULL, errors=(str(exc),))
    return None


def _write(existing: Ranking | None, success: Outcome, **save) -> LabelingResult:
    """``ranking_save(**save)`` as a result: ``success``, CONFLICT or INVALID."""
    try:
        ranking = ranking_save(**save)
    except RankingConflict as exc:
        text = conflict_message(expected_version=exc.expected_version, current_version=exc.ranking.version)
        return LabelingResult(Outcome.CONFLICT, exc.ranking if exc.ranking.pk else None, (text,))
    except RankingError as exc:
        return LabelingResult(Outcome.INVALID, existing, tuple(exc.errors))
    return LabelingResult(success, ranking)


def ranking_submit(
    *,
    prompt: Prompt,
    annotator,
    tiers: Tiers,
    expected_version: int,
    time_spent_ms: int = 0,
    keystrokes: int = 0,
    source: str = "ui",
    keep_invalid_as_draft: bool = True,
) -> LabelingResult:
    """Submit (or change a submitted) ranking; frees the labeler's lease once it is stored.

    A first submit that breaks the project's rules is saved as a draft when
    ``keep_invalid_as_draft`` (the pages: nothing typed is lost) and is stored nowhere otherwise.
    """
    existing = ranking_own(prompt=prompt, annotator=annotator)
    refused = _claim(prompt, annotator)
    if refused is not None:
        return refused
    was_submitted = _submitted(existing)
    save = dict(prompt=prompt, annotator=annotator, tiers=tiers, expected_version=expected_version)
    result = _write(existing, Outcome.UPDATED if was_submitted else Outcome.SUBMITTED, **save,
                    status=Ranking.Status.SUBMITTED, time_spent_ms=time_spent_ms, keystrokes=keystrokes, source=source)
    if result.outcome is Outcome.INVALID and keep_invalid_as_draft and not was_submitted:
        kept = _write(existing, Outcome.DRAFT_SAVED, **save, source=source)
        return LabelingResult(Outcome.KEPT_AS_DRAFT, kept.ranking, result.errors) if kept.saved else result
    if result.saved:
        assignment_release(prompt=prompt, annotator=annotator)
        if not was_submitted:
            progress_note_submitted(project=prompt.project)
    return result


def ranking_draft_save(
    *, prompt: Prompt, annotator, tiers: Tiers, expected_version: int, time_spent_ms: int = 0, keystrokes: int = 0,
    source: str = "ui",
) -> LabelingResult:
    """Save work in progress (a draft only needs to be well-formed); keeps the lease."""
    existing = ranking_own(prompt=prompt, annotator=annotator)
    if _submitted(existing):
        return LabelingResult(Outcome.ALREADY_SUBMITTED, existing, (ALREADY_SUBMITTED_DRAFT,))
    refused = _claim(prompt, annotator)
    if refused is not None:
        return refused
    return _write(
        existing, Outcome.DRAFT_SAVED, prompt=prompt, annotator=annotator, tiers=tiers,
        status=Ranking.Status.DRAFT, expected_version=expected_version, time_spent_ms=time_spent_ms,
        keystrokes=keystrokes, source=source,
    )


def ranking_skip(
    *, prompt: Prompt, annotator, reason: str, expected_version: int, time_spent_ms: int = 0, keystrokes: int = 0,
    source: str = "ui",
) -> LabelingResult:
    """Skip a prompt, saying why; frees the lease (the queue will not hand it to them again)."""
    existing = ranking_own(prompt=prompt, annotator=annotator)
    if _submitted(existing):
        return LabelingResult(Outcome.ALREADY_SUBMITTED, existing, (ALREADY_SUBMITTED_SKIP,))
    if not reason.strip():
        return LabelingResult(Outcome.INVALID, existing, (SKIP_REASON_MISSING,))
    refused = _claim(prompt, annotator)
    if refused is not None:
        return refused
    result = _write(
        existing, Outcome.SKIPPED, prompt=prompt, annotator=annotator, tiers=[], status=Ranking.Status.SKIPPED,
        skip_reason=reason.strip(), expected_version=expected_version, time_spent_ms=time_spent_ms,
        keystrokes=keystrokes, source=source,
    )
    if result.saved:
        assignment_release(prompt=prompt, annotator=annotator)
    return result
