"""Load benchmark: N simulated labelers against the production server (gunicorn + production
settings) on loopback, on SQLite and on PostgreSQL.

    python -m benchmarks.bench_load [--labelers 50[,100,...]] [--seconds 60] [--think-ms 1000] [--db both]
                                    [--workers 5] [--out docs/benchmarks/load.md]

Each labeler is one thread with its own session, doing the no-JavaScript form flow in a loop: the
queue (``/label/<slug>/``, a redirect to a prompt), the rank page, an autosave POST and the submit
POST, waiting about ``--think-ms`` before each request (drawn from 0.5-1.5 x think-ms, seeded per
labeler; 0: as fast as the server answers). After the
bounded run it checks, in the database, that every submit the server acknowledged (302) is stored
exactly once as a submitted ranking, that nothing unacknowledged was stored, and that no prompt has
more submitted rankings than its target.

Each request's time is taken twice: by the client (what a labeler waits, including the time the request
sat in the kernel's queue until a gunicorn worker got a CPU) and by the server (its ``Server-Timing:
app;dur=`` header, ``config/server_timing.py``). The p95 target is checked on the server's time, which a
busy machine inflates far less; the machine's load average (sampled every 2 s) is reported beside it.
Several ``--labelers`` counts (comma-separated) give one run each: how many labelers one host holds.
PostgreSQL runs in a throwaway cluster on loopback
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
from config.server_timing import server_ms
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
        timing = reply.headers.get("server-timing")
        self.stats.record(name, reply.seconds, (server_ms(timing), server_ms(timing, "cpu")), reply.status in expect,
                          reply.status)
        return reply if reply.status in expect else None

    def run(self) -> None:
        with self.stats.logins:  # password hashing: a few at a time, or 100 at once time out on a busy machine
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
        self.logins = threading.Semaphore(4)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.server_times: dict[str, list[float]] = defaultdict(list)
        self.cpu_times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.load: list[float] = []

    def _go(self) -> None:
        self.deadline = time.monotonic() + self.seconds
        threading.Thread(target=self._sample_load, daemon=True).start()

    def _sample_load(self) -> None:
        while time.monotonic() < self.deadline:
            self.load.append(os.getloadavg()[0])
            time.sleep(2)

    def record(self, name: str, seconds: float, server_ms: tuple, ok: bool, status: int) -> None:
        """``server_ms``: the server's wall and CPU milliseconds (None when the header is missing)."""
        with self.lock:
            self.times[name].append(seconds)
            if None not in server_ms:
                self.server_times[name].append(server_ms[0] / 1000)
                self.cpu_times[name].append(server_ms[1] / 1000)
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
        "labelers": args.labelers,
        "load": {"min": min(stats.load, default=0.0), "mean": sum(stats.load) / max(len(stats.load), 1),
                 "max": max(stats.load, default=0.0)},
        "steps": {name: {"n": len(stats.times[name]), **_percentiles(stats.times[name], ""),
                         **_percentiles(stats.server_times[name], "server_"),
                         "cpu_mean": sum(stats.cpu_times[name]) / max(len(stats.cpu_times[name]), 1),
                         "errors": len(stats.errors[name]), "examples": sorted(set(stats.errors[name]))[:3]}
                  for name in STEPS},  # fmt: skip
        "acknowledged": len(acknowledged),
        "ack_missing": len(set(acknowledged) - set(stored_pairs)),
        "ack_duplicated": len(acknowledged) - len(set(acknowledged)),
        "stored_unacknowledged": len(set(stored_pairs) - set(acknowledged)),
        "max_per_prompt": stored["max_per_prompt"],
        "target": stored["target"],
    }


def _percentiles(times: list[float], prefix: str) -> dict:
    return {f"{prefix}p{q}": percentile(times, q / 100) for q in (50, 95, 99)}


def run_on_postgres(args) -> dict:
    """This script again, as a child under .ci/with_postgres.sh (a throwaway cluster on loopback)."""
    out = Path(tempfile.mkdtemp(prefix="grpo-bench-load-pg-")) / "result.json"
    cmd = [str(REPO / ".ci" / "with_postgres.sh"), sys.executable, "-m", "benchmarks.bench_load", "--db", "postgres",
           "--json", str(out), *child_args(args, args.labelers)]  # fmt: skip
    subprocess.run(cmd, cwd=REPO, check=True, timeout=args.seconds + 600)
    result = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


def child_args(args, labelers) -> list[str]:
    return ["--labelers", str(labelers), "--seconds", str(args.seconds), "--think-ms", str(args.think_ms),
            "--prompts", str(args.prompts), "--target", str(args.target), "--workers", str(args.workers)]  # fmt: skip


TARGET_SECONDS = 0.2  # p95 per request, on the server's time


