"""The background-work kernel (training/work/): every kind of run goes through the same transitions.

Each test runs on every kind: training, generation and judging jobs, evaluation requests and merged-model
builds. A transition is a conditional UPDATE, so the second of two racing actors loses; a stale heartbeat
reads as interrupted (one rule) and the reaper stores it; the actions a page offers follow the state.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from ranking_app.exchange.exports import export_create
from tests.conftest import make_project
from training.models import AdapterMerge, EvaluationRequest, TrainingJob
from training.work.heartbeat import Heartbeat
from training.work.models import BackgroundRun, RunStatus
from training.work.transitions import (
    run_cancel,
    run_claim,
    run_finish,
    run_heartbeat,
    run_models,
    run_requeue,
    run_send,
    run_stop_point,
    runs_reap,
)

KINDS = ("train", "generate", "judge", "evaluation", "merge")
LONG_AGO = timedelta(hours=1)


def _job(project, export, kind="train", **fields) -> TrainingJob:
    return TrainingJob.objects.create(project=project, export=export if kind == "train" else None, kind=kind,
                                      base_model="m", config={}, **fields)  # fmt: skip


@pytest.fixture
def project_export(db):
    project = make_project("work", n_prompts=2)
    return project, export_create(project=project, format="jsonl", validated_only=False)


@pytest.fixture(params=KINDS)
def run(request, project_export) -> BackgroundRun:
    """A queued run of each kind."""
    project, export = project_export
    if request.param in TrainingJob.Kind.values:
        return _job(project, export, kind=request.param)
    trained = _job(project, export, status=RunStatus.SUCCEEDED)
    if request.param == "evaluation":
        return EvaluationRequest.objects.create(job=trained, project=project, split="test")
    return AdapterMerge.objects.create(job=trained)


def _row(run: BackgroundRun) -> BackgroundRun:
    return type(run).objects.get(pk=run.pk)


def _running(run: BackgroundRun, worker="w1") -> BackgroundRun:
    assert run_claim(type(run), run.pk, worker)
    return _row(run)


def test_every_kind_is_a_background_run():
    assert set(run_models()) == {TrainingJob, EvaluationRequest, AdapterMerge}


def test_one_claim_wins_and_owns_the_run(run):
    model = type(run)
    assert run_claim(model, run.pk, "w1")
    assert not run_claim(model, run.pk, "w2")  # a second delivery of the message
    claimed = _row(run)
    assert (claimed.status, claimed.worker_id) == (RunStatus.RUNNING, "w1")
    assert claimed.heartbeat_at is not None and claimed.started_at is not None and claimed.is_active


def test_only_the_owner_records_the_outcome_once(run):
    model = type(run)
    _running(run)
    assert not run_finish(model, run.pk, "w2", RunStatus.SUCCEEDED)
    assert run_finish(model, run.pk, "w1", RunStatus.FAILED, error="boom")
    assert not run_finish(model, run.pk, "w1", RunStatus.SUCCEEDED)
    done = _row(run)
    assert (done.status, done.error) == (RunStatus.FAILED, "boom") and done.finished_at is not None
    assert not done.is_active


def test_heartbeats_come_from_the_owner_only(run):
    model = type(run)
    before = _running(run).heartbeat_at
    time.sleep(0.01)
    assert run_heartbeat(model, run.pk, "w1") and _row(run).heartbeat_at > before
    assert not run_heartbeat(model, run.pk, "w2")
    run_finish(model, run.pk, "w1", RunStatus.SUCCEEDED)
    assert not run_heartbeat(model, run.pk, "w1")  # finished: the worker learns it lost the run


def test_cancel_stops_a_queued_run_and_asks_a_running_one(run, project_export):
    model = type(run)
    assert run_cancel(model, run.pk) == "cancelled"
    assert _row(run).status == RunStatus.CANCELLED and _row(run).finished_at is not None
    assert run_cancel(model, run.pk) == ""  # nothing left to cancel
    assert run_requeue(model, run.pk)
    _running(run)
    assert run_cancel(model, run.pk) == "asked"
    asked = _row(run)
    assert asked.status == RunStatus.RUNNING and asked.cancel_requested


def test_a_stale_heartbeat_reads_as_interrupted_and_the_reaper_stores_it(run):
    model = type(run)
    _running(run)
    model.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    stale = _row(run)
    assert stale.shown_status() == RunStatus.INTERRUPTED and not stale.is_active
    assert stale.allowed_actions() == model.ACTIONS[RunStatus.INTERRUPTED]
    assert stale.status == RunStatus.RUNNING  # reading wrote nothing
    assert model.objects.annotate(shown=model.shown_status_case()).get(pk=run.pk).shown == RunStatus.INTERRUPTED

    assert runs_reap()[model.__name__] == 1
    reaped = _row(run)
    assert reaped.status == RunStatus.INTERRUPTED and "heartbeats" in reaped.error and reaped.finished_at
    assert not run_finish(model, run.pk, "w1", RunStatus.SUCCEEDED)  # the lost worker comes back too late
    assert runs_reap()[model.__name__] == 0


def test_a_fresh_heartbeat_is_left_running(run):
    model = type(run)
    _running(run)
    assert runs_reap()[model.__name__] == 0 and _row(run).status == RunStatus.RUNNING


def test_requeue_clears_the_last_attempt_and_refuses_a_live_run(run):
    model = type(run)
    _running(run)
    assert not run_requeue(model, run.pk)  # running: not an ended run
    run_finish(model, run.pk, "w1", RunStatus.FAILED, error="boom", error_detail="Traceback")
    assert run_requeue(model, run.pk)
    again = _row(run)
    assert (again.status, again.worker_id, again.error, again.error_detail) == (RunStatus.QUEUED, "", "", "")
    assert again.heartbeat_at is None and again.finished_at is None and not again.cancel_requested


class _Actor:
    def __init__(self, error=None):
        self.error, self.sent = error, []

    def send(self, pk):
        if self.error:
            raise self.error
        self.sent.append(pk)


def test_an_unreachable_broker_fails_the_queued_run_saying_why(run):
    model = type(run)
    assert run_send(model, _Actor(), run.pk, "queue down ({error})") is None
    failure = run_send(model, _Actor(ConnectionError("refused")), run.pk, "queue down ({error})")
    assert isinstance(failure, ConnectionError)
    failed = _row(run)
    assert failed.status == RunStatus.FAILED and failed.error == "queue down (ConnectionError: refused)"


# what a page offers in each state, per kind (a succeeded job also offers its merged model)
ACTIONS = {
    "job": {"queued": ("cancel", "resend"), "running": ("cancel",), "interrupted": ("cancel", "resume"),
            "cancelled": ("resume",), "failed": ("resume",), "succeeded": ("merge",)},
    "evaluation": {"queued": ("cancel",), "running": ("cancel",), "interrupted": ("requeue",),
                   "cancelled": ("requeue",), "failed": ("requeue",), "succeeded": ("requeue",)},
    "merge": {"queued": ("cancel",), "running": ("cancel",), "interrupted": ("requeue",), "cancelled": ("requeue",),
              "failed": ("requeue",), "succeeded": ()},
}  # fmt: skip


@pytest.mark.parametrize("status", RunStatus.values)
def test_allowed_actions_follow_the_state(run, status):
    type(run).objects.filter(pk=run.pk).update(status=status, heartbeat_at=timezone.now())
    table = "job" if isinstance(run, TrainingJob) else "evaluation" if isinstance(run, EvaluationRequest) else "merge"
    assert _row(run).allowed_actions() == ACTIONS[table][status]


def test_a_job_offers_its_merged_model_until_a_build_is_asked_or_built(project_export):
    project, export = project_export
    job = _job(project, export, status=RunStatus.SUCCEEDED)
    merge = AdapterMerge.objects.create(job=job)
    assert "merge" not in TrainingJob.objects.get(pk=job.pk).allowed_actions()  # queued
    for status, offered in ((RunStatus.FAILED, True), (RunStatus.SUCCEEDED, False)):
        AdapterMerge.objects.filter(pk=merge.pk).update(status=status)
        assert ("merge" in TrainingJob.objects.get(pk=job.pk).allowed_actions()) is offered


def test_a_job_stop_clears_its_phase(project_export):
    project, export = project_export
    job = _job(project, export)
    assert run_claim(TrainingJob, job.pk, "w1", phase="starting")
    run_finish(TrainingJob, job.pk, "w1", RunStatus.CANCELLED)
    assert TrainingJob.objects.get(pk=job.pk).phase == ""


def test_the_heartbeat_keeps_a_run_alive_and_notices_a_cancel_and_a_takeover(run):
    model = type(run)
    running = _running(run)
    model.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - LONG_AGO, cancel_requested=True)
    beat = Heartbeat(running)
    beat.beat()
    assert not _row(run).is_stale() and beat.cancel_requested and not beat.lost
    model.objects.filter(pk=run.pk).update(worker_id="w2")  # resumed elsewhere
    beat.beat()
    assert beat.lost


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_the_work_runs(settings):
    project = make_project("beat", n_prompts=2)
    job = _job(project, None, kind="generate")
    running = _running(job)
    TrainingJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    with Heartbeat(running, interval=0.05):
        deadline = time.monotonic() + 5
        while _row(job).is_stale() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not _row(job).is_stale()


def test_a_stop_asked_of_a_running_run_is_raised_at_its_next_step_boundary(run):
    from training.work.transitions import RunCancelled

    model = type(run)
    assert run_claim(model, run.pk, "w1")
    run_stop_point(model, run.pk)  # nothing asked: carries on
    assert run_cancel(model, run.pk) == "asked" and _row(run).status == RunStatus.RUNNING
    with pytest.raises(RunCancelled):
        run_stop_point(model, run.pk)
    assert run_finish(model, run.pk, "w1", RunStatus.CANCELLED)
    assert _row(run).allowed_actions() == ACTIONS["job" if isinstance(run, TrainingJob) else
                                                  "evaluation" if isinstance(run, EvaluationRequest) else "merge"]["cancelled"]
