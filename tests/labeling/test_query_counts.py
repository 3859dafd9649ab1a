"""SQL queries per labeling request must not grow with the size of the database."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ranking_app.models import Ranking, RankingRevision
from tests.conftest import make_user
from tests.labeling.factories import make_labeling_project

pytestmark = pytest.mark.django_db


def build(slug, n_prompts, annotators):
    project = make_labeling_project(slug=slug, n_prompts=n_prompts, k=4, target_annotators=len(annotators) + 1)
    rankings = [
        Ranking(prompt=prompt, annotator=user, tiers=[[0], [1, 2], [3]], status="submitted", version=1)
        for prompt in project.prompts.all()
        for user in annotators
    ]
    Ranking.objects.bulk_create(rankings)
    RankingRevision.objects.bulk_create(
        RankingRevision(ranking=r, version=1, tiers=r.tiers, status=r.status) for r in rankings
    )
    return project


def count_queries(client, project, user):
    """Queries of one labeling round: queue, rank screen, autosave, submit, history."""
    client.force_login(user)
    cache.clear()  # cold progress cache at both sizes
    counts = {}
    with CaptureQueriesContext(connection) as ctx:
        location = client.get(reverse("labeling:start", args=[project.slug]))["Location"]
    counts["start"] = len(ctx)
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(location)
    counts["rank"] = len(ctx)
    prompt = page.context["prompt"]
    data = {"version": "0", "rank_0": "1", "rank_1": "2", "rank_2": "2", "rank_3": ""}
    with CaptureQueriesContext(connection) as ctx:
        client.post(reverse("labeling:save", args=[project.slug, prompt.pk]), data, HTTP_HX_REQUEST="true")
    counts["autosave"] = len(ctx)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(reverse("labeling:submit", args=[project.slug, prompt.pk]), {**data, "version": "1"})
    assert response.status_code == 302
    counts["submit"] = len(ctx)
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("labeling:history", args=[project.slug]))
    counts["history"] = len(ctx)
    return counts


def test_queries_per_request_do_not_grow_with_the_database(client):
    annotators = [make_user(f"ann{i}") for i in range(3)]
    small = build("small", 4, annotators)
    large = build("large", 60, annotators)
    small_counts = count_queries(client, small, make_user("s-labeler"))
    large_counts = count_queries(client, large, make_user("l-labeler"))
    assert small_counts == large_counts
    assert all(n <= 25 for n in large_counts.values()), large_counts
