"""Writes of rankings: every save is versioned and leaves a RankingRevision behind."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Prompt, Ranking, RankingRevision
from .ranking import RankingRules, Tiers, validate_tiers


class RankingConflict(Exception):
    """The client edited an older version than the stored one; nothing was overwritten."""

    def __init__(self, ranking: Ranking, expected_version: int):
        self.ranking = ranking
        self.expected_version = expected_version
        super().__init__(
            f"this ranking was changed elsewhere (you edited version {expected_version}, "
            f"the saved one is version {ranking.version}); reload to see it"
        )


def project_rules(project) -> RankingRules:
    return RankingRules(allow_ties=project.allow_ties, allow_partial=project.allow_partial)


def response_count(prompt: Prompt) -> int:
    cached = getattr(prompt, "_response_count", None)
    if cached is None:
        cached = prompt.responses.count()
    return cached


def _save_row(ranking: Ranking) -> None:
    """Save; a first ranking that another request created meanwhile (two tabs) is a conflict with the
    version the request expected (0: none yet), not a crash."""
    if ranking.pk is not None:
        ranking.save()
        return
    try:
        with transaction.atomic():
            ranking.save()
    except IntegrityError:
        current = Ranking.objects.select_for_update().get(prompt=ranking.prompt, annotator=ranking.annotator)
        raise RankingConflict(current, 0) from None


@transaction.atomic
def ranking_save(
    *,
    prompt: Prompt,
    annotator,
    tiers: Tiers,
    status: str = Ranking.Status.DRAFT,
    expected_version: int | None = None,
    skip_reason: str = "",
    time_spent_ms: int = 0,
    keystrokes: int = 0,
    source: str = "ui",
    changed_by=None,
) -> Ranking:
    """Create or update ``annotator``'s ranking of ``prompt``.

    Raises ``RankingError`` for a ranking that breaks the project's rules (a submitted ranking
    must satisfy all of them, a draft only needs to be well-formed) and ``RankingConflict`` when
    ``expected_version`` is given and is not the stored version.
    """
    submitted = status == Ranking.Status.SUBMITTED
    clean = validate_tiers(tiers, response_count(prompt), project_rules(prompt.project), submitted=submitted)
    if status == Ranking.Status.SKIPPED:
        clean = []
    ranking = _ranking_locked(prompt, annotator, expected_version)
    unchanged = (
        ranking.pk is not None
        and ranking.tiers == clean
        and ranking.status == status
        and ranking.skip_reason == skip_reason
    )
    ranking.time_spent_ms = min(ranking.time_spent_ms + max(int(time_spent_ms), 0), 2**31 - 1)
    ranking.keystrokes = min(ranking.keystrokes + max(int(keystrokes), 0), 2**31 - 1)
    if unchanged:
        ranking.save(update_fields=["time_spent_ms", "keystrokes", "updated_at"])
        return ranking
    return _new_version(ranking, clean, status=status, skip_reason=skip_reason, source=source,
                        changed_by=changed_by or annotator)  # fmt: skip


def _ranking_locked(prompt: Prompt, annotator, expected_version: int | None) -> Ranking:
    """The stored ranking, row-locked (or a new unsaved one); ``RankingConflict`` on a stale version."""
    ranking = Ranking.objects.select_for_update().filter(prompt=prompt, annotator=annotator).first()
    if ranking is None:
        if expected_version not in (None, 0):
            raise RankingConflict(Ranking(version=0), expected_version)
        return Ranking(prompt=prompt, annotator=annotator, version=0)
    if expected_version is not None and expected_version != ranking.version:
        raise RankingConflict(ranking, expected_version)
    return ranking


def _new_version(ranking: Ranking, clean: Tiers, *, status: str, skip_reason: str, source: str, changed_by) -> Ranking:
    """Store ``clean`` as the ranking's next version and record it as a revision."""
    ranking.tiers = clean
    ranking.status = status
    ranking.skip_reason = skip_reason
    ranking.source = source
    ranking.version += 1
    if status == Ranking.Status.SUBMITTED:
        ranking.submitted_at = timezone.now()
    _save_row(ranking)
    RankingRevision.objects.create(
        ranking=ranking,
        version=ranking.version,
        tiers=clean,
        status=status,
        skip_reason=skip_reason,
        changed_by=changed_by,
        source=source,
    )
    return ranking
