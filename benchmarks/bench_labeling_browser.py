"""Labeling throughput in a real browser: a scripted labeler ranks 20 prompts by keyboard and 20 by drag.

    python -m benchmarks.bench_labeling_browser [--prompts 20] [--k 4 6] [--out docs/benchmarks/labeling_throughput.md]

Starts the app (``manage.py runserver --noreload``, config.settings.dev) on a fresh SQLite
database in a temporary GRPO_DATA_DIR, one project per (method, K) with ``--prompts`` prompts,
and drives Debian's Chromium (/usr/bin/chromium) through Playwright as one labeler:

* keyboard: on each prompt, type every card's rank (a seeded random order, one tie in three
  prompts) and Enter, as the page's "type each card's rank" path;
* drag: drag each card, best first, onto the drop zone at the bottom of the ranking (SortableJS,
  real mouse moves), then click Submit.

The script waits for the page between prompts, never for a fixed time, so its figures are the
floor the tool puts under a labeler (page, server, the keys or drags themselves), not a person's
reading time. Reported per method and K: wall seconds per prompt as the script measured them, and
the seconds and keystrokes the page recorded with each ranking (the figures the agreement page
shows for real labelers), each a median with its distribution-free 95% interval.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if __name__ == "__main__":
    os.environ.setdefault("GRPO_DATA_DIR", tempfile.mkdtemp(prefix="grpo-bench-browser-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    import django

    django.setup()

from benchmarks.bench_labeling import throughput_markdown  # noqa: E402
from ranking_app.labeling.throughput import labeling_throughput, median_with_interval  # noqa: E402

CHROMIUM = os.environ.get("GRPO_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-labeler-1"
METHODS = ("keyboard", "drag")


def setup_projects(n_prompts: int, ks: list[int]) -> dict[tuple[str, int], str]:
    """A fresh database: one labeler and a project per (method, K); returns their slugs."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from ranking_app.models import Project, Prompt, Response
    from ranking_app.roles import LABELER

    call_command("migrate", verbosity=0)
    User.objects.create_user("bench", password=PASSWORD).groups.add(Group.objects.get_or_create(name=LABELER)[0])
    slugs = {}
    for method in METHODS:
        for k in ks:
            slug = f"{method}-k{k}"
            project = Project.objects.create(name=slug, slug=slug, target_annotators=1, allow_ties=True)
            for p in range(n_prompts):
                prompt = Prompt.objects.create(project=project, external_id=f"q{p:02d}",
                                               text=f"Question {p}: which answer explains caching best?")  # fmt: skip
                Response.objects.bulk_create(
                    Response(prompt=prompt, position=i, text=f"Answer {i}: " + "a short explanation. " * (2 + i % 3))
                    for i in range(k)
                )
            slugs[(method, k)] = slug
    return slugs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], cwd=REPO,
        env={**os.environ, "DEBUG": "true"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the app did not start in 60 s")


def planned_values(rng: random.Random, k: int) -> list[int]:
    """The rank typed for each card A, B, ...: a random strict order, with a tie in one prompt of three."""
    values = list(range(1, k + 1))
    rng.shuffle(values)
    if rng.random() < 1 / 3:
        values[values.index(k)] = k - 1
    return values


def wait_next(page, prompt_id: str) -> str:
    page.wait_for_function(
        "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId !== id; }",
        arg=prompt_id,
    )
    return page.locator("#labeling-panel").get_attribute("data-prompt-id") or ""


def rank_by_keyboard(page, rng: random.Random, k: int) -> None:
    page.wait_for_function("document.activeElement && document.activeElement.dataset.label === 'A'")
    for value in planned_values(rng, k):
        page.keyboard.press(str(value))
    page.keyboard.press("Enter")


def rank_by_drag(page, rng: random.Random, k: int) -> None:
    page.wait_for_selector("#rank.rank-js")
    labels = [chr(ord("A") + i) for i in range(k)]
    rng.shuffle(labels)
    for label in labels:  # best first: each drop makes a new tier at the bottom
        drag(page, page.locator(f'#rank .rank-card[data-label="{label}"]'),
             page.locator("#rank [data-rank-newtier] [data-rank-list]").last)  # fmt: skip
    page.click("#rank [data-rank-submit]")


def drag(page, source, target) -> None:
    """A mouse drag through SortableJS's fallback mode (as tests/browser/test_labeling.py does)."""
    head = source.locator(".rank-card-head").bounding_box()
    page.mouse.move(head["x"] + 12, head["y"] + head["height"] / 2)
    page.mouse.down()
    page.mouse.move(head["x"] + 22, head["y"] + head["height"] / 2 + 8, steps=3)
    for steps in (12, 4, 4):
        box = target.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=steps)
    page.mouse.up()


