"""Real threads against PostgreSQL (row locks): the queue's target, optimistic versions, imports.

Each thread has its own database connection (Django connections are per thread); a barrier starts
them together. Skipped on SQLite, which serialises every writer anyway (`make test` runs this file
against a throwaway PostgreSQL cluster, see .ci/with_postgres.sh).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ranking_app.exchange.imports import rankings_import
from ranking_app.labeling.assignments import PromptFull, assignment_claim, assignment_next, assignment_release
from ranking_app.models import Ranking, RankingRevision
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock concurrency needs PostgreSQL"),
]


def all_at_once(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_twenty_labelers_asking_at_once_never_exceed_a_target():
    project = make_project("rush", n_prompts=3, target_annotators=2)
    users = [make_user(f"rush{i}", "labeler") for i in range(20)]
    got = all_at_once(20, lambda i: assignment_next(project=project, annotator=users[i]))
    assert not [g for g in got if isinstance(g, Exception)], got
    handed = Counter(p.pk for p in got if p is not None)
    assert sorted(handed.values()) == [2, 2, 2]  # every slot used once, none twice
    assert sum(1 for g in got if g is None) == 14


def test_twenty_labelers_claiming_one_prompt_fill_exactly_its_target():
    project = make_project("claim", n_prompts=1, target_annotators=3)
    prompt = project.prompts.get()
    users = [make_user(f"claim{i}", "labeler") for i in range(20)]
    got = all_at_once(20, lambda i: assignment_claim(prompt=prompt, annotator=users[i]))
    assert sum(1 for g in got if g is None) == 3
    assert all(isinstance(g, PromptFull) for g in got if g is not None), got
    assert prompt.assignments.count() == 3


@pytest.mark.parametrize("existing", [False, True], ids=["new-ranking", "existing-ranking"])
def test_two_tabs_saving_one_ranking_give_one_success_and_one_409(existing):
    project = make_project("tabs", n_prompts=1)
    prompt = project.prompts.get()
    user = make_user("tabs", "labeler")
    version = 0
    if existing:
        version = ranking_save(prompt=prompt, annotator=user, tiers=[[0], [1]], status="submitted").version
    clients = [APIClient(), APIClient()]
    for client in clients:
        client.force_authenticate(user)
    body = [{"prompt": prompt.pk, "rankings": [i + 1, 2 - i, 3, 4], "version": version} for i in range(2)]
    replies = all_at_once(2, lambda i: clients[i].post("/api/rankings/", body[i], format="json"))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200 if existing else 201, 409], [r.content for r in replies]
    ranking = Ranking.objects.get(prompt=prompt, annotator=user)
    assert ranking.version == version + 1
    assert RankingRevision.objects.filter(ranking=ranking).count() == ranking.version


def _label_until_done(project, user, acknowledged: list) -> None:
    while (prompt := assignment_next(project=project, annotator=user)) is not None:
        ranking_save(prompt=prompt, annotator=user, tiers=[[0], [1, 2], [3]], status="submitted")
        acknowledged.append((prompt.pk, user.pk))
        assignment_release(prompt=prompt, annotator=user)


def test_an_import_while_labelers_work_leaves_both_consistent():
    project = make_project("busy", n_prompts=12, target_annotators=2)
    users = [make_user(f"busy{i}", "labeler") for i in range(6)]
    records = [
        {"id": f"p-{p:03d}", "prompt": f"Prompt {p}?", "responses": [f"Answer {i} to prompt {p}" for i in range(4)],
         "annotations": [{"annotator": "outside", "rankings": [1, 2, 3, 4]}]}
        for p in range(12)
    ] + [{"id": f"new-{p}", "prompt": f"New {p}?", "responses": list("abcd"), "rankings": [1, 2, 3, 4]} for p in range(50)]
    acknowledged: list = []

    def work(i: int):
        if i == len(users):
            return rankings_import(project=project, records=records, source="importer")
        return _label_until_done(project, users[i], acknowledged)

    results = all_at_once(len(users) + 1, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    report = results[-1]
    assert (report.created, report.rankings_saved) == (50, 62)
    labeled = Ranking.objects.filter(annotator__in=users, status="submitted")
    assert sorted(labeled.values_list("prompt_id", "annotator_id")) == sorted(acknowledged)
    per_prompt = Counter(labeled.values_list("prompt_id", flat=True))
    assert len(acknowledged) >= 12 and max(per_prompt.values()) <= 2
    assert Ranking.objects.filter(prompt__project=project, annotator__username="outside").count() == 12
    for ranking in Ranking.objects.filter(prompt__project=project):
        assert ranking.revisions.count() == ranking.version
