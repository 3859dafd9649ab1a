"""The process that runs a ``local`` launcher's steps, detached from the worker that started it.

``python -m training.launchers.supervisor JOB_DIR/engine.run.json`` runs the steps listed there one after
the other (each only if the one before exited 0), their output going to its own stdout (the job's
``engine.out``), and writes ``engine.exit`` (``{"code", "step", "orphaned"}``) when it ends. It runs in
its own session, so a SIGKILLed worker (or its whole process group) leaves it running, and the next
worker re-attaches to it by its pid and these files instead of training again.

It stays safe without a worker: each worker following the run touches ``engine.lease`` at every poll.
When nobody has touched it for ``orphan_seconds`` the run is stopped as a cancel is (SIGTERM: training
saves a checkpoint first), so a worker that never comes back leaves an interrupted job that resumes from
its checkpoint, not an orphan training forever. SIGTERM to this process stops the current step the same
way; a step gets SIGTERM too if this process itself dies (PR_SET_PDEATHSIG). No Django, no torch.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


class Supervisor:
    def __init__(self, run_file: Path):
        spec = json.loads(run_file.read_text())
        self.steps, self.orphan_seconds = spec["steps"], float(spec["orphan_seconds"])
        self.exit_file, self.lease_file = Path(spec["exit_file"]), Path(spec["lease_file"])
        self.child: subprocess.Popen | None = None
        self.stopping = self.orphaned = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        code, done = 0, 0
        for command in self.steps:
            if self.stopping:
                break
            code = self._run_step(command)
            if code != 0:
                break
            done += 1
        _write_json(self.exit_file, {"code": code, "step": done, "orphaned": self.orphaned})
        return code

    def _run_step(self, command: list[str]) -> int:
        print(f"$ {' '.join(command)}", flush=True)
        self.child = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        while True:
            try:
                return self.child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._check_lease()

    def _check_lease(self) -> None:
        try:
            idle = time.time() - self.lease_file.stat().st_mtime
        except OSError:
            idle = float("inf")
        if idle > self.orphan_seconds and not self.stopping:
            print(f"no worker has followed this run for {idle:.0f} s (orphan limit {self.orphan_seconds:.0f} s): "
                  "stopping it; the job resumes from its last checkpoint", flush=True)
            self.orphaned = True
            self._stop()

    def _stop(self, *_args) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)


def _write_json(path: Path, value: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value))
    partial.replace(path)  # atomic: a reader sees the whole file or none


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(Supervisor(Path(sys.argv[1])).run())
