"""Reads: the queries views, the API and commands share."""

from django.db.models import Count, QuerySet

from ..annotators import model_annotator_ids, people_only
from ..models import Project, Ranking
from ..roles import is_reviewer


def project_list(*, user=None) -> QuerySet[Project]:
    return Project.objects.annotate(
        n_prompts=Count("prompts", distinct=True),
    ).order_by("name")


def project_counts(*, project: Project) -> dict:
    """Prompt and ranking counts for a project page (people's rankings; a model annotator's counted apart)."""
    everyone = Ranking.objects.filter(prompt__project=project)
    rankings = people_only(everyone)
    by_status = dict(rankings.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "prompts": project.prompts.count(),
        "responses": project.prompts.aggregate(n=Count("responses"))["n"] or 0,
        "submitted": by_status.get(Ranking.Status.SUBMITTED, 0),
        "drafts": by_status.get(Ranking.Status.DRAFT, 0),
        "skipped": by_status.get(Ranking.Status.SKIPPED, 0),
        "annotators": rankings.values("annotator").distinct().count(),
        "model_rankings": everyone.filter(annotator_id__in=model_annotator_ids()).count(),
    }


def ranking_list(*, user, project: Project | None = None) -> QuerySet[Ranking]:
    """Rankings ``user`` may see: reviewers and admins see all, labelers only their own."""
    qs = Ranking.objects.select_related("prompt", "annotator")
    if project is not None:
        qs = qs.filter(prompt__project=project)
    if not is_reviewer(user):
        qs = qs.filter(annotator=user)
    return qs
