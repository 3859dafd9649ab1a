"""Load benchmark: N simulated labelers against the production server (gunicorn + production
settings) on loopback, on SQLite and on PostgreSQL.

    python -m benchmarks.bench_load [--labelers 50] [--seconds 60] [--think-ms 1000] [--db both]
                                    [--workers 5] [--out docs/benchmarks/load.md]

Each labeler is one thread with its own session, doing the no-JavaScript form flow in a loop: the
queue (``/label/<slug>/``, a redirect to a prompt), the rank page, an autosave POST and the submit
POST, waiting about ``--think-ms`` before each request (drawn from 0.5-1.5 x think-ms, seeded per
labeler; 0: as fast as the server answers). After the
bounded run it checks, in the database, that every submit the server acknowledged (302) is stored
exactly once as a submitted ranking, that nothing unacknowledged was stored, and that no prompt has
more submitted rankings than its target. PostgreSQL runs in a throwaway cluster on loopback
(``.ci/with_postgres.sh``). Loopback only; bounded in labelers (<= 200) and time (<= 600 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.timing import percentile
from tests.production.server import REPO, Client, ProductionServer

STEPS = ("queue", "rank page", "autosave", "submit")
CHECK = """
import json
from collections import Counter
from ranking_app.models import Project, Ranking
project = Project.objects.get(slug="load")
rows = list(Ranking.objects.filter(prompt__project=project, status="submitted")
            .values_list("prompt_id", "annotator__username"))
per_prompt = Counter(p for p, _ in rows)
print(json.dumps({"submitted": rows, "max_per_prompt": max(per_prompt.values(), default=0),
                  "target": project.target_annotators}))
