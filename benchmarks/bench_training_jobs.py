"""Training-job machinery benchmark: what the job system adds to a training run.

    python -m benchmarks.bench_training_jobs [--prompts 48] [--epochs 3] [--repeat 2]

Trains the same tiny model on the same frozen export twice: straight through
``training.engine.run_training`` and as a job (``training.runner.execute_job``: claim, heartbeat and
progress thread, metric rows, log file). Evaluation is left out of both (no test split), so the
difference is the job system's own cost. Also times one reporter flush (heartbeat + progress +
metric upsert + cancel-flag read) on SQLite. Uses its own SQLite database and data directory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-jobs-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("GRPO_TRAINING_HEARTBEAT_SECONDS", "5")
    django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from ranking_app.services.exports import export_create, export_path
    from ranking_app.services.imports import rankings_import
    from ranking_app.services.projects import project_create
    from training.engine import RankedGRPOConfig, make_tiny_model, run_training
    from training.engine.synthetic import vowel_ranked_records
    from training.models import JobMetric, TrainingJob
    from training.presets import presets, tiny_model_path
    from training.runner import JobReporter, execute_job
    from training.services.jobs import current_worker_id, job_claim

    call_command("migrate", verbosity=0)
    make_tiny_model(tiny_model_path())
    project = project_create(name="Bench", slug="bench", target_annotators=1)
    rankings_import(project=project, records=vowel_ranked_records(args.prompts, 4, test_fraction=0.0), source="import")
    export = export_create(project=project, format="jsonl", validated_only=False)
    config = {**presets()["cpu-smoke"]["config"], "num_train_epochs": args.epochs, "save_steps": 10_000}

    direct, job_times, steps = [], [], 0
    for run in range(args.repeat):
        out = tempfile.mkdtemp(prefix="direct-", dir=settings.DATA_DIR)
        started = time.perf_counter()
        summary = run_training(RankedGRPOConfig(output_dir=out, data_path=str(export_path(export)), **config))
        direct.append(time.perf_counter() - started)
        steps = summary["global_step"]
        job = TrainingJob.objects.create(project=project, export=export, base_model=config["model_name_or_path"],
                                         config=config, data_summary={"test_prompts": 0}, work_dir=f"bench-{run}")
        started = time.perf_counter()
        assert execute_job(job.pk) == "succeeded"
        job_times.append(time.perf_counter() - started)
        assert JobMetric.objects.filter(job=job).count() == steps

    job = TrainingJob.objects.create(project=project, export=export, base_model="x", config=config)
    job = job_claim(job_id=job.pk, worker_id=current_worker_id())
    reporter = JobReporter(job)
    flushes = []
    for step in range(1, 201):
        reporter.event({"phase": "train", "step": step, "total_steps": 200, "epoch": step / 200, "loss": 0.5,
                        "reward_margin": 0.1, "pair_accuracy": 0.9, "learning_rate": 1e-4})
        started = time.perf_counter()
        reporter.flush()
        flushes.append(time.perf_counter() - started)

    d, j = statistics.median(direct), statistics.median(job_times)
    rows = [
        ("training steps per run", f"{steps}"),
        ("engine run_training, median wall-clock", f"{d:.2f} s"),
        ("same run as a job (execute_job), median", f"{j:.2f} s"),
        ("job system overhead", f"{j - d:+.2f} s ({100 * (j - d) / d:+.1f} %)"),
        ("one progress flush on SQLite (median of 200)", f"{1000 * statistics.median(flushes):.2f} ms"),
    ]
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {args.prompts} prompts x 4, repeat {args.repeat}")
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
