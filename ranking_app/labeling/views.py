"""Labeler pages: the queue, the rank screen, autosave / submit / skip, and the history.

Every page works as plain HTML forms; with htmx the rank panel (``#labeling-panel``) is swapped
in place (submit -> next prompt without a page reload) and drafts autosave in the background.
Labelers only ever see their own ranking of a prompt (blind labeling): nothing here reads
another annotator's ranking or the consensus.

The views only translate: the form into a call of a labeling service (``labeling/services.py``,
the same the REST API calls) and its ``Outcome`` into a page, a partial or a redirect; what the
rank page shows comes from ``labeling/selectors.py``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from ..models import Project, Prompt, Ranking
from ..rank_widget import build_rank_widget, tiers_from_post
from ..ranking import RankingError, Tiers
from ..safe_json import whole_number
from .assignments import PromptFull, assignment_claim, assignment_next
from .selectors import (
    RankScreen,
    labeling_history,
    labeling_progress,
    prompt_responses,
    rank_screen,
    ranking_own,
    with_letters,
)
from .services import (
    LabelingResult,
    Outcome,
    ranking_draft_save,
    ranking_skip,
    ranking_submit,
)

SKIP_REASONS = [
    ("expertise", "I can't judge this (outside my expertise)"),
    ("identical", "The responses are (nearly) identical"),
    ("broken", "The prompt or responses are broken or unreadable"),
    ("unsafe", "Harmful content I won't rank"),
    ("other", "Other (say why below)"),
]
MAX_ELAPSED_MS = 60 * 60 * 1000
MAX_KEYSTROKES = 10_000  # per save
HISTORY_PAGE_SIZE = 50
RANK_PAGE = "ranking_app/labeling/rank.html"
RANK_PANEL = "ranking_app/labeling/_rank_panel.html"
DONE_PANEL = "ranking_app/labeling/_done_panel.html"
# Outcomes the form answers with a redirect: (message level, message, where to go next).
FORM_DONE = {
    Outcome.SUBMITTED: (messages.SUCCESS, "Ranking of prompt {prompt} submitted.", "labeling:start"),
    Outcome.UPDATED: (
        messages.SUCCESS, "Your ranking of prompt {prompt} was updated (version {version}).", "labeling:history"
    ),
    Outcome.SKIPPED: (messages.INFO, "Prompt {prompt} skipped.", "labeling:start"),
    Outcome.PROMPT_FULL: (messages.WARNING, "{refusal}.", "labeling:start"),
}
CONFLICT_KEEP = " Your arrangement is shown below: submit again to keep it, or reload the page to see the saved one."
CONFLICT_SKIP = " Nothing was skipped; check the saved version."


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


def _effort(request) -> dict:
    """The time and the keys the page spent since its last save (garbage counts as nothing spent)."""
    keystrokes = min(whole_number(request.POST.get("keystrokes", "0")) or 0, MAX_KEYSTROKES)
    return {"time_spent_ms": _elapsed(request), "keystrokes": keystrokes}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _htmx_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _error_status(request) -> int:
    # htmx swaps only 2xx answers; a plain form post gets a real error status.
    return 200 if request.htmx else 422


def _finish(request, response: HttpResponse, url: str | None = None) -> HttpResponse:
    """Full pages and htmx partials share URLs: never let a cache serve one for the other."""
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    if url and _htmx_partial(request):
        response["HX-Push-Url"] = url
    return response


def _widget(screen: RankScreen, *, tiers: Tiers | None, version: int | None, errors: list[str]):
    prompt, ranking, editing = screen.prompt, screen.ranking, screen.editing
    slug = prompt.project.slug
    return build_rank_widget(
        responses=screen.responses,
        tiers=tiers if tiers is not None else (ranking.tiers if ranking else []),
        allow_ties=prompt.project.allow_ties,
        allow_partial=prompt.project.allow_partial,
        action=reverse("labeling:submit", args=[slug, prompt.pk]),
        version=version if version is not None else (ranking.version if ranking else 0),
        autosave_url="" if editing else reverse("labeling:save", args=[slug, prompt.pk]),
        submit_label="Save changes" if editing else "Submit ranking",
        draft_button=not editing,
        hx_target="#labeling-panel",
        extra_template="" if editing else "ranking_app/labeling/_skip_controls.html",
        autofocus=True,
        errors=errors,
    )


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
    """The rank page (or its panel for htmx) of ``prompt`` with the labeler's own ``ranking``;
    ``tiers``/``version`` override the stored ones (e.g. to keep a posted arrangement on screen)."""
    screen = rank_screen(prompt=prompt, annotator=request.user, ranking=ranking)
    context = {
        "project": prompt.project,
        "prompt": prompt,
        "ranking": ranking,
        "editing": screen.editing,
        "widget": _widget(screen, tiers=tiers, version=version, errors=errors or []),
        "n_responses": len(screen.responses),
        "progress": screen.progress,
        "notices": notices,
        "skip_reasons": SKIP_REASONS,
        "skip_error": skip_error,
        "panel_template": RANK_PANEL,
    }
    template = RANK_PANEL if _htmx_partial(request) else RANK_PAGE
    url = reverse("labeling:rank", args=[prompt.project.slug, prompt.pk])
    return _finish(request, render(request, template, context, status=status), url)


def _render_done(request, project: Project) -> HttpResponse:
    context = {
        "project": project,
        "progress": labeling_progress(project=project, annotator=request.user),
        "panel_template": DONE_PANEL,
    }
    template = DONE_PANEL if _htmx_partial(request) else RANK_PAGE
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
        messages.info(request, _sentence(str(exc)) + ".")
        return _finish(request, redirect("labeling:start", slug=slug))
    return _render_rank(request, prompt, ranking_own(prompt=prompt, annotator=request.user))


@require_POST
@login_required
def save(request, slug: str, prompt_id: int):
    """Autosave a draft (htmx): answers with the status line and the new version."""
    prompt = _prompt(slug, prompt_id)
    context: dict = {"uid": "rank", "reload_url": reverse("labeling:rank", args=[slug, prompt.pk])}
    try:
        version = _version(request)
        tiers = tiers_from_post(request.POST, len(prompt_responses(prompt=prompt)))
    except RankingError as exc:
        context["errors"] = exc.errors
    except BadInput as exc:
        context["errors"] = [str(exc)]
    else:
        result = ranking_draft_save(
            prompt=prompt, annotator=request.user, tiers=tiers, expected_version=version, **_effort(request),
        )
        context.update(_autosave_context(result))
    status = 200 if request.htmx or "ranking" in context else 400
    return _finish(request, render(request, "ranking_app/labeling/_autosave_status.html", context, status=status))


def _autosave_context(result: LabelingResult) -> dict:
    if result.outcome is Outcome.DRAFT_SAVED:
        return {"ranking": result.ranking}
    if result.outcome is Outcome.CONFLICT:
        return {"conflict": result.message, "conflict_version": result.version}
    return {"errors": list(result.errors)}


@require_POST
@login_required
def submit(request, slug: str, prompt_id: int):
    """The rank form: action=submit (default), draft (no-JS "Save draft") or skip."""
    prompt = _prompt(slug, prompt_id)
    action = request.POST.get("action", "submit")
    if action not in ("submit", "draft", "skip"):
        return HttpResponse(f"action must be submit, draft or skip (got {action!r})", status=400)
    n_responses = len(prompt_responses(prompt=prompt))
    try:
        version = _version(request)
        tiers = [] if action == "skip" else tiers_from_post(request.POST, n_responses)
    except (BadInput, RankingError) as exc:
        errors = exc.errors if isinstance(exc, RankingError) else [str(exc)]
        own = ranking_own(prompt=prompt, annotator=request.user)
        return _render_rank(request, prompt, own, errors=errors, status=_error_status(request))
    if action == "skip":
        return _skip(request, prompt, version)
    write = ranking_submit if action == "submit" else ranking_draft_save
    result = write(
        prompt=prompt, annotator=request.user, tiers=tiers, expected_version=version, **_effort(request)
    )
    return _form_answer(request, prompt, result, tiers=tiers, version=version, conflict_tail=CONFLICT_KEEP)


def _skip(request, prompt: Prompt, version: int) -> HttpResponse:
    try:
        reason = _skip_reason(request)
    except BadInput as exc:
        own = ranking_own(prompt=prompt, annotator=request.user)
        return _render_rank(request, prompt, own, tiers=_posted_tiers(request, prompt), version=version,
                            skip_error=str(exc), status=_error_status(request))
    result = ranking_skip(
        prompt=prompt, annotator=request.user, reason=reason, expected_version=version, **_effort(request)
    )
    return _form_answer(request, prompt, result, tiers=None, version=version, conflict_tail=CONFLICT_SKIP)


def _form_answer(
    request, prompt: Prompt, result: LabelingResult, *, tiers: Tiers | None, version: int, conflict_tail: str
) -> HttpResponse:
    """The outcome of a labeling service as the form's answer: a redirect once done (or refused by
    the queue), else the rank page again with what was posted and why it was not taken."""
    if result.outcome in FORM_DONE:
        level, text, next_page = FORM_DONE[result.outcome]
        text = text.format(prompt=prompt.external_id, version=result.version, refusal=_sentence(result.message))
        messages.add_message(request, level, text)
        return _finish(request, redirect(next_page, slug=prompt.project.slug))
    if result.outcome is Outcome.DRAFT_SAVED:
        notice = ("done", f"Draft saved (version {result.version}).")
        return _render_rank(request, prompt, result.ranking, notices=[notice])
    status = _error_status(request)
    if result.outcome is Outcome.CONFLICT:
        notice = ("warn", _sentence(result.message) + conflict_tail)
        return _render_rank(request, prompt, result.ranking, tiers=tiers, version=result.version,
                            notices=[notice], status=status)
    # INVALID keeps the posted version; KEPT_AS_DRAFT and ALREADY_SUBMITTED show the stored one.
    shown = version if result.outcome is Outcome.INVALID else result.version
    return _render_rank(request, prompt, result.ranking, tiers=tiers, version=shown, errors=list(result.errors),
                        status=status)


def _skip_reason(request) -> str:
    choice = request.POST.get("skip_reason", "")
    detail = request.POST.get("skip_detail", "").strip()[:1000]
    labels = dict(SKIP_REASONS)
    if choice not in labels:
        raise BadInput("choose why you are skipping this prompt")
    if choice == "other" and not detail:
        raise BadInput('say why you are skipping (required for "Other")')
    return labels[choice] + (f": {detail}" if detail else "")


def _posted_tiers(request, prompt: Prompt) -> Tiers | None:
    try:
        return tiers_from_post(request.POST, prompt._response_count)
    except RankingError:
        return None


@require_GET
@login_required
def history(request, slug: str):
    """The labeler's own rankings in this project, newest first, each one editable."""
    project = get_object_or_404(Project, slug=slug)
    rankings = labeling_history(project=project, annotator=request.user)
    page = Paginator(rankings, HISTORY_PAGE_SIZE).get_page(whole_number(request.GET.get("page", "")))
    with_letters(page, annotator=request.user)
    context = {"project": project, "page": page, "progress": labeling_progress(project=project, annotator=request.user)}
    return _finish(request, render(request, "ranking_app/labeling/history.html", context))
