"""Comparison benchmark: base vs tuned on the test split and annotator vs consensus on every prompt
of a 10,000 prompts x 4 responses x 3 annotators project, plus the page, the export and the bootstrap.

    python -m benchmarks.bench_compare [--n-prompts 10000] [--k 4] [--annotators 3] [--repeat 3]

Model evaluations are written straight into the database (random scores, as ``evaluation_store``
would store them), so no model runs. Uses its own SQLite database under a temporary GRPO_DATA_DIR
(unless GRPO_DATA_DIR is set). Prints one line per measure and a Markdown table.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-compare-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from benchmarks.bench_data import build_benchmark_project, project_size_args  # noqa: E402
from benchmarks.timing import timed  # noqa: E402
from ranking_app.models import ExportSnapshot, Prompt  # noqa: E402
from ranking_app.review.agreement_store import agreement_current  # noqa: E402
from training.compare import aggregates as cmp  # noqa: E402
from training.compare.selectors import comparison_build  # noqa: E402
from training.engine.metrics import dense_ranking, paired_change  # noqa: E402
from training.models import EvaluationResult, PromptEvaluation, TrainingJob  # noqa: E402


def _evaluated_job(project, k: int, seed: int = 0) -> TrainingJob:
    rng = random.Random(seed)
    export = ExportSnapshot.objects.create(project=project, format="json", sha256="0" * 64, path="bench.json")
    job = TrainingJob.objects.create(project=project, export=export, name="bench", base_model="bench", config={},
                                     status=TrainingJob.Status.SUCCEEDED)  # fmt: skip
    test = list(Prompt.objects.filter(project=project, split="test").values_list("id", "external_id"))
    for model in ("base", "tuned"):
        evaluation = EvaluationResult.objects.create(job=job, model=model, project=project, export=export,
                                                     split="test", n_prompts=len(test), metrics={})  # fmt: skip
        rows = []
        for pid, external_id in test:
            scores = [rng.gauss(0, 1) for _ in range(k)]
            rows.append(PromptEvaluation(evaluation=evaluation, prompt_id=pid, external_id=external_id,
                                         scores=scores, ranking=dense_ranking(scores)))  # fmt: skip
        PromptEvaluation.objects.bulk_create(rows, batch_size=2000)
    return job


def main(argv: list[str] | None = None) -> None:
    args = project_size_args(__doc__.splitlines()[0], argv)

    call_command("migrate", verbosity=0)
    project = build_benchmark_project(slug="bench-compare", n_prompts=args.n_prompts, k=args.k,
                                      annotators=args.annotators)  # fmt: skip
    job = _evaluated_job(project, args.k)
    agreement_current(project=project)  # the agreement cache is the agreement benchmark's business
    n_test = Prompt.objects.filter(project=project, split="test").count()
    results = []

    def measure(label, fn, repeat=args.repeat):
        wall, cpu = timed(fn, repeat)
        results.append((label, wall, cpu))
        print(f"{label}: median {statistics.median(wall):.2f} s (CPU {statistics.median(cpu):.2f} s)")

    models = (f"base:{job.pk}", f"job:{job.pk}")
    measure(f"base vs tuned, {n_test} test prompts (rows + figures + 1000 bootstraps)",
            lambda: comparison_build(project, *models))
    measure(f"annotator vs consensus, {args.n_prompts} prompts",
            lambda: comparison_build(project, "consensus", "annotator:bench-compare-a0"))

    rng = np.random.default_rng(0)
    table = {key: np.column_stack([rng.random(args.n_prompts), np.ones(args.n_prompts)]) for key in cmp.METRICS}
    other = {key: np.column_stack([rng.random(args.n_prompts), np.ones(args.n_prompts)]) for key in cmp.METRICS}
    measure(f"paired bootstrap alone: {len(cmp.METRICS)} metrics x 1000 resamples x {args.n_prompts} prompts",
            lambda: paired_change(table, other))

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(username="bench-compare-reviewer"))  # axes needs a request for login()
    url = reverse("compare:project", args=[project.slug])
    client.get(url)  # warm up (templates, imports)

    def cold_page():
        cache.clear()
        client.get(url)

    measure("comparison page, base vs tuned, first view (computes, renders)", cold_page)
    client.get(url)
    measure("comparison page, base vs tuned, cached (e.g. next page of the table)", lambda: client.get(url + "?page=2"))
    csv_url = reverse("compare:export_csv", args=[project.slug])
    measure("CSV export, base vs tuned (cached comparison)", lambda: client.get(csv_url))
    prompt = Prompt.objects.filter(project=project, split="test").first()
    prompt_url = reverse("compare:prompt", args=[project.slug, prompt.pk])
    measure("prompt comparison view", lambda: client.get(prompt_url))

    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("| measure | wall time (median) | CPU time (median) |")
    print("| --- | --- | --- |")
    for label, wall, cpu in results:
        print(f"| {label} | {statistics.median(wall):.3f} s | {statistics.median(cpu):.3f} s |")


if __name__ == "__main__":
    main()
