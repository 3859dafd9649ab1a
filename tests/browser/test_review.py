"""Adjudication in a real browser: reviewer opens the queue, fixes a ranking with the shared rank
widget (keyboard and drag), and the prompt becomes validated. Set GRPO_SCREENSHOTS=1 to refresh
docs/screenshots/review_*.png."""

import os
from pathlib import Path

import pytest

from ranking_app.models import Prompt, Ranking
from ranking_app.ranking_store import ranking_save
from ranking_app.review.validated import prompt_statuses
from tests.browser.conftest import drag, login
from tests.conftest import make_project, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True)
def _urlconf_loaded():
    """Import every URL module (some import torch, ~20 s on a busy machine) before the browser's
    first request, so page loads are not charged with it and stay within Playwright's timeout."""
    from django.urls import reverse

    reverse("home")


def shot(page, name: str) -> None:
    if os.environ.get("GRPO_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def disagreeing_project():
    """p-000 and p-001 need review: three annotators who disagree."""
    project = make_project("demo", n_prompts=2, agreement_threshold=0.8)
    users = [make_user(f"ann{i}", "labeler") for i in range(3)]
    rankings = [[[0], [1], [2], [3]], [[3], [2], [1], [0]], [[1], [0], [2], [3]]]
    for prompt in project.prompts.all():
        for user, tiers in zip(users, rankings, strict=True):
            ranking_save(prompt=prompt, annotator=user, tiers=tiers, status=Ranking.Status.SUBMITTED)
    return project


def card(page, label):
    return page.locator(f'#adjudicate .rank-card[data-label="{label}"]')


def test_reviewer_adjudicates_with_the_keyboard_and_the_prompt_is_validated(page, live_server):
    project = disagreeing_project()
    make_user("rev1", "reviewer")
    login(page, "rev1")

    page.goto(f"/review/{project.slug}/")
    assert page.locator("[data-figure=status-counts]").inner_text().count("2") >= 1
    shot(page, "review_dashboard")
    page.click("text=Review queue")
    page.click("a:text('p-000')")
    page.wait_for_selector("#adjudicate.rank-js")
    assert page.locator(".tier-matrix tr.disputed").count() == 4
    # The widget starts from the Borda consensus: B, A, C, D.
    assert page.locator("#adjudicate [data-rank-tier]").count() == 4
    shot(page, "review_prompt")

    card(page, "A").focus()
    page.keyboard.press("1")  # A joins B in the best tier
    card(page, "D").focus()
    page.keyboard.press("0")  # D goes back to the unranked tray
    assert card(page, "D").locator("xpath=ancestor::*[@data-rank-tray]").count() == 1
    page.fill("#adjudicate textarea[name=note]", "A and B are equally good")
    page.click("#adjudicate [data-rank-submit]")

    page.wait_for_selector("text=adjudicated: it is now validated")
    prompt = Prompt.objects.get(project=project, external_id="p-000")
    assert prompt.adjudicated_tiers == [[0, 1], [2]]
    assert prompt_statuses(project)[prompt.pk].status == "validated"
    assert "p-001" in page.locator("h1").inner_text()  # on to the next prompt of the queue


def test_reviewer_adjudicates_by_dragging(page, live_server):
    project = disagreeing_project()
    make_user("rev1", "reviewer")
    login(page, "rev1")
    prompt = Prompt.objects.get(project=project, external_id="p-001")
    page.goto(f"/review/{project.slug}/prompts/{prompt.pk}/")
    page.wait_for_selector("#adjudicate.rank-js")
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.locator("#adjudicate .rank-board").scroll_into_view_if_needed()

    first_tier = page.locator("#adjudicate [data-rank-tier] .rank-tier-cards").first
    drag(page, card(page, "D"), first_tier)  # D tied with the best
    page.click("#adjudicate [data-rank-submit]")
    page.wait_for_selector("text=adjudicated: it is now validated")
    prompt.refresh_from_db()
    assert prompt.adjudicated_tiers == [[1, 3], [0], [2]]


def test_labeler_sees_403_on_the_review_pages(page, live_server):
    project = disagreeing_project()
    login(page, "ann0")
    response = page.goto(f"/review/{project.slug}/")
    assert response.status == 403
    response = page.goto(f"/review/{project.slug}/queue/")
    assert response.status == 403
