"""Comparison in a real browser: a reviewer opens the comparison of a job's base and tuned models from
the project page, narrows it with a filter, follows a prompt link into the prompt view and flags it.
Set GRPO_SCREENSHOTS=1 to refresh docs/screenshots/compare_*.png."""

import os
import re
from pathlib import Path

import pytest

from ranking_app.models import Prompt
from tests.browser.conftest import login
from tests.compare.factories import evaluated_job, ranked_compare_project
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def _urlconf_loaded():
    """Import the URL modules (the comparison imports torch through the engine) before the first page load."""
    from django.urls import reverse

    reverse("home")


def shot(page, name: str) -> None:
    if os.environ.get("GRPO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_reviewer_compares_a_job_with_its_base_and_opens_a_prompt(page):
    project = ranked_compare_project()
    job = evaluated_job(project)
    make_user("rev1", "reviewer")
    login(page, "rev1")

    page.goto("/")  # home lists the projects; open this one, then its "Compare models" button
    page.get_by_role("link", name=project.name).first.click()
    page.get_by_role("link", name="Compare models").click()
    page.wait_for_url(re.compile(r"/compare/cmp/"))
    assert page.locator("#pick-a").input_value() == f"base:{job.pk}"
    assert page.locator("#pick-b").input_value() == f"job:{job.pk}"
    assert page.locator('[data-figure="accuracy-a"]').inner_text() != "–"
    # the factory's evaluations store mean log-probs only: the page says so, with the job page's explanation
    assert page.locator("#compare-scoring").get_attribute("data-scoring") == "mean_logp"
    assert "mean token log-probability" in page.locator("#compare-scoring-explanation").inner_text()
    assert page.locator('[data-figure="pairwise_accuracy-chance"]').inner_text() == "0.5"
    rows = page.locator("table.compare-rows tbody tr")
    assert rows.count() == 6
    assert rows.first.get_attribute("data-prompt") == "p-001"  # largest disagreement first
    shot(page, "compare_project")

    page.locator("#pick-a").select_option("consensus")
    page.get_by_label("the tuned model got worse than its base").check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"worse=1"))
    page.wait_for_function("document.querySelectorAll('table.compare-rows tbody tr').length === 2")
    assert {rows.nth(i).get_attribute("data-prompt") for i in range(rows.count())} == {"p-000", "p-003"}

    page.locator('tr[data-prompt="p-000"] a').click()
    page.wait_for_url(re.compile(r"/compare/cmp/prompts/\d+/"))
    header = page.locator("table.compare-matrix thead")
    for key in ("consensus", "annotator:alice", "annotator:bob", f"base:{job.pk}", f"job:{job.pk}"):
        assert header.locator(f'[data-source="{key}"]').count() == 1
    pairs = page.locator(f'.against-pairs[data-source="job:{job.pk}"] li')
    assert pairs.count() == 3
    assert page.locator("td.against").count() >= 4
    shot(page, "compare_prompt")

    page.get_by_label("Note").fill("humans likely wrong here")
    page.get_by_role("button", name="Flag and send back").click()
    page.wait_for_selector(".msg-success")
    assert "sent back to the review queue" in page.locator(".msg-success").inner_text()
    prompt = Prompt.objects.get(project=project, external_id="p-000")
    assert prompt.extra_annotators == 1 and "humans likely wrong here" in prompt.review_note

    page.locator("#back-to-comparison").click()
    page.wait_for_url(re.compile(r"worse=1"))
    assert page.locator("#pick-a").input_value() == "consensus"
