"""The labeling queue: which prompt a labeler gets next, held for them through a lease.

Rules
* A prompt wants ``project.target_annotators + prompt.extra_annotators`` submitted rankings
  (reviewers raise ``extra_annotators`` to send a prompt back for more).
* A slot is taken by a submitted ranking or by another labeler's live lease (an
  ``Assignment`` whose ``expires_at`` is in the future and whose holder has not submitted).
* A labeler is handed a prompt only while a slot is free, never one they already submitted or
  skipped; fewest submitted rankings first, their own unfinished drafts before anything else.
* The same labeler gets their live lease back on reload; a lease lasts
  ``settings.ASSIGNMENT_LEASE_MINUTES`` and is renewed whenever they work on the prompt.

Concurrency: the handing-out runs in one transaction that locks the chosen prompt row and
re-counts its slots before writing the lease (SQLite serialises writers with
``transaction_mode=IMMEDIATE``; PostgreSQL blocks on ``SELECT ... FOR UPDATE``), so two labelers
asking at once never push a prompt past its target.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..annotators import people_only
from ..models import Assignment, Project, Prompt, Ranking
from .queue_orders import POOL_SIZE, ordered_pool, pool_limit  # noqa: F401 (POOL_SIZE: the pool size, documented here)
from .selectors import DONE_STATUSES, PROGRESS_CACHE_SECONDS, totals_key

CANDIDATES_PER_TRY = 5
POOL_SECONDS = 15


class PromptFull(Exception):
    """The prompt already has all the annotators it wants (and this labeler holds no slot)."""

    def __init__(self, prompt: Prompt):
        self.prompt = prompt
        super().__init__(
            "this prompt already has all the rankings it needs from other labelers; take the next one"
        )


def lease_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=settings.ASSIGNMENT_LEASE_MINUTES)


def _count(qs: QuerySet) -> Coalesce:
    """A correlated ``SELECT COUNT(*)`` subquery (no GROUP BY over the outer query)."""
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _submitted_count() -> Coalesce:
    """People's submitted rankings of ``OuterRef('pk')`` (a model annotator's never fill a slot)."""
    return _count(people_only(Ranking.objects.filter(prompt=OuterRef("pk"), status=Ranking.Status.SUBMITTED)))


def _leased_count(*, annotator, now: datetime) -> Coalesce:
    """Live leases of ``OuterRef('pk')`` (a prompt) held by others who have not submitted it."""
    holder_submitted = Ranking.objects.filter(
        prompt=OuterRef("prompt"), annotator=OuterRef("annotator"), status=Ranking.Status.SUBMITTED
    )
    leases = (
        Assignment.objects.filter(prompt=OuterRef("pk"), expires_at__gt=now)
        .exclude(annotator=annotator)
        .exclude(Exists(holder_submitted))
    )
    return _count(leases)


def _taken_slots(*, annotator, now: datetime) -> Coalesce:
    """Slots of ``OuterRef('pk')`` used by others: their submitted rankings + their live leases."""
    submitted = Ranking.objects.filter(prompt=OuterRef("pk"), status=Ranking.Status.SUBMITTED).exclude(
        annotator=annotator
    )
    return _count(people_only(submitted)) + _leased_count(annotator=annotator, now=now)


def _done_by(annotator) -> Exists:
    return Exists(
        Ranking.objects.filter(prompt=OuterRef("pk"), annotator=annotator, status__in=DONE_STATUSES)
    )


def open_prompts(*, project: Project, annotator, now: datetime | None = None) -> QuerySet[Prompt]:
    """Prompts of ``project`` this labeler may be handed now, best candidate first.

    One query; its cost grows with the project's prompts (each is checked through the indexes
    on rankings and leases), its number of queries does not.
    """
    now = now or timezone.now()
    my_draft = Exists(
        Ranking.objects.filter(prompt=OuterRef("pk"), annotator=annotator, status=Ranking.Status.DRAFT)
    )
    # Prompts the labeler submitted are excluded, so every submitted ranking counted is someone else's.
    return (
        Prompt.objects.filter(project=project, responses__position=1)  # two responses or more
        .exclude(_done_by(annotator))
        .annotate(
            n_submitted=_submitted_count(),
            n_leased=_leased_count(annotator=annotator, now=now),
            my_draft=my_draft,
        )
        .filter(n_submitted__lt=project.target_annotators + F("extra_annotators") - F("n_leased"))
        .order_by(F("my_draft").desc(), "n_submitted", "id")
    )


def _live_lease(*, project: Project, annotator, now: datetime) -> Assignment | None:
    """The labeler's current live lease in ``project`` on a prompt they have not finished."""
    done = Ranking.objects.filter(
        prompt=OuterRef("prompt"), annotator=annotator, status__in=DONE_STATUSES
    )
    return (
        Assignment.objects.filter(annotator=annotator, prompt__project=project, expires_at__gt=now)
        .exclude(Exists(done))
        .select_related("prompt")
        .order_by("created_at", "id")
        .first()
    )


