"""Reads of the judging feature: the prompts a model ranks, as engine records."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count

from ranking_app.models import Project, Prompt, Response, Round


def judged_prompts(*, project: Project, round_number: int | None = None) -> list[Prompt]:
    """The prompts of ``project`` (of one round when given) that hold two responses or more."""
    prompts = Prompt.objects.filter(project=project).annotate(n=Count("responses")).filter(n__gte=2)
    if round_number is not None:
        prompts = prompts.filter(round__number=round_number)
    return list(prompts.order_by("id"))


def judge_records(prompts: list[Prompt]) -> list[dict]:
    """One engine record per prompt (id = the prompt's pk as text, responses in canonical order)."""
    texts: dict[int, list[str]] = defaultdict(list)
    for prompt_id, text in Response.objects.filter(prompt__in=prompts).order_by("prompt_id", "position").values_list(
        "prompt_id", "text"
    ):
        texts[prompt_id].append(text)
    return [{"id": str(p.pk), "prompt": p.text, "responses": texts[p.pk]} for p in prompts]


def round_exists(*, project: Project, round_number: int) -> bool:
    return Round.objects.filter(project=project, number=round_number).exists()
