"""Training-job benchmark: the demo's CPU smoke job end to end, and what the job system adds to a run.

    python -m benchmarks.bench_training_jobs [--demo-only | --count-reads] [--prompts 48] [--epochs 3] [--repeat 2]

First the smoke job as a first-day user starts it (issue 23): ``seed_demo``, the tiny model that
``make run`` builds, ``job_launch`` with the "cpu-smoke" preset's defaults on the demo project, then
the job run in this process as the worker runs it (engine import, base evaluation, reference pass,
training with its KL checks, tuned evaluation). Prints the wall-clock, the time per phase (from the
job's log, 1 s resolution) and the held-out figures under sum_logp: base, tuned, the paired change
with its 95% bootstrap interval, and tuned against "longer is better".

``--count-reads``: how often one demo smoke job parses its export file and loads base-model weights: the
launch (``job_launch``), then every engine command line the local launcher would run for it, run in this
process one after the other with the parser and ``AutoModelForCausalLM.from_pretrained`` counted.

Then the job system's overhead: trains the same tiny model on the same frozen export twice: straight through
``training.engine.run_training`` and as a job (``training.runner.execute_job``: claim, heartbeat and
progress thread, metric rows, log file). Evaluation is left out of both (no test split), so the
difference is the job system's own cost. Also times one reporter flush (heartbeat + progress +
metric upsert + cancel-flag read) on SQLite. Uses its own SQLite database and data directory.
"""

from __future__ import annotations

import argparse
import datetime
import io
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
    parser.add_argument("--demo-only", action="store_true", help="only the demo smoke job")
    parser.add_argument("--count-reads", action="store_true", help="only count the demo job's export parses and model loads")
    args = parser.parse_args(argv)

    call_command("migrate", verbosity=0)
    if args.count_reads:
        return count_reads()
    demo_smoke_job()
    if not args.demo_only:
        job_overhead(args)


