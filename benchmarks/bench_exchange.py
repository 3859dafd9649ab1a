"""Import and export speed at 10,000 prompts: ``python -m benchmarks.bench_exchange [--n-prompts N] [--write]``.

Runs in a throw-away data directory (its own SQLite file, migrated from scratch), so it never
touches var/. Measures: first import of an N-prompt JSONL file (4 responses, a top-level ranking
and 2 annotations per prompt, i.e. 3 rankings per prompt), a re-import of the same file (nothing
changes), then one export in every format. Prints a Markdown table; ``--write`` also writes it to
docs/benchmarks/exchange.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_records(n_prompts: int, k: int = 4) -> list[dict]:
    records = []
    for p in range(n_prompts):
        base = list(range(k))
        swapped = base[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        records.append(
            {
                "id": f"bench-{p:06d}",
                "prompt": f"Benchmark question number {p}: explain topic {p % 97} in plain words.",
                "responses": [f"Response {i} to question {p}. " + "Some explanatory text. " * 20 for i in range(k)],
                "rankings": base,
                "annotations": [
                    {"annotator": "bench-alice", "rankings": base},
                    {"annotator": "bench-bob", "rankings": swapped if p % 3 == 0 else base},
                ],
                "split": "test" if p % 5 == 0 else "train",
                "metadata": {"source": "benchmark", "index": p},
            }
        )
    return records


class QueryCounter:
    """``connection.execute_wrapper`` hook counting every SQL statement."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(label: str, results: list, fn):
    start = time.perf_counter()
    value = fn()
    results.append((label, time.perf_counter() - start, value))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-prompts", type=int, default=10_000)
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks/exchange.md")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="grpo-bench-exchange-"))
    os.environ["GRPO_DATA_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from ranking_app.exchange.exports import export_create, export_path
    from ranking_app.exchange.imports import import_file
    from ranking_app.models import Project

    call_command("migrate", verbosity=0)
    path = workdir / "bench.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_records(args.n_prompts)), encoding="utf-8")
    size_mb = path.stat().st_size / 1e6

    results: list = []
    first_queries, again_queries = QueryCounter(), QueryCounter()
    with connection.execute_wrapper(first_queries):
        timed("import (first, creates everything)", results, lambda: import_file(file=path, slug="bench", create=True))
    with connection.execute_wrapper(again_queries):
        timed("re-import (same file, nothing changes)", results, lambda: import_file(file=path, slug="bench"))
    project = Project.objects.get(slug="bench")
    for fmt in ("jsonl", "json", "pairs", "hf"):
        timed(f"export {fmt}", results, lambda fmt=fmt: export_create(project=project, format=fmt))

    lines = [
        "# Benchmarks: import and export",
        "",
        f"`python -m benchmarks.bench_exchange --n-prompts {args.n_prompts}` on {platform.machine()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU cores (shared with other work: load average "
        f"{os.getloadavg()[0]:.1f} at the end), SQLite (WAL).",
        f"Input: {args.n_prompts:,} prompts x 4 responses, 1 top-level ranking + 2 annotations per prompt "
        f"({3 * args.n_prompts:,} rankings), JSONL of {size_mb:.1f} MB.",
        "",
        "| step | seconds | result |",
        "| --- | ---: | --- |",
    ]
    for label, seconds, value in results:
        shown = str(value) if not hasattr(value, "sha256") else f"{value.counts}, {_size(export_path(value))}"
        lines.append(f"| {label} | {seconds:.1f} | {shown} |")
    lines += [
        "",
        f"Queries: first import {first_queries.count} ({first_queries.count / (3 * args.n_prompts):.1f} per ranking: "
        "prompts, responses, users, first rankings and their revisions are bulk-inserted; "
        "a changed existing ranking would go through `ranking_save`); "
        f"re-import {again_queries.count} (bulk reads only, nothing written).",
        "Most of the import time is Python-side: checking 10,000 records and the ORM building the bulk "
        "INSERTs; the first export also pays for the agreement computation of the whole project "
        "(cached afterwards).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        (ROOT / "docs" / "benchmarks" / "exchange.md").write_text(text, encoding="utf-8")


def _size(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    return f"{total / 1e6:.1f} MB"


if __name__ == "__main__":
    main()