def run_project(browser, base_url: str, slug: str, method: str, k: int, seed: int) -> list[float]:
    """Rank every prompt of ``slug``; returns the wall seconds from each prompt shown to the next."""
    # bypass_csp: wait_for_function evaluates its predicate with eval(), which the app's policy forbids
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    page.goto(f"/label/{slug}/")
    page.wait_for_selector("#rank.rank-js")
    rng, walls = random.Random(seed), []
    prompt_id = page.locator("#labeling-panel").get_attribute("data-prompt-id")
    while prompt_id:
        started = time.perf_counter()
        (rank_by_keyboard if method == "keyboard" else rank_by_drag)(page, rng, k)
        prompt_id = wait_next(page, prompt_id)
        walls.append(time.perf_counter() - started)
    context.close()
    return walls


def measure(n_prompts: int, ks: list[int]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from ranking_app.models import Project

    slugs = setup_projects(n_prompts, ks)
    port = free_port()
    server = start_server(port)
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])  # fmt: skip
            for (method, k), slug in slugs.items():
                walls = run_project(browser, f"http://127.0.0.1:{port}", slug, method, k, seed=k)
                (row,) = labeling_throughput(project=Project.objects.get(slug=slug))
                results.append({"method": method, **row, "wall": median_with_interval(walls)})
                print(f"{method} K={k}: {len(walls)} prompts, median wall {results[-1]['wall']['median']:.2f} s", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def report(results: list[dict], n_prompts: int) -> str:
    cpus = os.cpu_count()
    load = os.getloadavg()[0]
    lines = [
        "# Labeling throughput in a browser",
        "",
        f"`python -m benchmarks.bench_labeling_browser --prompts {n_prompts}` on {platform.node()} ({cpus} CPUs, "
        f"load average {load:.1f} at the end; Python {platform.python_version()}, Chromium headless, "
        "`runserver` with SQLite).",
        "",
        "A scripted labeler ranks every prompt of a project, waiting for the page between prompts but never "
        "pausing to read: the figures are the floor the tool puts under a labeler, not a person's time. "
        "Keyboard: each card's rank typed (A, B, ... in turn; a tie in one prompt of three) then Enter. "
        "Drag: each card dragged, best first, to the bottom of the ranking, then Submit clicked. "
        "Median with its distribution-free 95% interval in brackets.",
        "",
        throughput_markdown(results, with_wall=True),
        "",
        "* wall s / prompt: from the prompt on screen to the next prompt on screen, as the script timed it "
        "(keys or drags, the submit, the server's answer and the next page's rendering).",
        "* page s / ranking: what the page recorded with the ranking (`Ranking.time_spent_ms`, the figure the "
        "agreement page reports for real labelers); keystrokes: the keys the page acted on (`Ranking.keystrokes`), "
        "K digits and Enter by keyboard; by drag none (the mouse does the work; \"–\": no keys counted).",
        "* The machine is shared with other work; wall times include waiting for a core.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--k", type=int, nargs="+", default=[4, 6])
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks" / "labeling_throughput.md"))
    args = parser.parse_args(argv)
    results = measure(args.prompts, args.k)
    text = report(results, args.prompts)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