def demo_smoke_job() -> None:
    """Time the demo's cpu-smoke job from the launch form's defaults and print its held-out figures."""
    from unittest import mock

    from ranking_app.models import Project
    from training import runner
    from training.engine import make_tiny_model
    from training.models import EvaluationResult
    from training.presets import tiny_model_path
    from training.services import jobs

    call_command("seed_demo", "--no-real", stdout=io.StringIO())
    make_tiny_model(tiny_model_path())  # the default size, as `make run` builds it
    with mock.patch.object(jobs, "enqueue_on_commit", lambda job_id: None):  # this process is the worker
        job = jobs.job_launch(project=Project.objects.get(slug="demo"), config={}, preset="cpu-smoke")
    started = time.perf_counter()
    status = runner.execute_job(job.pk)
    wall = time.perf_counter() - started
    job.refresh_from_db()
    print(f"demo smoke job {job.pk}: {status} in {wall:.1f} s wall, {job.result.get('global_step')} steps, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("| phase | seconds |\n| --- | --- |")
    for phase, seconds in phase_seconds(job.work_path / "job.log"):
        print(f"| {phase} | {seconds} |")
    print(f"KL estimates (nats per completion): {[round(v, 2) for v in kl_values(job)]}, "
          f"threshold kl_warning {job.config.get('kl_warning')}")
    print(held_out_figures(job))
    verdict = EvaluationResult.objects.get(job=job, model="tuned").metrics.get("verdict")
    if verdict:  # the engine's own verdict, where the evaluation stores one (issue 19)
        print(f"engine verdict: {verdict}")


def count_reads() -> None:
    """Export parses and base-model loads of the demo smoke job: at launch, then per engine command line."""
    import importlib.util
    from collections import Counter
    from unittest import mock

    import transformers

    from ranking_app.models import Project
    from training.engine.cli import main as engine_main
    from training.engine.modeling import make_tiny_model
    from training.launchers.commands import job_run_spec
    from training.launchers.local import LocalLauncher
    from training.presets import tiny_model_path
    from training.services import jobs

    reader = importlib.import_module("training.engine.records" if importlib.util.find_spec("training.engine.records")
                                     else "training.engine.data")  # where the JSON/JSONL parser lives
    counts, parse, load = Counter(), reader._read_json_records, transformers.AutoModelForCausalLM.from_pretrained
    call_command("seed_demo", "--no-real", stdout=io.StringIO())
    make_tiny_model(tiny_model_path())
    with (mock.patch.object(reader, "_read_json_records", lambda *a: counts.update(["parses"]) or parse(*a)),
          mock.patch.object(transformers.AutoModelForCausalLM, "from_pretrained",
                            lambda *a, **k: counts.update(["model loads"]) or load(*a, **k)),
          mock.patch.object(jobs, "enqueue_on_commit", lambda job_id: None)):
        job = jobs.job_launch(project=Project.objects.get(slug="demo"), config={}, preset="cpu-smoke")
        print(f"job_launch (web process): {dict(counts)}")
        for step in job_run_spec(job, LocalLauncher(), evaluate_base=True, evaluate=True).steps:
            before = counts.copy()
            assert engine_main(step[3:]) == 0
            print(f"python -m training.engine {step[3]}{' --adapter' if '--adapter' in step else ''}: "
                  f"{dict(counts - before)}")
    print(f"whole job: {dict(counts)}")


def phase_seconds(log_path) -> list[tuple[str, int]]:
    """(phase, seconds until the next phase or the log's end) from the job log's "phase: ..." lines."""
    stamps = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        moment = datetime.datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") if line[:2] == "20" else None
        if moment and "phase: " in line:
            stamps.append((line.split("phase: ", 1)[1], moment))
        last = moment or (stamps[-1][1] if stamps else None)
    ends = [moment for _, moment in stamps[1:]] + [last]
    return [(phase, int((end - start).total_seconds())) for (phase, start), end in zip(stamps, ends, strict=True)]


def kl_values(job) -> list[float]:
    from training.models import JobMetric

    return [v for v in JobMetric.objects.filter(job=job).order_by("step").values_list("kl", flat=True) if v is not None]


def held_out_figures(job) -> str:
    """Pairwise accuracy on the test prompts under sum_logp: base, tuned, paired change, and the length baseline."""
    from training.engine.metrics import metric_terms, paired_change
    from training.models import PromptEvaluation

    rows = {model: {p.external_id: p for p in PromptEvaluation.objects.filter(evaluation__job=job,
                                                                               evaluation__model=model)}
            for model in ("base", "tuned")}
    ids = sorted(rows["tuned"])
    ranks = [rows["tuned"][i].human_ranking for i in ids]
    lengths = [[len(r.text) for r in rows["tuned"][i].prompt.responses.order_by("position")] for i in ids]
    base = metric_terms([rows["base"][i].sum_logps for i in ids], ranks)
    tuned = metric_terms([rows["tuned"][i].sum_logps for i in ids], ranks)
    longer = metric_terms(lengths, ranks)
    change, versus_length = paired_change(base, tuned)["pairwise_accuracy"], paired_change(longer, tuned)["pairwise_accuracy"]
    return (f"held-out pairwise accuracy under sum_logp ({len(ids)} test prompts): base {change['before']:.3f}, "
            f"tuned {change['after']:.3f}, change {change['delta']:+.3f} [{change['low']:+.3f}, {change['high']:+.3f}]; "
            f"longer is better {versus_length['before']:.3f}, tuned minus it {versus_length['delta']:+.3f} "
            f"[{versus_length['low']:+.3f}, {versus_length['high']:+.3f}]")


def job_overhead(args) -> None:
    import torch

    from ranking_app.exchange.exports import export_create, export_path
    from ranking_app.exchange.imports import rankings_import
    from ranking_app.projects.services import project_create
    from training.engine import RankedGRPOConfig, make_tiny_model, run_training
    from training.engine.synthetic import vowel_ranked_records
    from training.models import JobMetric, TrainingJob
    from training.presets import presets, tiny_model_path
    from training.runner import execute_job

    if settings.TRAINING_CPU_THREADS:  # the direct runs get the threads a job gets
        torch.set_num_threads(settings.TRAINING_CPU_THREADS)
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

    flushes = flush_times(project, export, config)

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



def flush_times(project, export, config) -> list[float]:
    """Seconds of 200 reporter flushes (heartbeat + progress + metric upsert + cancel-flag read)."""
    from training.models import TrainingJob
    from training.runner import JobReporter, job_claim
    from training.work.transitions import current_worker_id

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

    return flushes


if __name__ == "__main__":
    main()
