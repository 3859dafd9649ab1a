"""Real-browser fixtures: Playwright driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: it launches /usr/bin/chromium (installed by `make test`), headless,
with the flags that keep it off the closed network. Playwright's sync API runs an event loop in
the test thread, so Django's async-safety check is relaxed for these tests only.
"""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GRPO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # bypass_csp: Playwright's wait_for_function evaluates its predicate with eval(), which the app's
    # Content-Security-Policy forbids; tests/browser/test_csp.py checks the pages under the real policy.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username: str, password: str = "pw-123456") -> None:
    """Log in through the real login form."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def drag(page, source, target) -> None:
    """Mouse drag through SortableJS (fallback mode): press on the card header, move until SortableJS has put
    the placeholder (ghost) into ``target``, release. Drop zones open up when a drag starts and the ghost
    moving through them shifts the layout (with a 120 ms animation), so the target is re-measured on every
    try; releasing on a stale position could drop the card in the tier next to it."""
    handle = source.locator(".rank-card-head")
    handle.hover(position={"x": 12, "y": 8})  # Playwright waits until the card stands still (after a move's animation)
    head = handle.bounding_box()
    page.mouse.down()
    page.mouse.move(head["x"] + 22, head["y"] + head["height"] / 2 + 8, steps=3)
    for attempt in range(10):
        page.wait_for_timeout(150)
        box = target.bounding_box()
        y = box["y"] + box["height"] * (0.5 if attempt % 2 == 0 else 0.3)
        page.mouse.move(box["x"] + box["width"] / 2, y, steps=6)
        if target.locator(".rank-ghost").count():
            break
    page.mouse.up()
    page.wait_for_timeout(50)
