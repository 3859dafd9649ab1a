"""Labeler pages: the queue, the rank screen, autosave / submit / skip, and the history.

Every page works as plain HTML forms; with htmx the rank panel (``#labeling-panel``) is swapped
in place (submit -> next prompt without a page reload) and drafts autosave in the background.
Labelers only ever see their own ranking of a prompt (blind labeling): nothing here reads
another annotator's ranking or the consensus.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from ..models import Project, Prompt, Ranking
from ..rank_widget import build_rank_widget, card_label, display_order, tiers_from_post
from ..ranking import RankingError, Tiers
from ..safe_json import whole_number
from ..services.assignments import (
    PromptFull,
    assignment_claim,
    assignment_next,
    assignment_release,
    labeling_progress,
    progress_note_submitted,
)
from ..services.rankings import RankingConflict, ranking_save

SKIP_REASONS = [
    ("expertise", "I can't judge this (outside my expertise)"),
    ("identical", "The responses are (nearly) identical"),
    ("broken", "The prompt or responses are broken or unreadable"),
    ("unsafe", "Harmful content I won't rank"),
    ("other", "Other (say why below)"),
]
MAX_ELAPSED_MS = 60 * 60 * 1000
HISTORY_PAGE_SIZE = 50


class BadInput(Exception):
    pass


def _prompt(slug: str, prompt_id: int) -> Prompt:
    return get_object_or_404(Prompt.objects.select_related("project"), pk=prompt_id, project__slug=slug)


def _version(request) -> int:
    raw = request.POST.get("version", "").strip()
    version = whole_number(raw, 2**31 - 1)
    if version is None:
        raise BadInput(f"version must be a whole number (got {raw[:40]!r}); reload the page")
    return version


def _elapsed(request) -> int:
    return min(whole_number(request.POST.get("elapsed_ms", "0")) or 0, MAX_ELAPSED_MS)


def _responses(prompt: Prompt) -> list:
    responses = list(prompt.responses.all())
    prompt._response_count = len(responses)  # spares ranking_save a COUNT query
    return responses


def _htmx_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _finish(request, response: HttpResponse, url: str | None = None) -> HttpResponse:
    """Full pages and htmx partials share URLs: never let a cache serve one for the other."""
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    if url and _htmx_partial(request):
        response["HX-Push-Url"] = url
    return response


def _render_rank(
    request,
    prompt: Prompt,
    ranking: Ranking | None,
    *,
    tiers: Tiers | None = None,
    version: int | None = None,
    errors: list[str] | None = None,
    notices: list[tuple[str, str]] = (),
    skip_error: str = "",
    status: int = 200,
) -> HttpResponse:
    project = prompt.project
    editing = ranking is not None and ranking.status == Ranking.Status.SUBMITTED
    responses = _responses(prompt)
    shown = display_order(responses, annotator_id=request.user.pk, prompt_id=prompt.pk)
    widget = build_rank_widget(
        responses=shown,
        tiers=tiers if tiers is not None else (ranking.tiers if ranking else []),
        allow_ties=project.allow_ties,
        allow_partial=project.allow_partial,
        action=reverse("labeling:submit", args=[project.slug, prompt.pk]),
        version=version if version is not None else (ranking.version if ranking else 0),
        autosave_url="" if editing else reverse("labeling:save", args=[project.slug, prompt.pk]),
        submit_label="Save changes" if editing else "Submit ranking",
        draft_button=not editing,
        hx_target="#labeling-panel",
        extra_template="" if editing else "ranking_app/labeling/_skip_controls.html",
        autofocus=True,
        errors=errors or [],
    )
    context = {
        "project": project,
        "prompt": prompt,
        "ranking": ranking,
        "editing": editing,
        "widget": widget,
        "n_responses": len(responses),
        "progress": labeling_progress(project=project, annotator=request.user),
        "notices": notices,
        "skip_reasons": SKIP_REASONS,
        "skip_error": skip_error,
        "panel_template": "ranking_app/labeling/_rank_panel.html",
    }
    template = "ranking_app/labeling/_rank_panel.html" if _htmx_partial(request) else "ranking_app/labeling/rank.html"
    url = reverse("labeling:rank", args=[project.slug, prompt.pk])
    return _finish(request, render(request, template, context, status=status), url)


def _render_done(request, project: Project) -> HttpResponse:
    context = {
        "project": project,
        "progress": labeling_progress(project=project, annotator=request.user),
        "panel_template": "ranking_app/labeling/_done_panel.html",
    }
    template = "ranking_app/labeling/_done_panel.html" if _htmx_partial(request) else "ranking_app/labeling/rank.html"
    return _finish(request, render(request, template, context), reverse("labeling:start", args=[project.slug]))


@require_GET
@login_required
def start(request, slug: str):
    """The queue: lease the next prompt for this labeler and show it (or say all is done)."""
    project = get_object_or_404(Project, slug=slug)
    prompt = assignment_next(project=project, annotator=request.user)
    if prompt is None:
        return _render_done(request, project)
    return _finish(request, redirect("labeling:rank", slug=slug, prompt_id=prompt.pk))


@require_GET
@login_required
def rank(request, slug: str, prompt_id: int):
    prompt = _prompt(slug, prompt_id)
    try:
        assignment_claim(prompt=prompt, annotator=request.user)
    except PromptFull as exc:
        messages.info(request, str(exc).capitalize() + ".")
        return _finish(request, redirect("labeling:start", slug=slug))
    ranking = Ranking.objects.filter(prompt=prompt, annotator=request.user).first()
    return _render_rank(request, prompt, ranking)


@require_POST
@login_required
def save(request, slug: str, prompt_id: int):
    """Autosave a draft (htmx): answers with the status line and the new version."""
    prompt = _prompt(slug, prompt_id)
    context: dict = {"uid": "rank", "reload_url": reverse("labeling:rank", args=[slug, prompt.pk])}
    try:
        version = _version(request)
        tiers = tiers_from_post(request.POST, len(_responses(prompt)))
        if Ranking.objects.filter(prompt=prompt, annotator=request.user, status=Ranking.Status.SUBMITTED).exists():
            raise BadInput("this ranking is already submitted; use Save changes to change it")
        assignment_claim(prompt=prompt, annotator=request.user)
        context["ranking"] = ranking_save(
            prompt=prompt,
            annotator=request.user,
            tiers=tiers,
            status=Ranking.Status.DRAFT,
            expected_version=version,
            time_spent_ms=_elapsed(request),
        )
    except RankingConflict as exc:
        context.update(conflict=_conflict_text(exc), conflict_version=exc.ranking.version)
    except RankingError as exc:
        context["errors"] = exc.errors
    except (BadInput, PromptFull) as exc:
        context["errors"] = [str(exc)]
    status = 200 if request.htmx or "ranking" in context else 400
    return _finish(request, render(request, "ranking_app/labeling/_autosave_status.html", context, status=status))


def _conflict_text(exc: RankingConflict) -> str:
    return (
        f"this ranking was saved elsewhere (another tab or device) since you loaded it: you edited "
        f"version {exc.expected_version}, the saved one is version {exc.ranking.version}."
    )


@require_POST
@login_required
def submit(request, slug: str, prompt_id: int):
    """The rank form: action=submit (default), draft (no-JS "Save draft") or skip."""
    prompt = _prompt(slug, prompt_id)
    action = request.POST.get("action", "submit")
    if action not in ("submit", "draft", "skip"):
        return HttpResponse(f"action must be submit, draft or skip (got {action!r})", status=400)
    existing = Ranking.objects.filter(prompt=prompt, annotator=request.user).first()
    n = len(_responses(prompt))
    try:
        version = _version(request)
        tiers = [] if action == "skip" else tiers_from_post(request.POST, n)
    except (BadInput, RankingError) as exc:
        errors = exc.errors if isinstance(exc, RankingError) else [str(exc)]
        return _render_rank(request, prompt, existing, errors=errors, status=_error_status(request))
    try:
        assignment_claim(prompt=prompt, annotator=request.user)
    except PromptFull as exc:
        messages.warning(request, str(exc).capitalize() + ".")
        return _finish(request, redirect("labeling:start", slug=slug))
    if action == "skip":
        return _skip(request, prompt, existing, version)
    return _save(request, prompt, existing, tiers, version, submitted=action == "submit")


def _error_status(request) -> int:
    # htmx swaps only 2xx answers; a plain form post gets a real error status.
    return 200 if request.htmx else 422


def _save(request, prompt: Prompt, existing: Ranking | None, tiers: Tiers, version: int, *, submitted: bool):
    was_submitted = existing is not None and existing.status == Ranking.Status.SUBMITTED
    if was_submitted and not submitted:
        return _render_rank(request, prompt, existing, tiers=tiers, errors=[
            "this ranking is already submitted; use Save changes to change it"], status=_error_status(request))
    status = Ranking.Status.SUBMITTED if submitted else Ranking.Status.DRAFT
    try:
        ranking = ranking_save(
            prompt=prompt, annotator=request.user, tiers=tiers, status=status,
            expected_version=version, time_spent_ms=_elapsed(request),
        )
    except RankingConflict as exc:
        notice = ("warn", _conflict_text(exc).capitalize() + " Your arrangement is shown below: submit again to "
                  "keep it, or reload the page to see the saved one.")
        return _render_rank(request, prompt, exc.ranking if exc.ranking.pk else None, tiers=tiers,
                            version=exc.ranking.version, notices=[notice], status=_error_status(request))
    except RankingError as exc:
        if not was_submitted:  # keep the work as a draft so nothing is lost
            existing, version = _keep_draft(request, prompt, tiers, version, existing)
        return _render_rank(request, prompt, existing, tiers=tiers, version=version, errors=exc.errors,
                            status=_error_status(request))
    if not submitted:
        return _render_rank(request, prompt, ranking, notices=[("done", f"Draft saved (version {ranking.version}).")])
    assignment_release(prompt=prompt, annotator=request.user)
    if was_submitted:
        messages.success(request, f"Your ranking of prompt {prompt.external_id} was updated (version {ranking.version}).")
        return _finish(request, redirect("labeling:history", slug=prompt.project.slug))
    progress_note_submitted(project=prompt.project)
    messages.success(request, f"Ranking of prompt {prompt.external_id} submitted.")
    return _finish(request, redirect("labeling:start", slug=prompt.project.slug))


def _keep_draft(request, prompt, tiers, version, existing):
    try:
        draft = ranking_save(prompt=prompt, annotator=request.user, tiers=tiers, expected_version=version)
    except (RankingConflict, RankingError):
        return existing, version
    return draft, draft.version


def _skip_reason(request) -> str:
    choice = request.POST.get("skip_reason", "")
    detail = request.POST.get("skip_detail", "").strip()[:1000]
    labels = dict(SKIP_REASONS)
    if choice not in labels:
        raise BadInput("choose why you are skipping this prompt")
    if choice == "other" and not detail:
        raise BadInput('say why you are skipping (required for "Other")')
    return labels[choice] + (f": {detail}" if detail else "")


def _skip(request, prompt: Prompt, existing: Ranking | None, version: int):
    if existing is not None and existing.status == Ranking.Status.SUBMITTED:
        return _render_rank(request, prompt, existing, errors=["a submitted ranking cannot be skipped"],
                            status=_error_status(request))
    try:
        reason = _skip_reason(request)
        ranking_save(
            prompt=prompt, annotator=request.user, tiers=[], status=Ranking.Status.SKIPPED,
            skip_reason=reason, expected_version=version, time_spent_ms=_elapsed(request),
        )
    except BadInput as exc:
        return _render_rank(request, prompt, existing, tiers=_posted_tiers(request, prompt), version=version,
                            skip_error=str(exc), status=_error_status(request))
    except RankingConflict as exc:
        notice = ("warn", _conflict_text(exc).capitalize() + " Nothing was skipped; check the saved version.")
        return _render_rank(request, prompt, exc.ranking if exc.ranking.pk else None,
                            version=exc.ranking.version, notices=[notice], status=_error_status(request))
    assignment_release(prompt=prompt, annotator=request.user)
    messages.info(request, f"Prompt {prompt.external_id} skipped.")
    return _finish(request, redirect("labeling:start", slug=prompt.project.slug))


def _posted_tiers(request, prompt: Prompt) -> Tiers | None:
    try:
        return tiers_from_post(request.POST, prompt._response_count)
    except RankingError:
        return None


def tiers_as_letters(tiers: Tiers, n_responses: int, *, annotator_id: int, prompt_id: int) -> str:
    """``A > B = C`` in the labeler's own card letters (the order they were shown)."""
    shown = display_order(list(range(n_responses)), annotator_id=annotator_id, prompt_id=prompt_id)
    letter = {position: card_label(i) for i, position in enumerate(shown)}
    return " > ".join(" = ".join(sorted(letter[p] for p in tier)) for tier in tiers)


@require_GET
@login_required
def history(request, slug: str):
    """The labeler's own rankings in this project, newest first, each one editable."""
    project = get_object_or_404(Project, slug=slug)
    rankings = (
        Ranking.objects.filter(prompt__project=project, annotator=request.user)
        .select_related("prompt")
        .annotate(n_responses=Count("prompt__responses"))
        .order_by("-updated_at", "-id")
    )
    page = Paginator(rankings, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    for ranking in page:
        ranking.letters = tiers_as_letters(
            ranking.tiers, ranking.n_responses, annotator_id=request.user.pk, prompt_id=ranking.prompt_id
        )
    context = {"project": project, "page": page, "progress": labeling_progress(project=project, annotator=request.user)}
    return _finish(request, render(request, "ranking_app/labeling/history.html", context))
