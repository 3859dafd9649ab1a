"""The benchmark data set builder gives the promised counts and valid, mostly agreeing rankings."""

import pytest

from benchmarks.bench_data import BENCH_PASSWORD, build_benchmark_project
from ranking_app.models import Prompt, Ranking, RankingRevision, Response
from ranking_app.ranking import validate_tiers
from ranking_app.ranking_store import project_rules

pytestmark = pytest.mark.django_db


def test_small_benchmark_project_has_the_right_counts():
    project = build_benchmark_project(slug="b1", n_prompts=40, k=5, annotators=3, seed=1)

    prompts = Prompt.objects.filter(project=project)
    assert prompts.count() == 40
    assert Response.objects.filter(prompt__project=project).count() == 200
    rankings = Ranking.objects.filter(prompt__project=project)
    # every 20th prompt (index 19, 39) has fewer rankings: 0 and 1 here
    assert rankings.count() == 38 * 3 + 0 + 1
    assert set(rankings.values_list("status", flat=True)) == {Ranking.Status.SUBMITTED}
    assert RankingRevision.objects.filter(ranking__prompt__project=project).count() == rankings.count()
    assert set(prompts.values_list("split", flat=True)) <= {"train", "test"}


def test_benchmark_rankings_are_valid_for_the_project_rules():
    project = build_benchmark_project(slug="b2", n_prompts=200, k=4, annotators=3)
    rules = project_rules(project)
    rankings = list(Ranking.objects.filter(prompt__project=project))
    for ranking in rankings:
        assert validate_tiers(ranking.tiers, 4, rules) == ranking.tiers
    n_ties = sum(any(len(t) > 1 for t in r.tiers) for r in rankings)
    n_partial = sum(sum(map(len, r.tiers)) < 4 for r in rankings)
    n_best_first = sum(r.tiers[0] == [0] for r in rankings)
    assert 0.03 < n_ties / len(rankings) < 0.2
    assert 0.01 < n_partial / len(rankings) < 0.12
    assert n_best_first / len(rankings) > 0.6  # annotators mostly agree with the true order


def test_rebuilding_recreates_the_same_project_and_users_can_log_in(client):
    first = build_benchmark_project(slug="b3", n_prompts=30, seed=7)
    tiers_before = list(Ranking.objects.filter(prompt__project=first).values_list("tiers", flat=True))
    second = build_benchmark_project(slug="b3", n_prompts=30, seed=7)
    tiers_after = list(Ranking.objects.filter(prompt__project=second).values_list("tiers", flat=True))

    assert tiers_before == tiers_after
    assert Prompt.objects.filter(project__slug="b3").count() == 30
    assert client.post("/accounts/login/", {"username": "b3-labeler", "password": BENCH_PASSWORD}).status_code == 302


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="k >= 2"):
        build_benchmark_project(slug="b4", n_prompts=10, k=1)


def test_fifty_responses_per_prompt_work_and_stay_a_realistic_size():
    project = build_benchmark_project(slug="b50", n_prompts=4, k=50, annotators=2)
    rules = project_rules(project)

    texts = list(Response.objects.filter(prompt__project=project).values_list("text", flat=True))
    assert len(texts) == 200 and max(map(len, texts)) < 2000
    for ranking in Ranking.objects.filter(prompt__project=project):
        assert validate_tiers(ranking.tiers, 50, rules) == ranking.tiers
