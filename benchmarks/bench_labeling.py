"""Labeling benchmark: server time and SQL queries of the labeler's requests on a large project.

    python -m benchmarks.bench_labeling [--n-prompts 10000] [--k 4] [--annotators 3]
                                        [--requests 200] [--out docs/benchmarks/labeling.md]

Builds the shared benchmark project (``benchmarks.bench_data``: 10,000 prompts x 4 responses x 3
annotators; every 20th prompt still wants rankings) in its own SQLite database under a temporary
GRPO_DATA_DIR (unless GRPO_DATA_DIR is set), then drives the real views through Django's test
client as the project's fresh labeler, ``--requests`` rounds of: the queue (``labeling:start``),
the rank screen, one htmx autosave and the submit. Times are server time (request in, response
out, middleware, sessions and templates included; no network). Query counts are compared with a
100-prompt project to show they do not grow with the database.

    GRPO_DATA_DIR=var python -m benchmarks.bench_labeling --throughput-of demo

prints instead the labeling throughput of a project in that database: seconds and keystrokes per
submitted ranking by K (the agreement page's figures). ``benchmarks/bench_labeling_browser.py``
measures them for a scripted labeler in Chromium, by keyboard and by drag.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-labeling-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from benchmarks.bench_data import build_benchmark_project  # noqa: E402
from benchmarks.timing import percentile  # noqa: E402
from ranking_app.labeling.throughput import labeling_throughput  # noqa: E402
from ranking_app.models import Project, Ranking  # noqa: E402

STEPS = ("queue", "rank screen", "autosave", "submit")


def _round(client: Client, slug: str, times: dict | None = None, cpu: dict | None = None, *, cold: bool = False):
    """One labeling round; returns the queries of each step, adds wall and CPU seconds.

    ``cold`` empties the cache before each step (the project progress totals are cached for a
    few seconds), so query counts compare like with like."""
    queries: dict[str, int] = {}

    def step(name, call):
        if cold:
            cache.clear()
        connection.queries_log.clear()  # a full log (9,000 entries) would hide new queries
        with CaptureQueriesContext(connection) as ctx:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = call()
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if response.status_code >= 400:
            raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.content[:300]!r}")
        queries[name] = len(ctx)
        if times is not None:
            times[name].append(elapsed)
            cpu[name].append(elapsed_cpu)
        return response

    location = step("queue", lambda: client.get(reverse("labeling:start", args=[slug])))["Location"]
    if "/p/" not in location:
        raise RuntimeError("the queue ran out of prompts: use fewer --requests or more --n-prompts")
    step("rank screen", lambda: client.get(location))
    prompt_id = int(location.rstrip("/").split("/")[-1])
    data = {"version": "0", "rank_0": "1", "rank_1": "2", "rank_2": "2", "rank_3": "", "elapsed_ms": "900"}
    step("autosave", lambda: client.post(reverse("labeling:save", args=[slug, prompt_id]), data, HTTP_HX_REQUEST="true"))
    response = step(
        "submit", lambda: client.post(reverse("labeling:submit", args=[slug, prompt_id]), {**data, "version": "1"})
    )
    if response.status_code != 302:
        raise RuntimeError(f"submit was refused: {response.content[:300]!r}")
    return queries


def _labeler_client(slug: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=f"{slug}-labeler"))
    return client


def _figure(stat: dict | None, digits: int = 1) -> str:
    if not stat:
        return "–"
    return f"{stat['median']:.{digits}f} [{stat['low']:.{digits}f}, {stat['high']:.{digits}f}] ({stat['n']})"


def throughput_markdown(rows: list[dict], *, with_wall: bool = False) -> str:
    """Rows of ``labeling_throughput`` (plus ``method`` and ``wall`` when ``with_wall``) as a Markdown table."""
    wall = ("| method ", "| wall s / prompt ") if with_wall else ("", "")
    lines = [f"{wall[0]}| K | rankings {wall[1]}| page s / ranking | keystrokes / ranking |",
             "| --- " * (4 + 2 * with_wall) + "|"]  # fmt: skip
    for row in rows:
        cells = [row["method"]] if with_wall else []
        cells += [str(row["k"]), str(row["rankings"])]
        cells += [_figure(row["wall"], 2)] if with_wall else []
        cells += [_figure(row["seconds"], 2 if with_wall else 1), _figure(row["keystrokes"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-prompts", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--annotators", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown results here")
    parser.add_argument("--throughput-of", metavar="SLUG", help="print the labeling throughput of this project and stop")
    args = parser.parse_args(argv)
    if args.throughput_of:
        project = Project.objects.filter(slug=args.throughput_of).first()
        if project is None:
            raise SystemExit(f"--throughput-of: no project {args.throughput_of!r} in {settings.DATABASES['default']['NAME']}")
        print(f"Labeling throughput of {project.slug} (median [95% interval] (n)):\n")
        print(throughput_markdown(labeling_throughput(project=project)))
        return
    settings.DEBUG = False  # no per-query logging in connection.queries
    call_command("migrate", verbosity=0, interactive=False)

    build_benchmark_project(slug="bench-small", n_prompts=100, k=args.k, annotators=args.annotators)
    small_queries = _round(_labeler_client("bench-small"), "bench-small", cold=True)

    start = time.perf_counter()
    project = build_benchmark_project(slug="bench", n_prompts=args.n_prompts, k=args.k, annotators=args.annotators)
    built = time.perf_counter() - start
    n_rankings = Ranking.objects.filter(prompt__project=project).count()
    client = _labeler_client("bench")
    large_queries = _round(client, "bench", cold=True)  # also the warm-up: imports, templates, page cache
    times: dict[str, list[float]] = {name: [] for name in STEPS}
    cpu: dict[str, list[float]] = {name: [] for name in STEPS}
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    for _ in range(args.requests):
        _round(client, "bench", times, cpu)
    cpu_share = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)

    lines = [
        "# Labeling benchmark",
        "",
        f"`python -m benchmarks.bench_labeling --n-prompts {args.n_prompts} --requests {args.requests}` on "
        f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.vendor}).",
        "",
        f"Database: {args.n_prompts:,} prompts x {args.k} responses, {n_rankings:,} rankings from "
        f"{args.annotators} annotators (built in {built:.1f} s). Server time through Django's test client "
        f"(middleware, session, view, template; no network), {args.requests} rounds by one labeler, "
        f"each round on a new prompt. This process had {cpu_share:.0%} of a CPU during the timed loop "
        "(the machine is shared with other work, so wall times include waiting for a core; the CPU "
        "columns are this process's own time, SQLite included).",
        "",
        "| request | median ms | p95 ms | max ms | CPU median ms | CPU p95 ms | SQL queries (100 prompts) | "
        f"SQL queries ({args.n_prompts:,} prompts) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in STEPS:
        ms = [t * 1000 for t in times[name]]
        cpu_ms = [t * 1000 for t in cpu[name]]
        lines.append(
            f"| {name} | {statistics.median(ms):.1f} | {percentile(ms, 0.95):.1f} | {max(ms):.1f} | "
            f"{statistics.median(cpu_ms):.1f} | {percentile(cpu_ms, 0.95):.1f} | "
            f"{small_queries[name]} | {large_queries[name]} |"
        )
    lines += [
        "",
        "Targets: p95 under 50 ms for the rank screen and the submit; queries per request constant "
        "(also asserted by `tests/labeling/test_query_counts.py`). Query counts are with a cold cache; "
        "in the timed loop the project's progress totals usually come from the cache (10 s), which "
        "spares the rank screen two counting queries.",
        "",
        "* queue: `GET /label/<slug>/` -> leases the next prompt and redirects. It checks the labeler's "
        "drafts, then a shared pool of the 100 least-ranked open prompts (cached 15 s), each re-checked "
        "exactly, then locks and re-counts the chosen one. Rebuilding the pool, or searching the whole "
        "project when the pool has nothing for this labeler, visits every prompt through the rankings "
        "and leases indexes (a few microseconds each): that is the one cost here that grows with the "
        "project (the query count does not). In the browser a submit is followed by the queue and the "
        "next rank screen (htmx follows the redirects), so the labeler waits for all three.",
        "* rank screen: `GET /label/<slug>/p/<id>/` (lease renewal, the labeler's ranking, responses, progress).",
        "* autosave: htmx `POST .../save/` of a draft (version check, RankingRevision).",
        "* submit: `POST .../submit/` (validation, version check, RankingRevision, lease freed) -> redirect to the queue.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    if small_queries != large_queries:
        raise SystemExit(f"query counts grew with the database: {small_queries} -> {large_queries}")


if __name__ == "__main__":
    main()
