"""Where a training job's engine runs (GRPO_LAUNCHER; docs/scaling.md).

- ``local`` (default): a supervisor process on the worker's host, detached from the worker so that a
  restarted worker re-attaches to it (``launchers.local``, ``launchers.supervisor``).
- ``ray``: a Ray Job on the cluster at RAY_ADDRESS (``launchers.ray``).
- ``inprocess``: inside the worker process itself, the path before launchers existed; the unit tests
  use it with their fast fake engine, and it is handy under a debugger. The worker imports torch then.

``commands.job_run_spec`` turns a job into the engine command lines; ``training.launched`` follows the
run and writes its progress to the job row.
"""

from django.conf import settings

from .base import Launcher, LaunchError, RunHandle, RunSpec, RunState
from .local import LocalLauncher

LAUNCHERS = ("local", "ray", "inprocess")

__all__ = ["LAUNCHERS", "LaunchError", "Launcher", "RunHandle", "RunSpec", "RunState", "launcher_get"]


def launcher_get(name: str | None = None) -> Launcher | None:
    """The configured launcher; ``None`` for ``inprocess``. Raises ``LaunchError`` for an unknown name."""
    name = name or settings.GRPO_LAUNCHER
    if name == "local":
        return LocalLauncher(orphan_seconds=settings.GRPO_LOCAL_ORPHAN_SECONDS)
    if name == "ray":
        from .ray import RayLauncher  # ray is optional and heavy: loaded only where GRPO_LAUNCHER=ray

        return RayLauncher(settings.RAY_ADDRESS, runtime_env=settings.GRPO_RAY_RUNTIME_ENV,
                           python=settings.GRPO_RAY_PYTHON, working_dir=settings.BASE_DIR)
    if name == "inprocess":
        return None
    raise LaunchError(f"GRPO_LAUNCHER={name!r} is not one of {', '.join(LAUNCHERS)}")
