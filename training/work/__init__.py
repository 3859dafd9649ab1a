"""The background-work kernel: what every kind of work a worker runs shares.

Training, generation and judging jobs (``TrainingJob``), evaluation requests (``EvaluationRequest``)
and merged-model builds (``AdapterMerge``) are each a ``BackgroundRun`` (``training/work/models.py``):
the same states, the same conditional-UPDATE transitions (``training/work/transitions.py``: claim,
heartbeat, finish, cancel, requeue, interrupted), the same heartbeat thread
(``training/work/heartbeat.py``), the same enqueue-on-commit, and ``allowed_actions()``, which the
pages render their buttons from. One rule decides "interrupted": a running row whose heartbeat is older
than ``TRAINING_STALE_SECONDS`` (``BackgroundRun.stale`` / ``is_stale``).

The kernel imports only Django and dramatiq's public API; the kinds import it, never the reverse.
"""
