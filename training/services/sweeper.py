"""The queue sweeper: work the database says is queued but whose message is gone gets it sent again.

A message can be lost between the database and the worker: Redis restarted without persistence, or
flushed, or the send failed after the row was committed. The row then stays ``queued`` forever. Every
``GRPO_SWEEP_SECONDS`` each worker (``training/worker_middleware.py``; by hand: ``manage.py
sweep_queue``) compares the rows queued for longer than ``GRPO_SWEEP_GRACE_SECONDS`` with the messages
still in the broker (waiting, delayed, or taken by a worker and not yet acknowledged) and sends one
for each row that has none. A duplicate is harmless: every kind of work is claimed by one conditional
UPDATE, so a second message finds the row no longer queued and does nothing.

The same sweep queues again the jobs whose worker died while their launched run goes on
(``services.reattach``): a restarted worker re-attaches to the run without anyone pressing Resume.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from ..compare.tasks import run_evaluation_request
from ..models import AdapterMerge, EvaluationRequest, TrainingJob
from ..tasks import merge_job_adapter, run_training_job
from ..work.models import BackgroundRun, RunStatus
from .reattach import cancelled_runs_stop, live_runs_requeue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedKind:
    """One kind of background work: the actor that runs it and the ``BackgroundRun`` model it claims."""

    actor: dramatiq.Actor
    model: type[BackgroundRun]

    def queued_before(self, cutoff) -> Iterable[int]:
        """Ids queued since before ``cutoff`` (every transition sets ``updated_at``: queued since)."""
        return self.model.objects.filter(status=RunStatus.QUEUED, updated_at__lt=cutoff).values_list("pk", flat=True)


KINDS = (
    QueuedKind(run_training_job, TrainingJob),  # training, generation and judging jobs
    QueuedKind(merge_job_adapter, AdapterMerge),
    QueuedKind(run_evaluation_request, EvaluationRequest),
)


def queued_work_sweep(*, now=None, grace_seconds: float | None = None) -> list[str]:
    """Send a message for each row queued longer than the grace time with none in the broker.

    Before that, jobs whose worker was lost while their launched run goes on are queued again (and sent)
    so that a worker re-attaches to the run, and the runs of jobs cancelled meanwhile are stopped
    (``services.reattach``). Returns what was sent, as
    ``actor(id)`` strings (also logged).
    """
    cancelled_runs_stop()
    sent = [f"{run_training_job.actor_name}({pk})" for pk in live_runs_requeue()]
    grace = settings.GRPO_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    for kind in KINDS:
        waiting = messages_in_broker(kind.actor.broker, kind.actor.queue_name)
        for pk in kind.queued_before(cutoff):
            if (kind.actor.actor_name, (pk,)) not in waiting:
                kind.actor.send(pk)
                sent.append(f"{kind.actor.actor_name}({pk})")
    if sent:
        logger.warning("queue sweep: sent again %s (queued with no message in the broker)", ", ".join(sent))
    return sent


def messages_in_broker(broker: dramatiq.Broker, queue_name: str) -> set[tuple[str, tuple]]:
    """``(actor name, args)`` of every message of ``queue_name`` the broker still holds: waiting, delayed,
    or delivered and not yet acknowledged (Redis keeps a message's body until its ack)."""
    return {(message.actor_name, tuple(message.args)) for message in map(dramatiq.Message.decode, _bodies(broker, queue_name))}


def _bodies(broker: dramatiq.Broker, queue_name: str) -> list[bytes]:
    if isinstance(broker, RedisBroker):
        names = [f"{broker.namespace}:{name}.msgs" for name in (queue_name, dq_name(queue_name))]
        return [body for name in names for body in broker.client.hvals(name)]
    if isinstance(broker, StubBroker):  # tests: waiting and delayed messages (a taken one is not visible)
        queues = [broker.queues.get(name) for name in (queue_name, dq_name(queue_name))]
        return [body for queue in queues if queue is not None for body in list(queue.queue)]
    raise TypeError(f"the queue sweeper cannot read a {type(broker).__name__}")
