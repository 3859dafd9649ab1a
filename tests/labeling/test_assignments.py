"""The labeling queue: leases, targets, expiry, concurrency."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ranking_app.labeling import assignments
from ranking_app.labeling.assignments import (
    PromptFull,
    assignment_claim,
    assignment_next,
    assignment_purge_expired,
    assignment_release,
)
from ranking_app.models import Assignment, Ranking
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def submit(prompt, user, tiers=([0], [1])):
    return ranking_save(prompt=prompt, annotator=user, tiers=[list(t) for t in tiers], status=Ranking.Status.SUBMITTED)


def test_fewest_submitted_first_and_never_one_already_done():
    project = make_project(n_prompts=3, target_annotators=3)
    p0, p1, p2 = project.prompts.order_by("id")
    me, a, b = make_user("me"), make_user("a"), make_user("b")
    submit(p0, a)
    submit(p0, b)
    submit(p1, a)
    assert assignment_next(project=project, annotator=me) == p2
    submit(p2, me)
    assignment_release(prompt=p2, annotator=me)
    assert assignment_next(project=project, annotator=me) == p1
    ranking_save(prompt=p1, annotator=me, tiers=[], status=Ranking.Status.SKIPPED, skip_reason="x")
    assignment_release(prompt=p1, annotator=me)
    assert assignment_next(project=project, annotator=me) == p0
    submit(p0, me)
    assignment_release(prompt=p0, annotator=me)
    assert assignment_next(project=project, annotator=me) is None


def test_reload_gives_the_same_prompt_and_renews_the_lease(settings):
    settings.ASSIGNMENT_LEASE_MINUTES = 7
    project = make_project(n_prompts=3)
    me = make_user("me")
    first = assignment_next(project=project, annotator=me)
    later = timezone.now() + timedelta(minutes=5)
    assert assignment_next(project=project, annotator=me, now=later) == first
    lease = Assignment.objects.get(annotator=me)
    assert abs((lease.expires_at - later).total_seconds() - 7 * 60) < 2
    assert Assignment.objects.count() == 1


def test_two_labelers_never_exceed_the_target():
    project = make_project(n_prompts=2, target_annotators=1)
    a, b, c = make_user("a"), make_user("b"), make_user("c")
    pa = assignment_next(project=project, annotator=a)
    pb = assignment_next(project=project, annotator=b)
    assert pa != pb and pb is not None
    assert assignment_next(project=project, annotator=c) is None


def test_extra_annotators_asked_by_a_reviewer_reopen_a_full_prompt():
    project = make_project(n_prompts=1, target_annotators=1)
    prompt = project.prompts.get()
    submit(prompt, make_user("a"))
    late = make_user("late")
    assert assignment_next(project=project, annotator=late) is None
    prompt.extra_annotators = 1
    prompt.save()
    assert assignment_next(project=project, annotator=late) == prompt


def test_an_expired_lease_frees_the_prompt():
    project = make_project(n_prompts=1, target_annotators=1)
    a, b = make_user("a"), make_user("b")
    prompt = assignment_next(project=project, annotator=a)
    assert assignment_next(project=project, annotator=b) is None
    after_expiry = timezone.now() + timedelta(minutes=31)
    assert assignment_next(project=project, annotator=b, now=after_expiry) == prompt
    with pytest.raises(PromptFull):  # a comes back too late: b holds the only slot now
        assignment_claim(prompt=prompt, annotator=a, now=after_expiry)
    assert assignment_purge_expired(now=after_expiry + timedelta(minutes=31)) == 2


def test_a_lease_whose_holder_submitted_elsewhere_does_not_count_twice():
    project = make_project(n_prompts=1, target_annotators=2)
    prompt = project.prompts.get()
    a = make_user("a")
    assert assignment_next(project=project, annotator=a) == prompt
    submit(prompt, a)  # e.g. through the API: the lease is still there
    assert assignment_next(project=project, annotator=make_user("b")) == prompt


def test_own_drafts_come_back_first():
    project = make_project(n_prompts=3)
    me = make_user("me")
    last = project.prompts.order_by("id").last()
    ranking_save(prompt=last, annotator=me, tiers=[[1]])
    assert assignment_next(project=project, annotator=me) == last


def test_claim_takes_a_free_slot_refuses_a_full_prompt_and_lets_owners_edit():
    project = make_project(n_prompts=1, target_annotators=1)
    prompt = project.prompts.get()
    a, b = make_user("a"), make_user("b")
    assignment_claim(prompt=prompt, annotator=a)
    assert Assignment.objects.filter(prompt=prompt, annotator=a).exists()
    with pytest.raises(PromptFull, match="already has all the rankings"):
        assignment_claim(prompt=prompt, annotator=b)
    submit(prompt, a)
    assignment_release(prompt=prompt, annotator=a)
    assignment_claim(prompt=prompt, annotator=a)  # editing needs no slot
    assert not Assignment.objects.filter(prompt=prompt, annotator=a).exists()


def test_a_candidate_filled_between_read_and_lock_is_passed_over(monkeypatch):
    project = make_project(n_prompts=2, target_annotators=1)
    p0, p1 = project.prompts.order_by("id")
    rival, me = make_user("rival"), make_user("me")
    real = assignments._candidates
    calls = []

    def read_then_rival_leases(queryset, order=None):
        found = real(queryset, order)
        calls.append([p.pk for p in found])
        if len(calls) == 1:  # the rival's lease lands after our read, before our lock
            assignment_claim(prompt=p0, annotator=rival)
        return found

    monkeypatch.setattr(assignments, "_candidates", read_then_rival_leases)
    assert assignment_next(project=project, annotator=me) == p1
    assert calls[0] == [p0.pk, p1.pk]
    assert not Assignment.objects.filter(prompt=p0, annotator=me).exists()


def test_a_stale_pool_never_hands_out_a_full_prompt_and_falls_back_to_the_project():
    project = make_project(n_prompts=3, target_annotators=1)
    p0, p1, p2 = project.prompts.order_by("id")
    assert assignment_next(project=project, annotator=make_user("a")) == p0  # pool cached: [p0, p1, p2]
    submit(p1, make_user("b"))  # fills p1 behind the cached pool's back
    assert assignment_next(project=project, annotator=make_user("c")) == p2
    for prompt in (p0, p2):
        submit(prompt, make_user(f"x{prompt.pk}"))
    late = make_user("late")
    assert assignment_next(project=project, annotator=late) is None
    p1.extra_annotators = 1  # a reviewer reopens p1: the pool was dropped when it came up empty
    p1.save()
    assert assignment_next(project=project, annotator=late) == p1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", ["default", "disagreement", "model_uncertainty", "random"])
def test_labelers_asking_at_the_same_time_never_exceed_the_target(order):
    """Eight threads with their own connections ask at once, under every queue order; SQLite's
    in-memory test database answers "locked" instead of waiting, so each retries like a web request would."""
    project = make_project(n_prompts=3, target_annotators=2, queue_order=order)
    users = [make_user(f"u{i}") for i in range(8)]
    got, errors = [], []
    barrier = threading.Barrier(len(users))

    def ask(user):
        from django.db import OperationalError, close_old_connections

        last = None
        try:
            barrier.wait()
            for _ in range(50):
                try:
                    prompt = assignment_next(project=project, annotator=user)
                    got.append(prompt.pk if prompt else None)
                    return
                except OperationalError as exc:  # "database is locked": try again like a web request would
                    last = exc
                    time.sleep(0.01)
            errors.append(f"gave up: {last}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=ask, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    handed = [pk for pk in got if pk is not None]
    assert len(handed) == 6 and got.count(None) == 2
    assert all(handed.count(pk) == 2 for pk in set(handed))
    assert Assignment.objects.count() == 6
