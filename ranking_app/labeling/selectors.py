"""Reads of the labeling side: what a labeler sees of a prompt, their own history, and what the
API may show them.

Blind labeling: a labeler only ever reads their own ranking of a prompt and the prompt's and
responses' texts, never another annotator's ranking, the consensus or where a response came
from (its ``source`` and ``metadata``). Reviewers and admins see everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce

from ..annotators import people_only
from ..cards import card_label, display_order
from ..models import Project, Prompt, Ranking
from ..ranking import Tiers
from ..roles import is_reviewer


def labeling_is_blind(*, user) -> bool:
    """Whether ``user`` sees prompts as labelers do (no sources, metadata or others' rankings)."""
    return not is_reviewer(user)


def ranking_own(*, prompt: Prompt, annotator) -> Ranking | None:
    """``annotator``'s own ranking of ``prompt`` (any status), if they have one."""
    return Ranking.objects.filter(prompt=prompt, annotator=annotator).first()


def prompt_responses(*, prompt: Prompt) -> list:
    """The responses of ``prompt`` in canonical order; remembers their count on the prompt
    (it spares ``ranking_save`` a COUNT query)."""
    responses = list(prompt.responses.all())
    prompt._response_count = len(responses)
    return responses


@dataclass(frozen=True)
class RankScreen:
    """What the rank page shows one labeler of one prompt."""

    prompt: Prompt
    ranking: Ranking | None  # their own, never anyone else's
    responses: list  # in this labeler's display order
    progress: dict

    @property
    def editing(self) -> bool:
        return self.ranking is not None and self.ranking.status == Ranking.Status.SUBMITTED


def rank_screen(*, prompt: Prompt, annotator, ranking: Ranking | None) -> RankScreen:
    responses = prompt_responses(prompt=prompt)
    return RankScreen(
        prompt=prompt,
        ranking=ranking,
        responses=display_order(responses, annotator_id=annotator.pk, prompt_id=prompt.pk),
        progress=labeling_progress(project=prompt.project, annotator=annotator),
    )


def tiers_as_letters(tiers: Tiers, n_responses: int, *, annotator_id: int, prompt_id: int) -> str:
    """``A > B = C`` in the labeler's own card letters (the order they were shown)."""
    shown = display_order(list(range(n_responses)), annotator_id=annotator_id, prompt_id=prompt_id)
    letter = {position: card_label(i) for i, position in enumerate(shown)}
    return " > ".join(" = ".join(sorted(letter[p] for p in tier)) for tier in tiers)


def labeling_history(*, project: Project, annotator) -> QuerySet[Ranking]:
    """The labeler's own rankings in ``project``, newest first."""
    return (
        Ranking.objects.filter(prompt__project=project, annotator=annotator)
        .select_related("prompt")
        .annotate(n_responses=Count("prompt__responses"))
        .order_by("-updated_at", "-id")
    )


def with_letters(rankings, *, annotator) -> None:
    """Set ``ranking.letters`` on each of ``rankings`` (see :func:`tiers_as_letters`)."""
    for ranking in rankings:
        ranking.letters = tiers_as_letters(
            ranking.tiers, ranking.n_responses, annotator_id=annotator.pk, prompt_id=ranking.prompt_id
        )


PROGRESS_CACHE_SECONDS = 10
DONE_STATUSES = (Ranking.Status.SUBMITTED, Ranking.Status.SKIPPED)


def totals_key(project: Project) -> str:
    # created_at too: a project deleted and re-created under a reused id starts afresh.
    return f"grpo:labeling-totals:{project.pk}:{project.created_at.timestamp()}"


def _project_totals(project: Project) -> dict:
    """Prompts and submitted rankings of a project, cached for a few seconds: these two counts
    scan the whole project, so the project bar may lag others' work by up to that long."""
    key = totals_key(project)
    totals = cache.get(key)
    if totals is None:
        totals = Prompt.objects.filter(project=project, responses__position=1).aggregate(n=Count("pk"), extra=Coalesce(Sum("extra_annotators"), 0))
        totals["submitted"] = people_only(Ranking.objects.filter(
            prompt__project=project, status=Ranking.Status.SUBMITTED
        )).count()
        cache.set(key, totals, PROGRESS_CACHE_SECONDS)
    return totals


def labeling_progress(*, project: Project, annotator) -> dict:
    """Done/target figures for the progress bars: the labeler's own (live) and the project's."""
    totals = _project_totals(project)
    my_done = Ranking.objects.filter(
        prompt__project=project, annotator=annotator, status__in=DONE_STATUSES
    ).count()
    wanted = totals["n"] * project.target_annotators + totals["extra"]
    done = min(totals["submitted"], wanted)
    return {
        "mine_done": my_done,
        "mine_target": totals["n"],
        "mine_percent": _percent(my_done, totals["n"]),
        "project_done": done,
        "project_target": wanted,
        "project_percent": _percent(done, wanted),
    }


def _percent(done: int, target: int) -> int:
    return 100 if target == 0 else int(100 * done / target)
