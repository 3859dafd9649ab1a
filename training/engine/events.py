"""Machine-readable progress on stdout for a launcher (``--events``) and a graceful stop on SIGTERM.

A launched run (training/launchers) reads the engine's stdout, locally from a file or from Ray's job
log, so progress travels as ordinary log lines: ``@grpo {"phase": "train", "step": 3, ...}``. Every
other line is plain log text. SIGTERM (a cancel from the launcher, Ray's ``stop_job``) or SIGINT sets
a flag that training reads after each optimizer step: it saves a checkpoint and stops.
"""

from __future__ import annotations

import json
import math
import signal
import sys

PREFIX = "@grpo "
CANCELLED_EXIT = 3  # ``train`` stopped on request after saving a checkpoint


def emit(event: dict) -> None:
    """Print ``event`` as one ``@grpo`` line (flushed: the reader may be another machine's log)."""
    sys.stdout.write(PREFIX + json.dumps(finite(event), default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


def parse(line: str) -> dict | None:
    """The event on ``line``, or ``None`` for a plain log line (or a cut-short event line)."""
    if not line.startswith(PREFIX):
        return None
    try:
        event = json.loads(line[len(PREFIX):])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def finite(value):
    """``value`` with NaN and infinite floats replaced by None, in nested dicts and lists (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


class StopOnSignal:
    """Callable ``should_stop`` that turns true once SIGTERM or SIGINT arrived."""

    def __init__(self):
        self.requested = False
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._handle)

    def _handle(self, number, frame) -> None:
        if not self.requested:
            print(f"received {signal.Signals(number).name}: stopping after this step with a checkpoint", flush=True)
        self.requested = True

    def __call__(self) -> bool:
        return self.requested
