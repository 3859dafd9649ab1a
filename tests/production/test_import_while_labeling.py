"""An import runs while 10 labelers submit through the API (real threads against PostgreSQL, each
with its own connection): no acknowledged ranking is lost or silently replaced; the import either
waits for the rows it needs or refuses clearly, naming the conflict, and writes nothing then.

Skipped on SQLite, which serialises every writer (`make test` runs this file on PostgreSQL)."""

from __future__ import annotations

import random
import threading
from unittest import mock

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ranking_app.exchange import imports
from ranking_app.exchange.imports import rankings_import
from ranking_app.exchange.jsonl import ExchangeError
from ranking_app.models import Ranking
from tests.conftest import make_project, make_user

from .test_concurrency import all_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock concurrency needs PostgreSQL"),
]

N_LABELERS, N_PROMPTS, N_NEW = 10, 20, 300
ORDERS = [[1, 2, 3, 4], [4, 3, 2, 1], [2, 1, 4, 3], [1, 1, 2, 2]]


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def known(prompt, annotations: list[dict]) -> dict:
    """The exchange record of a prompt ``make_project`` made, with ``annotations``."""
    number = int(prompt.external_id.removeprefix("p-"))
    return {"id": prompt.external_id, "prompt": prompt.text, "annotations": annotations,
            "responses": [f"Answer {i} to prompt {number}" for i in range(4)]}  # fmt: skip


def new_prompts(prefix: str) -> list[dict]:
    return [{"id": f"{prefix}-{p:04d}", "prompt": f"{prefix} {p}?", "responses": list("abcd"), "rankings": [1, 2, 3, 4]}
            for p in range(N_NEW)]  # fmt: skip


def run_together(labeler_work, import_work) -> tuple[list, object]:
    results = all_at_once(N_LABELERS + 1, lambda i: import_work() if i == N_LABELERS else labeler_work(i))
    assert not [r for r in results if isinstance(r, Exception)], results
    return results[:-1], results[-1]


def test_ten_labelers_submitting_during_an_import_lose_nothing():
    project = make_project("crowd", n_prompts=N_PROMPTS, target_annotators=N_LABELERS + 1)
    prompts = list(project.prompts.order_by("pk"))
    users = [make_user(f"crowd{i}", "labeler") for i in range(N_LABELERS)]
    admin = client_of(make_user("boss", "admin"))
    records = [known(p, [{"annotator": "outside", "rankings": [4, 3, 2, 1]}]) for p in prompts]
    records += new_prompts("new")

    def label(i: int) -> list:
        client, acknowledged = client_of(users[i]), []
        for prompt in random.Random(i).sample(prompts, len(prompts)):
            ranks = ORDERS[(i + prompt.pk) % len(ORDERS)]
            reply = client.post("/api/rankings/", {"prompt": prompt.pk, "rankings": ranks}, format="json")
            assert reply.status_code in (201, 409, 403), (reply.status_code, reply.content)
            if reply.status_code == 201:
                acknowledged.append((prompt.pk, users[i].pk, reply.json()["tiers"]))
        return acknowledged

    def do_import():
        return admin.post(f"/api/projects/{project.slug}/import/", {"records": records, "source": "batch"}, format="json")

    acknowledged, imported = run_together(label, do_import)
    assert imported.status_code == 200, imported.content
    assert (imported.json()["created"], imported.json()["rankings_saved"]) == (N_NEW, N_PROMPTS + N_NEW)
    acknowledged = [a for per_labeler in acknowledged for a in per_labeler]
    assert len(acknowledged) == N_LABELERS * N_PROMPTS  # the target leaves room for everyone
    stored = Ranking.objects.filter(annotator__in=users)
    assert sorted(stored.values_list("prompt_id", "annotator_id", "tiers")) == sorted(acknowledged)
    assert set(stored.values_list("status", "source", "version")) == {("submitted", "api", 1)}
    assert Ranking.objects.filter(prompt__in=prompts, annotator__username="outside").count() == N_PROMPTS
    for ranking in Ranking.objects.filter(prompt__project=project):
        assert ranking.revisions.count() == ranking.version


