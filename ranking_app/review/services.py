"""Reviewer decisions on a prompt: adjudicate, send back for more annotations, gold rankings.

Each write bumps ``Prompt.updated_at``, which changes the agreement fingerprint, so the cached
figures (and the validated set export reads) are recomputed on the next read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from ..models import Prompt
from ..ranking import Tiers, validate_tiers
from ..ranking_store import project_rules, response_count
from ..roles import is_admin, is_reviewer

MAX_NOTE_CHARS = 2000


def _require(check, user, what: str) -> None:
    if user is None or not user.is_authenticated or not check(user):
        raise PermissionDenied(f"{what} requires the {'admin' if check is is_admin else 'reviewer'} role")


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note: at most {MAX_NOTE_CHARS} characters (got {len(note)})")
    return note


def _append_note(prompt: Prompt, user, text: str) -> None:
    line = f"{timezone.now():%Y-%m-%d %H:%M} {user.username}: {text}"
    prompt.review_note = f"{prompt.review_note}\n{line}".strip()


def _clean_tiers(prompt: Prompt, tiers: Tiers) -> Tiers:
    """A final ranking must satisfy the project's rules, like a submitted one (raises RankingError)."""
    return validate_tiers(tiers, response_count(prompt), project_rules(prompt.project), submitted=True)


@transaction.atomic
def prompt_adjudicate(*, prompt: Prompt, tiers: Tiers, reviewer, note: str = "") -> Prompt:
    """Set the final ranking of ``prompt``: it overrides the consensus and validates the prompt."""
    _require(is_reviewer, reviewer, "adjudicating")
    clean = _clean_tiers(prompt, tiers)
    note = _clean_note(note)
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    prompt.adjudicated_tiers = clean
    prompt.adjudicated_by = reviewer
    prompt.adjudicated_at = timezone.now()
    _append_note(prompt, reviewer, f"adjudicated {clean}" + (f" — {note}" if note else ""))
    prompt.save(update_fields=["adjudicated_tiers", "adjudicated_by", "adjudicated_at", "review_note", "updated_at"])
    return prompt


@transaction.atomic
def prompt_send_back(*, prompt: Prompt, reviewer, note: str = "") -> Prompt:
    """Ask for one more annotation of ``prompt`` (its target grows by one); clears any adjudication."""
    _require(is_reviewer, reviewer, "sending a prompt back")
    note = _clean_note(note)
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    prompt.extra_annotators += 1
    prompt.adjudicated_tiers = None
    prompt.adjudicated_by = None
    prompt.adjudicated_at = None
    _append_note(
        prompt, reviewer, f"sent back for more annotations (extra annotators: {prompt.extra_annotators})"
        + (f" — {note}" if note else "")
    )
    prompt.save(update_fields=[
        "extra_annotators", "adjudicated_tiers", "adjudicated_by", "adjudicated_at", "review_note", "updated_at"
    ])
    return prompt


@transaction.atomic
def prompt_gold_set(*, prompt: Prompt, tiers: Tiers, user) -> Prompt:
    """Mark ``tiers`` as the gold ranking of ``prompt`` (admins only); annotators are scored against it."""
    _require(is_admin, user, "setting a gold ranking")
    clean = _clean_tiers(prompt, tiers)
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    prompt.gold_tiers = clean
    _append_note(prompt, user, f"gold ranking set to {clean}")
    prompt.save(update_fields=["gold_tiers", "review_note", "updated_at"])
    return prompt


@transaction.atomic
def prompt_gold_clear(*, prompt: Prompt, user) -> Prompt:
    """Remove the gold ranking of ``prompt`` (admins only)."""
    _require(is_admin, user, "clearing a gold ranking")
    prompt = Prompt.objects.select_for_update().get(pk=prompt.pk)
    if prompt.gold_tiers is not None:
        prompt.gold_tiers = None
        _append_note(prompt, user, "gold ranking cleared")
        prompt.save(update_fields=["gold_tiers", "review_note", "updated_at"])
    return prompt
