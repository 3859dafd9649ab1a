"""The pages run under the real Content-Security-Policy (the other browser tests bypass it for
Playwright's own eval): no violation is reported while they load and work."""

import pytest
from django.urls import reverse

from ranking_app.ranking_store import ranking_save
from tests.browser.conftest import login
from tests.conftest import make_project, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.fixture
def strict_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_labeling_review_and_data_pages_report_no_violation(strict_page):
    project = make_project("csp", n_prompts=2, target_annotators=1)
    make_user("lab1", "labeler")
    boss = make_user("boss", "admin", "reviewer")
    ranking_save(prompt=project.prompts.first(), annotator=boss, tiers=[[0], [1]], status="submitted")
    page = strict_page
    login(page, "lab1")
    page.goto(reverse("labeling:start", args=[project.slug]))
    page.locator(".rank-card").first.focus()
    page.keyboard.press("1")  # rank.js runs: the keyboard places a card
    assert page.locator("[data-rank-zone]").count() > 0
    violations = page.evaluate("window.__csp")
    for url in ("/", f"/data/projects/{project.slug}/", f"/review/{project.slug}/", "/jobs/", "/api/docs/"):
        page.context.clear_cookies()
        login(page, "boss")
        page.goto(url)
        page.wait_for_load_state("networkidle")
        violations += [f"{url}: {v}" for v in page.evaluate("window.__csp")]
    assert violations == []
    with pytest.raises(Exception):  # noqa: B017 - the recorder does see a real violation
        page.add_script_tag(content="window.__inline = 1")
    assert page.evaluate("window.__csp") and page.evaluate("window.__inline") is None