def test_a_reimport_never_silently_replaces_the_edits_labelers_make_meanwhile():
    """Every labeler's rankings came from a first import; they edit them while a second import changes
    them too. Either order is fine, but a labeler's acknowledged edit is never replaced without
    ``overwrite``: the import refuses (naming the ranking) or the edit gets a 409."""
    project = make_project("reimport", n_prompts=N_PROMPTS, target_annotators=N_LABELERS + 1)
    prompts = list(project.prompts.order_by("pk"))
    users = [make_user(f"re{i}", "labeler") for i in range(N_LABELERS)]

    def annotated(ranks) -> list[dict]:
        return [known(p, [{"annotator": u.username, "rankings": ranks} for u in users]) for p in prompts]

    rankings_import(project=project, records=annotated([1, 2, 3, 4]), source="first")
    admin = client_of(make_user("boss", "admin"))
    second = annotated([4, 3, 2, 1]) + new_prompts("more")

    def edit(i: int) -> dict:
        client, last_ack = client_of(users[i]), {}
        mine = {r.prompt_id: r.pk for r in Ranking.objects.filter(annotator=users[i])}
        for prompt in random.Random(i).sample(prompts, len(prompts)):
            reply = client.put(f"/api/rankings/{mine[prompt.pk]}/", {"rankings": [2, 1, 4, 3], "version": 1},
                               format="json")  # fmt: skip
            assert reply.status_code in (200, 409), (reply.status_code, reply.content)
            if reply.status_code == 200:
                last_ack[prompt.pk] = reply.json()["tiers"]
        return last_ack

    def do_import():
        return admin.post(f"/api/projects/{project.slug}/import/", {"records": second, "source": "second"}, format="json")

    acks, imported = run_together(edit, do_import)
    assert imported.status_code in (200, 400), imported.content
    if imported.status_code == 400:
        said = " ".join(imported.json()["errors"])
        assert "nothing was" in said and ("saved in the app" in said or "changed" in said), said
        assert not project.prompts.filter(external_id__startswith="more-").exists()
    for user, last_ack in zip(users, acks, strict=True):
        for prompt_id, tiers in last_ack.items():
            ranking = Ranking.objects.get(prompt_id=prompt_id, annotator=user)
            assert (ranking.tiers, ranking.source) == (tiers, "api"), (user.username, prompt_id, ranking.version)
    for ranking in Ranking.objects.filter(prompt__project=project):
        assert ranking.revisions.count() == ranking.version


def before_the_import_writes(work):
    """Patch the import so that ``work`` runs (and commits, in its own thread and connection) after
    the import read the stored prompts and rankings and before it writes anything."""
    real_write = imports._write_prompts

    def write_after(*args, **kwargs):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(30)
        return real_write(*args, **kwargs)

    return mock.patch.object(imports, "_write_prompts", write_after)


def test_an_edit_that_lands_between_the_import_s_read_and_its_write_is_not_replaced():
    """The narrow window, made certain: a labeler's edit commits after the import read the stored
    rankings and before it writes them. The import must notice (the version it read is gone) and
    refuse, rather than replace the acknowledged edit."""
    project = make_project("window", n_prompts=2, target_annotators=2)
    prompt = project.prompts.order_by("pk").first()
    user = make_user("win", "labeler")
    first = [known(prompt, [{"annotator": "win", "rankings": [1, 2, 3, 4]}])]
    rankings_import(project=project, records=first, source="first")
    ranking = Ranking.objects.get(annotator=user)
    edited = {}

    def edit_now() -> None:  # in another thread: its own connection, committed before the import writes
        try:
            edited["reply"] = client_of(user).put(f"/api/rankings/{ranking.pk}/", {"rankings": [2, 1, 4, 3], "version": 1},
                                                  format="json")  # fmt: skip
        finally:
            connection.close()

    second = [known(prompt, [{"annotator": "win", "rankings": [4, 3, 2, 1]}])]
    with before_the_import_writes(edit_now), pytest.raises(ExchangeError) as refused:
        rankings_import(project=project, records=second, source="second")
    assert edited["reply"].status_code == 200, edited["reply"].content
    assert "win: their ranking changed while the import ran; nothing was imported" in str(refused.value.errors)
    ranking.refresh_from_db()
    assert (ranking.tiers, ranking.version, ranking.source) == ([[1], [0], [3], [2]], 2, "api")


def test_responses_are_not_replaced_under_a_first_ranking_saved_while_the_import_ran():
    """The import read a prompt without rankings, so it may replace its responses; a labeler's first
    ranking lands before the import writes. The import must see it and refuse, or the ranking would
    point at responses the labeler never saw."""
    project = make_project("swap", n_prompts=1, target_annotators=2)
    prompt = project.prompts.get()
    user = make_user("swapper", "labeler")
    saved = {}

    def rank_now() -> None:
        try:
            saved["reply"] = client_of(user).post("/api/rankings/", {"prompt": prompt.pk, "rankings": [1, 2, 3, 4]},
                                                  format="json")  # fmt: skip
        finally:
            connection.close()

    record = {"id": prompt.external_id, "prompt": prompt.text, "responses": ["w", "x", "y", "z"]}
    with before_the_import_writes(rank_now), pytest.raises(ExchangeError) as refused:
        rankings_import(project=project, records=[record], source="swap")
    assert saved["reply"].status_code == 201, saved["reply"].content
    assert "a labeler is ranking this prompt right now" in refused.value.errors[0]
    assert list(prompt.responses.order_by("position").values_list("text", flat=True))[0] == "Answer 0 to prompt 0"
    assert Ranking.objects.get(prompt=prompt, annotator=user).tiers == [[0], [1], [2], [3]]