def _has_free_slot(prompt: Prompt, annotator, now: datetime) -> bool:
    taken = (
        Prompt.objects.filter(pk=prompt.pk)
        .annotate(taken=_taken_slots(annotator=annotator, now=now))
        .values_list("taken", flat=True)
        .get()
    )
    return taken < prompt.project.target_annotators + prompt.extra_annotators


def _lease(prompt: Prompt, annotator, now: datetime) -> Assignment:
    assignment, _ = Assignment.objects.update_or_create(
        prompt=prompt, annotator=annotator, defaults={"expires_at": lease_expiry(now)}
    )
    return assignment


def _pool_key(project: Project) -> str:
    return f"grpo:labeling-pool:{project.pk}:{project.created_at.timestamp()}:{project.queue_order}"


def _open_pool(project: Project, now: datetime) -> list[int]:
    """Up to ``POOL_SIZE`` prompt ids with a free slot for someone, in the project's queue order
    (``queue_orders``; by default fewest submitted first).

    Shared by all labelers of the project and cached for ``POOL_SECONDS``, so a typical request
    checks these few prompts instead of the whole project. The pool only narrows the search:
    every candidate is re-checked exactly for the labeler, and when none fits the whole project
    is searched (and the pool rebuilt on the next request).
    """
    key = _pool_key(project)
    ids = cache.get(key)
    if ids is None:
        leased = _count(Assignment.objects.filter(prompt=OuterRef("pk"), expires_at__gt=now))
        ids = ordered_pool(project, list(
            Prompt.objects.filter(project=project, responses__position=1)
            .annotate(n_submitted=_submitted_count(), n_leased=leased)
            .filter(n_submitted__lt=project.target_annotators + F("extra_annotators") - F("n_leased"))
            .order_by("n_submitted", "id")
            .values_list("pk", flat=True)[:pool_limit(project)]
        ))
        cache.set(key, ids, POOL_SECONDS)
    return ids


def _locked_prompt(pk: int, *, skip_locked: bool = False) -> Prompt | None:
    """The prompt row locked for this transaction. Only that row (PostgreSQL would otherwise lock the
    joined project too, serialising the whole project), and FOR NO KEY UPDATE so an import inserting
    rankings of the prompt (a foreign-key share lock) neither waits on it nor deadlocks with it.
    With ``skip_locked``, None when another transaction holds it (SQLite has no row locks: it
    serialises writers, and the flag changes nothing there)."""
    rows = Prompt.objects.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked)
    return rows.select_related("project").filter(pk=pk).first()


def _candidates(queryset: QuerySet[Prompt], order: list[int] | None = None) -> list[Prompt]:
    """The first few prompts of ``queryset``; in the pool's order when ``order`` (prompt ids) is given."""
    if order is None:
        return list(queryset[:CANDIDATES_PER_TRY])
    rank = {pk: i for i, pk in enumerate(order)}
    return sorted(queryset, key=lambda prompt: rank[prompt.pk])[:CANDIDATES_PER_TRY]


def _lease_first(candidates: list[Prompt], annotator, now: datetime) -> Prompt | None:
    """Lease the first candidate that still has a free slot once its row is locked.

    Rows another labeler is leasing right now are passed over first (labelers asking at once spread
    over the candidates instead of queueing on the first); only when every candidate is busy does
    this wait for their locks."""
    for skip_locked in (True, False):
        for candidate in candidates:
            prompt = _lease_if_free(candidate.pk, annotator, now, skip_locked=skip_locked)
            if prompt is not None:
                return prompt
    return None


