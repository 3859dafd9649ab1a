"""Worker memory across jobs with the local launcher (issue 22): the worker's RSS after each of N smoke jobs.

    python -m benchmarks.bench_worker_rss [--jobs 5] [--out docs/benchmarks/worker_memory.md]

This process plays the dramatiq worker: it runs ``training.runner.execute_job`` for N real tiny-model
jobs (base evaluation, training, tuned evaluation) with GRPO_LAUNCHER=local, so the engine runs in a
child process each time. Target: RSS after the last job within 10% of RSS after the first, and torch
never imported by the worker. Uses its own SQLite database and data directory.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-rss-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['GRPO_DATA_DIR']}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # StubBroker: execute_job is called here
    os.environ["GRPO_LAUNCHER"] = "local"
    os.environ.setdefault("GRPO_LAUNCHER_POLL_SECONDS", "0.5")
    django.setup()

from django.core.management import call_command  # noqa: E402


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


LAUNCH = """
from ranking_app.exchange.imports import rankings_import
from ranking_app.projects.services import project_create
from training.engine.synthetic import vowel_ranked_records
from training.presets import presets, tiny_model_path
from training.engine import make_tiny_model
from training.services.jobs import job_launch

make_tiny_model(tiny_model_path())
project = project_create(name="Bench", slug="bench", target_annotators=1)
rankings_import(project=project, records=vowel_ranked_records(24, 4, test_fraction=0.25), source="import")
config = {**presets()["cpu-smoke"]["config"], "num_train_epochs": 1.0, "save_steps": 10_000}
print("JOBS=" + ",".join(str(job_launch(project=project, config={**config, "seed": n}, validated_only=False).pk)
                         for n in range(N_JOBS)))
"""


def launch_jobs(n_jobs: int) -> list[int]:
    """The jobs, launched as the web process would (in a separate process: launching reads the export
    with the engine's data module, which imports torch, and this process plays the worker)."""
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", LAUNCH.replace("N_JOBS", str(n_jobs))],
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("JOBS="))
    return [int(pk) for pk in line[5:].split(",")]


def run_jobs(n_jobs: int) -> list[float]:
    from training.models import TrainingJob
    from training.runner import execute_job

    call_command("migrate", verbosity=0)
    after = []
    for n, job_id in enumerate(launch_jobs(n_jobs)):
        outcome = execute_job(job_id)
        assert outcome == "succeeded", TrainingJob.objects.get(pk=job_id).error
        after.append(rss_mb())
        print(f"job {n + 1}: RSS {after[-1]:.1f} MB, torch imported: {'torch' in sys.modules}", flush=True)
    return after


def report(after: list[float]) -> str:
    change = (after[-1] - after[0]) / after[0] * 100
    rows = "\n".join(f"| {n} | {value:.1f} |" for n, value in enumerate(after, 1))
    return f"""# Worker memory across jobs (local launcher)

`python -m benchmarks.bench_worker_rss --jobs {len(after)}` on {platform.node()} ({os.cpu_count()} CPUs, Python
{platform.python_version()}): this process plays the dramatiq worker and runs {len(after)} real tiny-model smoke jobs
(base evaluation, 1 epoch of training, tuned evaluation) through `execute_job` with `GRPO_LAUNCHER=local`;
each job's engine is a child process. torch imported by the worker: {'yes' if 'torch' in sys.modules else 'no'}.

| after job | worker RSS (MB) |
| ---: | ---: |
{rows}

RSS after job {len(after)} is {change:+.1f}% of RSS after job 1 (target: within 10%). The worker only
holds Django, the launcher and the job's rows; the model, optimizer and data live and die in the child.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    text = report(run_jobs(args.jobs))
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
