"""``ray`` launcher: each job attempt is a Ray Job on the cluster at ``RAY_ADDRESS`` (its job server, the
dashboard URL such as http://head:8265).

The worker only submits and polls through ``JobSubmissionClient``: status, logs and stop all go
through it, so the worker needs no GPU and no torch. The Ray job id is stored on the job
(``launch_ref``); a restarted worker re-attaches to it instead of training again. ``runtime_env``
ships this repository as the working dir (the engine package) and the storage variables; set
``GRPO_RAY_RUNTIME_ENV`` (JSON) to add to it, e.g. ``{"pip": ["torch==2.13.0", "peft>=0.15,<1", ...]}``
(the engine's lines of requirements/base.txt) on a cluster whose image lacks them.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from .base import LaunchError, LineBuffer, RunSpec, RunState

try:
    from ray.job_submission import JobStatus, JobSubmissionClient
except ImportError:  # ray is optional on a host that only uses the local launcher
    JobStatus = JobSubmissionClient = None

STATES = {"PENDING": RunState.RUNNING, "RUNNING": RunState.RUNNING, "SUCCEEDED": RunState.SUCCEEDED,
          "STOPPED": RunState.STOPPED, "FAILED": RunState.FAILED}  # fmt: skip
EXCLUDES = [".git", ".venv", "var", "node_modules", "*.sqlite3", "__pycache__", "static", "templates", "tests",
            "docs", "data"]  # fmt: skip


class RayLauncher:
    name = "ray"

    def __init__(self, address: str, *, runtime_env: dict | None = None, python: str = "python",
                 working_dir: Path | None = None):
        if JobSubmissionClient is None:
            raise LaunchError("GRPO_LAUNCHER=ray needs the ray package: pip install -r requirements/scale.txt")
        try:
            self.client = JobSubmissionClient(address)
        except Exception as exc:  # noqa: BLE001 - connection refused, bad URL, version mismatch
            raise LaunchError(f"cannot reach the Ray job server at RAY_ADDRESS={address}: {exc}") from exc
        self.python = python
        self.runtime_env = {"working_dir": str(working_dir), "excludes": EXCLUDES} if working_dir else {}
        self.runtime_env.update(runtime_env or {})

    def submit(self, spec: RunSpec) -> RayRun:
        env_vars = {**self.runtime_env.get("env_vars", {}), **spec.env}
        job_id = self.client.submit_job(
            entrypoint=spec.command_line(), submission_id=f"{spec.name}-{uuid.uuid4().hex[:8]}",
            runtime_env={**self.runtime_env, "env_vars": env_vars}, entrypoint_num_cpus=spec.num_cpus,
            entrypoint_num_gpus=spec.num_gpus or None, metadata={"grpo_run": spec.name},
        )  # fmt: skip
        return RayRun(self.client, job_id)

    def attach(self, ref: str, work_dir: Path) -> RayRun | None:
        """The Ray job ``ref`` unless it failed or was stopped (then the job starts again from its checkpoint)."""
        try:
            status = self.client.get_job_status(ref)
        except RuntimeError:  # unknown to this cluster (a new head, or deleted)
            return None
        return RayRun(self.client, ref) if STATES[getattr(status, "value", status)] in (RunState.RUNNING, RunState.SUCCEEDED) else None

    def sees(self, ref: str) -> bool:
        return True  # every worker reaches the same cluster


class RayRun:
    def __init__(self, client, job_id: str):
        self.client, self.ref = client, job_id
        self.offset = 0
        self.lines = LineBuffer()
        self.finished = False

    def new_lines(self) -> list[str]:
        logs = self.client.get_job_logs(self.ref)  # the whole log each time; the part after offset is new
        text, self.offset = logs[self.offset:], len(logs)
        return self.lines.feed(text) + (self.lines.flush() if self.finished else [])

    def state(self) -> RunState:
        state = STATES[getattr(status := self.client.get_job_status(self.ref), "value", status)]
        self.finished = state != RunState.RUNNING
        return state

    def stop(self) -> None:
        self.client.stop_job(self.ref)

    def failure(self) -> str:
        info = self.client.get_job_info(self.ref)
        return f"Ray job {self.ref} {info.status}: {(info.message or '').strip()[:500]}"