"""


class Labeler(threading.Thread):
    """One labeler: logs in (untimed; logins hash passwords, so they all happen before the clock
    starts), waits for the others at ``stats.start``, then labels until ``stats.deadline``."""

    def __init__(self, port: int, username: str, think: float, stats):
        super().__init__(daemon=True)
        self.client, self.username, self.think, self.stats = Client(port), username, think, stats
        self.acknowledged: list[tuple[int, str]] = []
        self.random = random.Random(username)  # seeded: the same waits on every run

    def step(self, name: str, method: str, path: str, form: dict | None = None, expect=(200,)):
        # People read for different times: a wait drawn from [0.5, 1.5] x think (mean think), as load
        # tools do (Locust's between()); equal waits would keep all labelers firing in lockstep waves.
        time.sleep(self.think * self.random.uniform(0.5, 1.5))
        try:
            reply = self.client.request(method, path, form=form)
        except OSError as error:
            self.stats.error(name, f"{type(error).__name__}: {error}")
            return None
        self.stats.record(name, reply.seconds, reply.status in expect, reply.status)
        return reply if reply.status in expect else None

    def run(self) -> None:
        self.client.login(self.username)
        self.stats.start.wait()
        while time.monotonic() < self.stats.deadline:
            queue = self.step("queue", "GET", "/label/load/", expect=(302, 200))
            if queue is None or queue.status == 200:  # 200: nothing left for this labeler
                return
            page = queue.headers["location"]
            if self.step("rank page", "GET", page) is None:
                continue
            form = {"version": "0", "rank_0": "1", "rank_1": "2", "rank_2": "2", "rank_3": "3", "elapsed_ms": "900"}
            if self.step("autosave", "POST", page + "save/", form) is None:
                continue
            if self.step("submit", "POST", page + "submit/", {**form, "version": "1"}, expect=(302,)) is not None:
                self.acknowledged.append((int(page.rstrip("/").split("/")[-1]), self.username))


class Stats:
    def __init__(self, n_labelers: int, seconds: float):
        self.seconds = seconds
        self.deadline = 0.0
        self.start = threading.Barrier(n_labelers + 1, action=self._go)  # the action runs before anyone goes on
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def _go(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def record(self, name: str, seconds: float, ok: bool, status: int) -> None:
        with self.lock:
            self.times[name].append(seconds)
            if not ok:
                self.errors[name].append(f"HTTP {status}")

    def error(self, name: str, text: str) -> None:
        with self.lock:
            self.errors[name].append(text)


def run_once(args, database_url: str = "") -> dict:
    """Start the server, drive the labelers, verify the database; the figures as a dict."""
    root = Path(tempfile.mkdtemp(prefix="grpo-bench-load-"))
    server = ProductionServer(root, database_url=database_url, workers=args.workers)
    server.prepare(n_labelers=args.labelers, n_prompts=args.prompts, target=args.target)
    server.start()
    try:
        for _ in range(4 * args.workers):  # warm up every worker (templates, first connection)
            Client(server.port).get("/accounts/login/")
        stats = Stats(args.labelers, args.seconds)
        labelers = [Labeler(server.port, f"lab{i}", args.think_ms / 1000, stats) for i in range(args.labelers)]
        for labeler in labelers:
            labeler.start()
        stats.start.wait(timeout=300)  # every labeler logged in: the clock starts
        started = time.perf_counter()
        for labeler in labelers:
            labeler.join(args.seconds + 120)
        elapsed = time.perf_counter() - started
        stored = json.loads(server.manage("shell", "-c", CHECK).splitlines()[-1])
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    acknowledged = [ack for labeler in labelers for ack in labeler.acknowledged]
    stored_pairs = [tuple(row) for row in stored["submitted"]]
    return {
        "database": "PostgreSQL" if "postgres" in server.env["DATABASE_URL"] else "SQLite",
        "seconds": elapsed,
        "requests": sum(len(v) for v in stats.times.values()),
        "steps": {name: {"n": len(stats.times[name]), "p50": percentile(stats.times[name], 0.5),
                         "p95": percentile(stats.times[name], 0.95), "p99": percentile(stats.times[name], 0.99),
                         "errors": len(stats.errors[name]), "examples": sorted(set(stats.errors[name]))[:3]}
                  for name in STEPS},  # fmt: skip
        "acknowledged": len(acknowledged),
        "ack_missing": len(set(acknowledged) - set(stored_pairs)),
        "ack_duplicated": len(acknowledged) - len(set(acknowledged)),
        "stored_unacknowledged": len(set(stored_pairs) - set(acknowledged)),
        "max_per_prompt": stored["max_per_prompt"],
        "target": stored["target"],
    }


def run_on_postgres(args) -> dict:
    """This script again, as a child under .ci/with_postgres.sh (a throwaway cluster on loopback)."""
    out = Path(tempfile.mkdtemp(prefix="grpo-bench-load-pg-")) / "result.json"
    cmd = [str(REPO / ".ci" / "with_postgres.sh"), sys.executable, "-m", "benchmarks.bench_load", "--db", "postgres",
           "--json", str(out), *child_args(args)]  # fmt: skip
    subprocess.run(cmd, cwd=REPO, check=True, timeout=args.seconds + 600)
    result = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


def child_args(args) -> list[str]:
    return ["--labelers", str(args.labelers), "--seconds", str(args.seconds), "--think-ms", str(args.think_ms),
            "--prompts", str(args.prompts), "--target", str(args.target), "--workers", str(args.workers)]  # fmt: skip


def report(args, results: list[dict]) -> str:
    lines = [
        "# Load benchmark",
        "",
        f"`python -m benchmarks.bench_load {' '.join(child_args(args))}` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}): gunicorn with {args.workers} sync workers, "
        f"`config.settings.production`, whitenoise; {args.labelers} labelers (threads in one client process on the "
        f"same machine), each waiting 0.5-1.5 x {args.think_ms} ms (seeded, mean {args.think_ms} ms) before every request, for {args.seconds} s; "
        f"{args.prompts} prompts x 4 responses, target {args.target} rankings per prompt.",
        "",
        "| database | request | n | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for name in STEPS:
            step = result["steps"][name]
            lines.append(f"| {result['database']} | {name} | {step['n']} | {step['p50'] * 1000:.0f} | "
                         f"{step['p95'] * 1000:.0f} | {step['p99'] * 1000:.0f} | {step['errors']} |")  # fmt: skip
    lines += ["", "| database | requests/s | acknowledged submits | missing | duplicated | stored unacknowledged | "
              "most rankings on one prompt (target) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for r in results:
        lines.append(f"| {r['database']} | {r['requests'] / r['seconds']:.0f} | {r['acknowledged']} | {r['ack_missing']} | "
                     f"{r['ack_duplicated']} | {r['stored_unacknowledged']} | {r['max_per_prompt']} ({r['target']}) |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelers", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--target", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json", type=Path, help="(internal) write the figures of one run here")
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    if not (1 <= args.labelers <= 200 and 1 <= args.seconds <= 600):
        parser.error("bounded: 1-200 labelers, 1-600 seconds")
    if args.json:  # a child run: one database, figures to a file
        args.json.write_text(json.dumps(run_once(args, os.environ.get("DATABASE_URL", "") if args.db == "postgres" else "")))
        return
    results = []
    if args.db in ("sqlite", "both"):
        results.append(run_once(args))
    if args.db in ("postgres", "both"):
        results.append(run_on_postgres(args))
    text = report(args, results)
    print(text)
    for r in results:
        for name, step in r["steps"].items():
            if step["examples"]:
                print(f"{r['database']} {name} errors, e.g.: {step['examples']}")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
