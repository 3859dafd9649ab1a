"""``local`` launcher: the engine runs as a child process of the worker, one step after the other.

The worker never imports torch, so its memory stays flat across jobs. The child's stdout and stderr go
to ``engine.out`` in the job's folder, which the worker reads for progress events and log lines. A
child is asked (PR_SET_PDEATHSIG) to get SIGTERM when its worker dies: it saves a checkpoint and
exits, so a killed worker leaves an interrupted job that resumes where it stopped, not an orphan.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .base import LineBuffer, RunSpec, RunState

CANCELLED_EXIT = 3  # training.engine.events.CANCELLED_EXIT (not imported: the worker stays torch-free)
OUTPUT_FILE = "engine.out"
PR_SET_PDEATHSIG = 1


class LocalLauncher:
    name = "local"

    def __init__(self):
        self.python = sys.executable

    def submit(self, spec: RunSpec) -> LocalRun:
        return LocalRun(spec)

    def attach(self, ref: str, work_dir: Path) -> None:
        """A local run never outlives its worker (see the module doc); one still exiting is waited for."""
        host, _, pid = ref.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            _terminate(int(pid))
        return None


class LocalRun:
    def __init__(self, spec: RunSpec):
        self.spec = spec
        self.path = spec.work_dir / OUTPUT_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        self.lines = LineBuffer()
        self.step = -1
        self.process: subprocess.Popen | None = None
        self.stopping = False
        self.exit_code: int | None = None
        self._start_next()

    @property
    def ref(self) -> str:
        return f"{socket.gethostname()}:{self.process.pid}"

    def _start_next(self) -> None:
        self.step += 1
        with open(self.path, "ab") as out:
            out.write(f"$ {' '.join(self.spec.steps[self.step])}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.spec.steps[self.step], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.spec.env}, preexec_fn=_die_with_parent,
            )  # fmt: skip

    def new_lines(self) -> list[str]:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        lines = self.lines.feed(data.decode("utf-8", errors="replace"))
        return lines + (self.lines.flush() if self.exit_code is not None else [])

    def state(self) -> RunState:
        code = self.process.poll()
        if code is None:
            return RunState.RUNNING
        if code == 0 and not self.stopping and self.step + 1 < len(self.spec.steps):
            self._start_next()
            return RunState.RUNNING
        self.exit_code = code
        if code == 0:
            return RunState.SUCCEEDED
        return RunState.STOPPED if self.stopping or code == CANCELLED_EXIT else RunState.FAILED

    def stop(self) -> None:
        self.stopping = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def failure(self) -> str:
        return f"step {self.step + 1} of {len(self.spec.steps)} exited with status {self.exit_code}"


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _terminate(pid: int, timeout: float = 60) -> None:
    """SIGTERM a leftover engine process of this job (if it is one) and wait until it is gone."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if b"training.engine" not in command:
        return  # the pid was reused by something else
    os.kill(pid, signal.SIGTERM)
    _wait_gone(pid, timeout)


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
