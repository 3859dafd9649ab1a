"""Seconds and keystrokes per submitted ranking, by K, on the agreement page."""

import pytest

from ranking_app.labeling.throughput import labeling_throughput, median_with_interval
from ranking_app.models import Prompt, Ranking, Response
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def test_figures_by_k_leave_out_rankings_without_times_or_keys(client):
    project = make_project(n_prompts=3, k=4)
    wide = Prompt.objects.create(project=project, external_id="wide", text="Six?")
    Response.objects.bulk_create(Response(prompt=wide, position=i, text=f"a{i}") for i in range(6))
    users = [make_user(f"u{i}", "labeler") for i in range(3)]
    prompts = list(Prompt.objects.filter(project=project).exclude(pk=wide.pk))
    for user, (ms, keys) in zip(users, [(10_000, 5), (20_000, 5), (30_000, 0)], strict=True):
        for prompt in prompts:
            Ranking.objects.create(prompt=prompt, annotator=user, tiers=[[0], [1]], status="submitted",
                                   time_spent_ms=ms, keystrokes=keys)  # fmt: skip
    Ranking.objects.create(prompt=wide, annotator=users[0], tiers=[[0]], status="submitted", time_spent_ms=0)
    Ranking.objects.create(prompt=wide, annotator=users[1], tiers=[[0]], status="draft", time_spent_ms=9_000)
    rows = labeling_throughput(project=project)
    assert [(r["k"], r["rankings"]) for r in rows] == [(4, 9), (6, 1)]
    assert rows[0]["seconds"]["median"] == 20.0 and rows[0]["seconds"]["n"] == 9
    assert rows[0]["keystrokes"] == {"median": 5.0, "low": 5.0, "high": 5.0, "n": 6}
    assert rows[1]["seconds"] is None and rows[1]["keystrokes"] is None
    client.force_login(make_user("rev", "reviewer"))
    html = client.get(f"/review/{project.slug}/").content.decode()
    assert 'id="throughput"' in html and 'data-k="4"' in html and "20.0" in html


def test_the_interval_of_a_median_widens_with_few_values():
    many = median_with_interval([float(i) for i in range(101)])
    assert many["median"] == 50 and 38 <= many["low"] < 50 < many["high"] <= 62
    few = median_with_interval([3.0, 1.0, 2.0])
    assert (few["low"], few["median"], few["high"]) == (1.0, 2.0, 3.0)
    assert median_with_interval([]) is None