def report(args, results: list[dict]) -> str:
    counts = ",".join(str(n) for n in args.counts)
    lines = [
        "# Load benchmark",
        "",
        f"`python -m benchmarks.bench_load {' '.join(child_args(args, counts))}` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}): gunicorn with {args.workers} sync workers, "
        f"`config.settings.production`, whitenoise; the labelers are threads in one client process on the same "
        f"machine, each waiting 0.5-1.5 x {args.think_ms} ms (seeded, mean {args.think_ms} ms) before every request, "
        f"for {args.seconds} s; {args.prompts} prompts x 4 responses, target {args.target} rankings per prompt. "
        "Client: what the labeler waited; server: the app's own time (`Server-Timing`).",
        "",
        "| database | labelers | request | n | client p50 / p95 / p99 ms | server p50 / p95 / p99 ms | app CPU ms (mean) "
        "| errors |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for name in STEPS:
            step = result["steps"][name]
            client = " / ".join(f"{step[f'p{q}'] * 1000:.0f}" for q in (50, 95, 99))
            server = " / ".join(f"{step[f'server_p{q}'] * 1000:.0f}" for q in (50, 95, 99))
            lines.append(f"| {result['database']} | {result['labelers']} | {name} | {step['n']} | {client} | {server} | "
                         f"{step['cpu_mean'] * 1000:.1f} | {step['errors']} |")  # fmt: skip
    lines += ["", "| database | labelers | requests/s | load average min / mean / max | acknowledged submits | missing | "
              "duplicated | stored unacknowledged | most rankings on one prompt (target) |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for r in results:
        load = " / ".join(f"{r['load'][k]:.1f}" for k in ("min", "mean", "max"))
        lines.append(f"| {r['database']} | {r['labelers']} | {r['requests'] / r['seconds']:.0f} | {load} | "
                     f"{r['acknowledged']} | {r['ack_missing']} | {r['ack_duplicated']} | {r['stored_unacknowledged']} | "
                     f"{r['max_per_prompt']} ({r['target']}) |")  # fmt: skip
    return "\n".join([*lines, "", *verdicts(results, args.think_ms)]) + "\n"


def meets_target(result: dict) -> bool:
    """Every request's server p95 under the target, no errors, every acknowledged submit stored once."""
    steps = result["steps"].values()
    return (all(step["server_p95"] < TARGET_SECONDS and not step["errors"] for step in steps)
            and not (result["ack_missing"] or result["ack_duplicated"] or result["stored_unacknowledged"]))  # fmt: skip


def verdicts(results: list[dict], think_ms: int) -> list[str]:
    lines = []
    for database in dict.fromkeys(r["database"] for r in results):
        runs = sorted((r for r in results if r["database"] == database), key=lambda r: r["labelers"])
        held = [r["labelers"] for r in runs if meets_target(r)]
        cpu = app_cpu_per_request(runs)
        lines.append(f"{database}: server p95 < {TARGET_SECONDS * 1000:.0f} ms, 0 errors and every submit stored once "
                     f"at {', '.join(map(str, held)) or 'none'} of {', '.join(str(r['labelers']) for r in runs)} labelers. "
                     f"A request costs the app {cpu * 1000:.1f} ms of CPU on average (whatever the load); a labeler "
                     f"asks about once per think time ({think_ms} ms), so one core of app CPU serves at most about "
                     f"{think_ms / 1000 / cpu:.0f} labelers (the database's CPU comes on top).")
    return lines


def app_cpu_per_request(results: list[dict]) -> float:
    """The app's mean CPU seconds per request over ``results`` (``Server-Timing`` cpu, every request)."""
    steps = [step for result in results for step in result["steps"].values()]
    return sum(step["cpu_mean"] * step["n"] for step in steps) / max(sum(step["n"] for step in steps), 1) or float("nan")


DATABASES = {"sqlite": ["sqlite"], "postgres": ["postgres"], "both": ["sqlite", "postgres"]}


def run_with(args, labelers: int, database: str) -> dict:
    one = argparse.Namespace(**{**vars(args), "labelers": labelers})
    return run_once(one) if database == "sqlite" else run_on_postgres(one)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelers", default="50", help="labelers, or several counts (one run each): 25,50,100")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--target", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json", type=Path, help="(internal) write the figures of one run here")
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    args.counts = [int(n) for n in args.labelers.split(",") if n.strip().isdigit()]
    if not args.counts or not all(1 <= n <= 200 for n in args.counts) or not 1 <= args.seconds <= 600:
        parser.error("bounded: 1-200 labelers (comma-separated counts), 1-600 seconds")
    if args.json:  # a child run: one database, one count, figures to a file
        args.labelers = args.counts[0]
        args.json.write_text(json.dumps(run_once(args, os.environ.get("DATABASE_URL", "") if args.db == "postgres" else "")))
        return
    results = []
    for database in DATABASES[args.db]:
        for count in args.counts:
            results.append(run_with(args, count, database))
            print(json.dumps(results[-1]), flush=True)  # a later run's failure loses nothing
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
