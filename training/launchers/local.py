"""``local`` launcher: the engine runs on this host in a supervisor process started by the worker.

The worker never imports torch, so its memory stays flat across jobs. The supervisor
(``launchers.supervisor``) runs the job's steps in its own session with their output in ``engine.out``
in the job's folder, which the worker reads for progress events and log lines, and records how it
ended in ``engine.exit``. A SIGKILLed worker (or its whole process group) therefore leaves the run
going; the next worker on this host re-attaches to it by the pid in ``launch_ref`` (``host:pid``) and
these files, or collects its result if it finished meanwhile. A run no worker follows for
``GRPO_LOCAL_ORPHAN_SECONDS`` stops itself with a checkpoint (see the supervisor's doc).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .base import LineBuffer, RunSpec, RunState

CANCELLED_EXIT = 3  # training.engine.events.CANCELLED_EXIT (not imported: the worker stays torch-free)
OUTPUT_FILE, RUN_FILE, EXIT_FILE, LEASE_FILE = "engine.out", "engine.run.json", "engine.exit", "engine.lease"
SUPERVISOR = "training.launchers.supervisor"


class LocalLauncher:
    name = "local"

    def __init__(self, orphan_seconds: float = 600):
        self.python = sys.executable
        self.orphan_seconds = orphan_seconds

    def submit(self, spec: RunSpec) -> LocalRun:
        folder = spec.work_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / EXIT_FILE).unlink(missing_ok=True)
        (folder / LEASE_FILE).touch()
        output = folder / OUTPUT_FILE
        offset = output.stat().st_size if output.exists() else 0
        (folder / RUN_FILE).write_text(json.dumps({
            "name": spec.name, "steps": spec.steps, "offset": offset, "orphan_seconds": self.orphan_seconds,
            "exit_file": str(folder / EXIT_FILE), "lease_file": str(folder / LEASE_FILE)}))  # fmt: skip
        with open(output, "ab") as out:
            process = subprocess.Popen(
                [self.python, "-m", SUPERVISOR, str(folder / RUN_FILE)], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env={**os.environ, **spec.env}, start_new_session=True,
            )  # fmt: skip
        return LocalRun(folder, process.pid, offset, process=process)

    def attach(self, ref: str, work_dir: Path) -> LocalRun | None:
        """The run ``ref`` if it is still running or finished successfully, else ``None`` (start again).

        Only the host that started a run can see it: on another host this is ``None`` too."""
        pid = ref.rpartition(":")[2]
        if not self.sees(ref) or not pid.isdigit() or not (work_dir / RUN_FILE).is_file():
            return None
        offset = json.loads((work_dir / RUN_FILE).read_text()).get("offset", 0)
        run = LocalRun(work_dir, int(pid), offset)
        return run if run.state() in (RunState.RUNNING, RunState.SUCCEEDED) else None

    def sees(self, ref: str) -> bool:
        return ref.rpartition(":")[0] == socket.gethostname()


class LocalRun:
    def __init__(self, folder: Path, pid: int, offset: int, process: subprocess.Popen | None = None):
        self.folder, self.pid, self.offset = folder, pid, offset
        self.process = process  # set in the worker that started it (it reaps the exit status)
        self.ref = f"{socket.gethostname()}:{pid}"
        self.lines = LineBuffer()
        self.stopping = False
        self.ended: dict | None = None

    def new_lines(self) -> list[str]:
        with open(self.folder / OUTPUT_FILE, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        lines = self.lines.feed(data.decode("utf-8", errors="replace"))
        return lines + (self.lines.flush() if self.ended is not None else [])

    def state(self) -> RunState:
        if self.ended is None:  # the exit file first: it is written just before the supervisor exits
            self.ended = _read_exit(self.folder / EXIT_FILE, wait=not self._alive())
            if self.ended is not None and self.process is not None:
                _reap(self.process)
        if self.ended is None:
            (self.folder / LEASE_FILE).touch()  # this run is followed: the supervisor keeps it going
            return RunState.RUNNING
        code = self.ended["code"]
        if code == 0:
            return RunState.SUCCEEDED
        return RunState.STOPPED if self.stopping or code == CANCELLED_EXIT else RunState.FAILED

    def _alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _is_supervisor(self.pid, self.folder)

    def stop(self) -> None:
        self.stopping = True
        if self._alive():
            os.kill(self.pid, signal.SIGTERM)

    def failure(self) -> str:
        ended = self.ended or {}
        if ended.get("gone"):
            return f"the run's supervisor process {self.pid} is gone without recording an exit status (killed?)"
        if ended.get("orphaned"):
            return "no worker followed the run for GRPO_LOCAL_ORPHAN_SECONDS, so it stopped itself (checkpoint saved)"
        return f"step {ended.get('step', 0) + 1} exited with status {ended.get('code')}"


def _read_exit(path: Path, *, wait: bool) -> dict | None:
    """How the run ended, ``None`` while it runs. A supervisor gone without its exit file was killed
    (counts as failed); ``wait``: it is gone, so give a racing write of the file a moment."""
    for _ in range(10 if wait else 1):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            if wait:
                time.sleep(0.05)
    return {"code": -1, "gone": True} if wait else None


def _reap(process: subprocess.Popen) -> None:
    """Wait for the supervisor this worker started, which exits right after writing its exit file."""
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass  # still shutting down; the exit file already says how the run ended


def _is_supervisor(pid: int, folder: Path) -> bool:
    """Whether ``pid`` is a live (not zombie) supervisor of this folder's run (a reused pid is not)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and SUPERVISOR.encode() in command and str(folder / RUN_FILE).encode() in command
