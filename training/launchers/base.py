"""What every launcher offers: run a ``RunSpec`` (the engine command lines of one job attempt), read its
output lines, tell its state, stop it; and find a run again from the ``launch_ref`` stored on the job."""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class LaunchError(RuntimeError):
    """The launcher could not start or reach a run (cluster unreachable, bad settings)."""


class RunState(enum.StrEnum):
    RUNNING = "running"  # queued on the cluster, or executing
    SUCCEEDED = "succeeded"  # every step exited 0
    STOPPED = "stopped"  # stopped on request (a cancel)
    FAILED = "failed"  # a step exited non-zero, or the cluster lost it


@dataclass
class RunSpec:
    """One attempt of a job: ``steps`` run one after the other, each only if the one before succeeded."""

    name: str  # a readable id prefix, e.g. "grpo-job-12-attempt-2"
    steps: list[list[str]]
    work_dir: Path  # this host's folder of the job (the local launcher's output file lives here)
    env: dict[str, str] = field(default_factory=dict)
    num_cpus: float = 1
    num_gpus: float = 0

    def command_line(self) -> str:
        """The steps as one shell line (what a person can paste to run the same thing)."""
        return " && ".join(shlex.join(step) for step in self.steps)


class RunHandle(Protocol):
    ref: str  # what the job page shows and a restarted worker re-attaches with

    def new_lines(self) -> list[str]:
        """Complete output lines written since the last call."""

    def state(self) -> RunState: ...

    def stop(self) -> None:
        """Ask the run to stop (SIGTERM: training saves a checkpoint first)."""

    def failure(self) -> str:
        """Why a failed run failed, as the launcher knows it (exit status, cluster message)."""


class Launcher(Protocol):
    name: str
    python: str  # the interpreter the steps start with on the machine that runs them

    def submit(self, spec: RunSpec) -> RunHandle: ...

    def attach(self, ref: str, work_dir: Path) -> RunHandle | None:
        """The run ``ref`` if it is still running or finished successfully, else ``None`` (start again)."""

    def sees(self, ref: str) -> bool:
        """Whether this process can tell the state of run ``ref`` (a local run only from its own host)."""


class LineBuffer:
    """Splits text arriving in pieces into complete lines (a partial last line waits for its end)."""

    def __init__(self):
        self.partial = ""

    def feed(self, text: str) -> list[str]:
        text = self.partial + text
        *lines, self.partial = text.split("\n")
        return lines

    def flush(self) -> list[str]:
        rest, self.partial = self.partial, ""
        return [rest] if rest else []
