"""Agreement benchmark: database -> figures for 10,000 prompts x 4 responses x 3 annotators,
and the review dashboard rendered from the cached figures.

    python -m benchmarks.bench_agreement [--n-prompts 10000] [--k 4] [--annotators 3] [--repeat 3]

Uses its own SQLite database under a temporary GRPO_DATA_DIR (unless GRPO_DATA_DIR is set), so
it never touches the development database. Prints one line per measure and a Markdown table.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-agreement-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from benchmarks.bench_data import build_benchmark_project, project_size_args  # noqa: E402
from benchmarks.timing import timed  # noqa: E402
from ranking_app.models import ProjectAgreement, Ranking  # noqa: E402
from ranking_app.ranking_store import ranking_save  # noqa: E402
from ranking_app.review.agreement_store import agreement_current, agreement_refresh  # noqa: E402

CPU_TIMES: dict[str, list[float]] = {}


def _timed(fn, repeat: int, name: str) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls; the process CPU seconds go to CPU_TIMES[name]."""
    wall, CPU_TIMES[name] = timed(fn, repeat)
    return wall


def main(argv: list[str] | None = None) -> None:
    args = project_size_args(__doc__.splitlines()[0], argv)

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    project = build_benchmark_project(
        slug="bench-agreement", n_prompts=args.n_prompts, k=args.k, annotators=args.annotators
    )
    print(f"data: {args.n_prompts} prompts x {args.k} x {args.annotators} built in {time.perf_counter() - start:.1f} s")

    refresh = _timed(lambda: agreement_refresh(project=project), args.repeat, "refresh")
    cache = ProjectAgreement.objects.get(project=project)
    summary = cache.summary
    print(
        f"database -> figures: best {min(refresh):.2f} s, median {statistics.median(refresh):.2f} s "
        f"(alpha={summary['krippendorff_alpha']:.4f}, mean W={summary['mean_kendall_w']:.4f}, "
        f"statuses={summary['status_counts']})"
    )

    fresh_read = _timed(
        lambda: agreement_current(project=project, with_items=False, with_queue=False), args.repeat * 3, "fresh"
    )
    print(f"cache read (fingerprint check, no recompute): median {statistics.median(fresh_read) * 1000:.1f} ms")

    setup_test_environment()
    client = Client()
    client.login(username="bench-agreement-reviewer", password="bench-pass-123")
    url = reverse("review:dashboard", args=[project.slug])
    client.get(url)  # warm up (template loading)
    dashboard = _timed(lambda: client.get(url), args.repeat * 3, "dashboard")
    queue_url = reverse("review:queue", args=[project.slug])
    queue = _timed(lambda: client.get(queue_url), args.repeat * 3, "queue")
    print(f"dashboard from cache: median {statistics.median(dashboard) * 1000:.1f} ms, max {max(dashboard) * 1000:.1f} ms")
    print(f"review queue from cache: median {statistics.median(queue) * 1000:.1f} ms")

    # One ranking changes -> the next read recomputes (the cost a reviewer pays after an edit).
    ranking = Ranking.objects.filter(prompt__project=project, status=Ranking.Status.SUBMITTED).first()
    ranking_save(
        prompt=ranking.prompt, annotator=ranking.annotator, tiers=list(reversed(ranking.tiers)),
        status=Ranking.Status.SUBMITTED,
    )
    start = time.perf_counter()
    client.get(url)
    stale = time.perf_counter() - start
    print(f"dashboard after one ranking changed (recompute + render): {stale:.2f} s")

    def cpu(name: str) -> str:
        return f"{statistics.median(CPU_TIMES[name]) * 1000:.0f} ms"

    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("| measure | wall time | CPU time (median) |")
    print("| --- | --- | --- |")
    print(f"| database -> figures ({args.n_prompts} x {args.k} x {args.annotators}) | best {min(refresh):.2f} s, median {statistics.median(refresh):.2f} s | {cpu('refresh')} |")
    print(f"| cache freshness check (fingerprint) | median {statistics.median(fresh_read) * 1000:.1f} ms | {cpu('fresh')} |")
    print(f"| dashboard from cache (HTTP GET, rendered) | median {statistics.median(dashboard) * 1000:.1f} ms, max {max(dashboard) * 1000:.1f} ms | {cpu('dashboard')} |")
    print(f"| review queue from cache | median {statistics.median(queue) * 1000:.1f} ms | {cpu('queue')} |")
    print(f"| dashboard right after a ranking changed (recompute + render) | {stale:.2f} s | |")


if __name__ == "__main__":
    main()