class _NotTaken(Exception):
    pass


def _lease_if_free(pk: int, annotator, now: datetime, *, skip_locked: bool) -> Prompt | None:
    """Lock one prompt row and lease it if a slot is free. A row that is not taken is let go at once
    (its savepoint is rolled back), so a labeler never holds a row while waiting for another: no
    lock-order deadlock between labelers passing over each other's rows."""
    try:
        with transaction.atomic():
            prompt = _locked_prompt(pk, skip_locked=skip_locked)
            if prompt is None or not _has_free_slot(prompt, annotator, now):
                raise _NotTaken
            _lease(prompt, annotator, now)
            return prompt
    except _NotTaken:
        return None


@transaction.atomic
def assignment_next(*, project: Project, annotator, now: datetime | None = None) -> Prompt | None:
    """Lease and return the next prompt for ``annotator`` in ``project`` (``None``: nothing left).

    A live lease the labeler already holds is renewed and returned, so a reload gives the same
    prompt back. Then their own drafts, then the shared pool of least-ranked prompts, then (only
    when those give nothing) the whole project.
    """
    now = now or timezone.now()
    current = _live_lease(project=project, annotator=annotator, now=now)
    if current is not None:
        current.expires_at = lease_expiry(now)
        current.save(update_fields=["expires_at"])
        return current.prompt
    open_for_me = open_prompts(project=project, annotator=annotator, now=now)
    drafts = list(
        Ranking.objects.filter(annotator=annotator, prompt__project=project, status=Ranking.Status.DRAFT)
        .values_list("prompt_id", flat=True)[:CANDIDATES_PER_TRY]
    )
    for ids, order in ((drafts, None), (pool := _open_pool(project, now), pool)):
        if ids:
            prompt = _lease_first(_candidates(open_for_me.filter(pk__in=ids), order), annotator, now)
            if prompt is not None:
                return prompt
    cache.delete(_pool_key(project))  # the pool had nothing for this labeler: rebuild it next time
    while True:
        candidates = _candidates(open_for_me)
        if not candidates:
            return None
        prompt = _lease_first(candidates, annotator, now)
        if prompt is not None:
            return prompt
        # Every candidate filled up between the read and the lock: look again.


@transaction.atomic
def assignment_claim(*, prompt: Prompt, annotator, now: datetime | None = None) -> None:
    """Make sure ``annotator`` may work on ``prompt`` now, renewing or taking a lease.

    A live lease is renewed; editing one's own submitted ranking needs no slot; otherwise a
    lease is taken while a slot is free, and ``PromptFull`` is raised when none is.
    """
    now = now or timezone.now()
    renewed = Assignment.objects.filter(prompt=prompt, annotator=annotator, expires_at__gt=now).update(
        expires_at=lease_expiry(now)
    )
    if renewed:
        return
    if Ranking.objects.filter(prompt=prompt, annotator=annotator, status=Ranking.Status.SUBMITTED).exists():
        return
    locked = _locked_prompt(prompt.pk)
    if not _has_free_slot(locked, annotator, now):
        raise PromptFull(prompt)
    _lease(locked, annotator, now)


@transaction.atomic
def assignment_release(*, prompt: Prompt, annotator) -> None:
    """Free the labeler's lease (after they submit or skip)."""
    Assignment.objects.filter(prompt=prompt, annotator=annotator).delete()


def assignment_purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired leases (they are already ignored; this only keeps the table small)."""
    deleted, _ = Assignment.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def progress_note_submitted(*, project: Project) -> None:
    """Count one more submitted ranking in the cached project totals (a new submission made
    here; others' submissions show up when the cache entry expires)."""
    key = totals_key(project)
    totals = cache.get(key)
    if totals is not None:
        totals["submitted"] += 1
        cache.set(key, totals, PROGRESS_CACHE_SECONDS)


__all__ = [
    "PromptFull",
    "assignment_claim",
    "assignment_next",
    "assignment_purge_expired",
    "assignment_release",
    "open_prompts",
    "progress_note_submitted",
]
