"""The rank screen in a real browser: drag-and-drop, keyboard only, conflicts, screenshots."""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from ranking_app.models import Ranking
from tests.browser.conftest import drag, login
from tests.conftest import make_user
from tests.labeling.factories import make_labeling_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(autouse=True, scope="module")
def _urlconf_imported():
    """Import every URL module (some pull in torch) before the browser's first request, which
    would otherwise wait for it and can pass the 10 s page timeout on a busy machine."""
    from django.urls import get_resolver

    assert get_resolver().url_patterns


def card(page, label):
    return page.locator(f'#rank .rank-card[data-label="{label}"]')


def position(page, label) -> int:
    return int(card(page, label).get_attribute("data-position"))


def last_zone(page):
    return page.locator("#rank [data-rank-newtier] [data-rank-list]").last


def tier_list(page, index):
    return page.locator("#rank [data-rank-tier] .rank-tier-cards").nth(index)


def open_first_prompt(page, project):
    page.goto(f"/label/{project.slug}/")
    page.wait_for_selector("#rank.rank-js")
    return int(page.locator("#labeling-panel").get_attribute("data-prompt-id"))


def wait_for_next_prompt(page, previous_id):
    page.wait_for_function(
        "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId && p.dataset.promptId !== String(id); }",
        arg=previous_id,
    )


def test_drag_a_tie_and_leave_one_unranked_then_submit(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)

    drag(page, card(page, "B"), last_zone(page))  # B best
    drag(page, card(page, "A"), last_zone(page))  # A second
    drag(page, card(page, "C"), tier_list(page, 1))  # C tied with A
    page.locator("#rank-live").filter(has_text="Response C in tier 2 of 2, tied with A").wait_for()
    assert page.locator("#rank [data-rank-tier]").count() == 2
    assert card(page, "D").locator("xpath=ancestor::*[@data-rank-tray]").count() == 1
    expected = [[position(page, "B")], sorted([position(page, "A"), position(page, "C")])]

    page.click("#rank [data-rank-submit]")
    wait_for_next_prompt(page, prompt_id)
    ranking = Ranking.objects.get(prompt_id=prompt_id, annotator=labeler)
    assert ranking.status == Ranking.Status.SUBMITTED
    assert ranking.tiers == expected
    assert "/label/demo/p/" in page.url and str(prompt_id) not in page.url.split("/p/")[1]


def press(page, *keys):
    for key in keys:
        page.keyboard.press(key)


def test_keyboard_only_ranking_with_tie_unranked_and_submit(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    assert page.evaluate("document.activeElement.dataset.label") == "A"  # first card has focus

    press(page, "2")  # A -> tier 1 (a number past the last tier makes a new one); focus moves on to B
    assert page.evaluate("document.activeElement.dataset.label") == "B"
    press(page, "j", "K", "K", "K")  # C: new tier at the bottom, tie with A, then a new tier above A
    press(page, "k", "2")  # D joins tier 2 with A
    live = page.locator("#rank-live")
    live.filter(has_text="tied with A").wait_for()
    expected = [[position(page, "C")], sorted([position(page, "A"), position(page, "D")])]
    press(page, "?")
    assert page.locator("#rank-help").is_visible()
    press(page, "Escape")
    assert not page.locator("#rank-help").is_visible()
    card(page, "C").focus()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/submit/")) as posted:
        press(page, "Enter")
    form = parse_qs(posted.value.post_data)
    assert json.loads(form["tiers"][0]) == expected  # the browser posts the ranking itself...
    assert not [name for name in form if name.startswith("rank_")]  # ...and no per-card tier numbers
    wait_for_next_prompt(page, prompt_id)
    ranking = Ranking.objects.get(prompt_id=prompt_id, annotator=labeler)
    assert (ranking.status, ranking.tiers) == (Ranking.Status.SUBMITTED, expected)

    # Skip the next prompt with the keyboard too.
    second_id = int(page.locator("#labeling-panel").get_attribute("data-prompt-id"))
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('rank-card')")
    press(page, "x", "Space", "Tab", "Tab", "Enter")
    wait_for_next_prompt(page, second_id)
    skipped = Ranking.objects.get(prompt_id=second_id, annotator=labeler)
    assert skipped.status == Ranking.Status.SKIPPED and "expertise" in skipped.skip_reason


def test_keyboard_without_ties_inserts_at_the_typed_place(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project(allow_ties=False)
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    long_card, short_card = page.locator('#rank .rank-card[data-position="0"]'), page.locator('#rank .rank-card[data-position="3"]')
    assert long_card.locator("[data-rank-expand]").is_visible() and not short_card.locator("[data-rank-expand]").is_visible()
    clipped = long_card.locator(".rank-card-body").bounding_box()["height"]
    long_card.focus()
    press(page, "e")  # expand the long answer
    assert "is-expanded" in long_card.get_attribute("class")
    assert long_card.locator(".rank-card-body").bounding_box()["height"] > clipped + 100
    press(page, "e")
    assert "is-expanded" not in long_card.get_attribute("class")
    card(page, "A").focus()
    press(page, "1")  # A first; focus -> B
    press(page, "1")  # B first, A second; focus -> C
    press(page, "3")  # C third; focus -> D
    press(page, "2")  # D second: B, D, A, C
    expected = [[position(page, label)] for label in "BDAC"]
    page.click("#rank [data-rank-submit]")
    wait_for_next_prompt(page, prompt_id)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected


def test_stale_version_in_a_second_tab_shows_a_conflict_and_loses_nothing(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    other = page.context.new_page()
    other.set_default_timeout(10_000)
    other.goto(page.url)
    other.wait_for_selector("#rank.rank-js")

    page.keyboard.press("1")  # tab 1: A best
    page.locator("[data-rank-autosave]").filter(has_text="version 1").wait_for()
    other.bring_to_front()
    card(other, "B").focus()
    other.keyboard.press("1")  # tab 2 still holds version 0: B best
    conflict = other.locator("[data-rank-conflict]")
    conflict.wait_for()
    assert "version 0" in conflict.inner_text() and "version 1" in conflict.inner_text()
    ranking = Ranking.objects.get(prompt_id=prompt_id, annotator=labeler)
    assert (ranking.version, ranking.tiers) == (1, [[position(page, "A")]])
    # Tab 2's arrangement is still on screen; keeping it saves it over the other one.
    assert card(other, "B").locator("xpath=ancestor::*[@data-rank-tier]").count() == 1
    other.click("[data-rank-keep-mine]")
    other.locator("[data-rank-autosave]").filter(has_text="version 2").wait_for()
    ranking.refresh_from_db()
    assert (ranking.version, ranking.tiers) == (2, [[position(other, "B")]])
    other.close()


@pytest.mark.parametrize("name,viewport", [("rank-desktop", (1280, 900)), ("rank-mobile", (390, 1100))])
def test_screenshots_of_the_rank_screen(browser, live_server, tmp_path, name, viewport):
    make_user("lab1", "labeler")
    project = make_labeling_project()
    context = browser.new_context(base_url=live_server.url, viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    login(page, "lab1")
    open_first_prompt(page, project)
    press(page, "j", "1", "1", "k", "2")  # a best answer, a tie below it, two cards still unranked
    page.locator("[data-rank-autosave]").filter(has_text="Draft saved").wait_for()
    page.evaluate("document.activeElement.blur()")
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    context.close()
    assert path.stat().st_size > 10_000
    if os.environ.get("GRPO_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)


def test_ten_prompts_in_a_row_with_the_keyboard_only(page, live_server):
    """The issue's bar: a new labeler ranks 10 prompts with keys, each stored exactly as shown."""
    labeler = make_user("newbie", "labeler")
    project = make_labeling_project(slug="ten", n_prompts=10)
    login(page, "newbie")
    prompt_id = open_first_prompt(page, project)
    for _ in range(10):
        page.wait_for_function("document.activeElement && document.activeElement.dataset.label === 'A'")
        press(page, "1", "2", "2", "3")  # A best, B = C, D last (focus walks the unranked cards)
        expected = [[position(page, "A")], sorted([position(page, "B"), position(page, "C")]), [position(page, "D")]]
        press(page, "Enter")
        page.wait_for_function(
            "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId !== String(id); }",
            arg=prompt_id,
        )
        assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected
        prompt_id = page.locator("#labeling-panel").get_attribute("data-prompt-id")
        prompt_id = int(prompt_id) if prompt_id else None
    assert page.locator("[data-labeling-done]").is_visible()
    assert Ranking.objects.filter(annotator=labeler, status="submitted").count() == 10


def test_without_javascript_the_page_is_a_plain_form(browser, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, "lab1")
    page.goto(f"/label/{project.slug}/")
    prompt_id = int(page.locator("#labeling-panel").get_attribute("data-prompt-id"))
    assert page.locator("#rank select").first.is_visible()
    page.select_option('#rank .rank-card[data-label="D"] select', "1")
    page.select_option('#rank .rank-card[data-label="A"] select', "2")
    page.select_option('#rank .rank-card[data-label="B"] select', "2")
    expected = [[position(page, "D")], sorted([position(page, "A"), position(page, "B")])]
    page.click("#rank [data-rank-submit]")
    page.wait_for_url(lambda url: f"/p/{prompt_id}/" not in url)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected
    context.close()


def test_back_button_reloads_and_a_lost_session_keeps_the_cards(page, live_server):
    make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    press(page, "1", "2")
    page.click("#rank [data-rank-submit]")
    wait_for_next_prompt(page, prompt_id)
    page.go_back()  # a fresh page from the server: the submitted ranking, ready to edit
    page.wait_for_function(f"document.querySelector('#labeling-panel').dataset.promptId === '{prompt_id}'")
    page.wait_for_selector("#rank.rank-js")
    assert "Save changes" in page.locator("#rank [data-rank-submit]").inner_text()
    assert page.locator("#rank [data-rank-tier]").count() == 2

    page.goto(f"/label/{project.slug}/")
    page.wait_for_selector("#rank.rank-js")
    page.context.clear_cookies(name="sessionid")
    press(page, "1")
    page.locator("[data-rank-autosave]").filter(has_text="You were logged out").wait_for()
    assert page.locator("#rank [data-rank-tier]").count() == 1 and page.locator("#rank .rank-card").count() == 4
    page.context.clear_cookies()  # the CSRF cookie too: the server refuses with 403
    card(page, "B").focus()
    press(page, "2")
    page.locator("[data-rank-autosave]").filter(has_text="HTTP 403").wait_for()
    assert page.locator("#rank [data-rank-tier]").count() == 2


def shown_tiers(page):
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#rank [data-rank-tier]')).map(
            t => Array.from(t.querySelectorAll('.rank-card')).map(c => c.dataset.label).sort())"""
    )


def test_typing_each_cards_rank_gives_the_dense_order_of_what_was_typed(page, live_server):
    """2, 1, 3, 4 typed on A-D is B > A > C > D (not "join tier N"); K + 1 keys in all."""
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    press(page, "2")
    assert page.evaluate("document.activeElement.dataset.label") == "B"  # focus walks A, B, C, D
    press(page, "1", "3", "4")
    assert shown_tiers(page) == [["B"], ["A"], ["C"], ["D"]]
    expected = [[position(page, label)] for label in "BACD"]
    press(page, "Enter")
    wait_for_next_prompt(page, prompt_id)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected


def test_typed_ties_an_unranked_card_and_backspace_undo(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    press(page, "3", "1", "4")  # A = 3, B = 1, C = 4 (a mistake)
    press(page, "Backspace")  # undo C's 4: focus back on C
    assert page.evaluate("document.activeElement.dataset.label") == "C"
    assert shown_tiers(page) == [["B"], ["A"]]
    press(page, "3", "0")  # C ties with A; D unranked
    page.locator("#rank-live").filter(has_text="unranked").wait_for()
    assert shown_tiers(page) == [["B"], ["A", "C"]]
    assert card(page, "D").locator("xpath=ancestor::*[@data-rank-tray]").count() == 1
    expected = [[position(page, "B")], sorted([position(page, "A"), position(page, "C")])]
    press(page, "Enter")
    wait_for_next_prompt(page, prompt_id)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected


def test_without_ties_a_typed_rank_that_is_taken_moves_the_holder_down(page, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project(allow_ties=False)
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    press(page, "1", "2", "3", "2")  # D takes 2: B -> 3, C -> 4
    assert shown_tiers(page) == [["A"], ["D"], ["B"], ["C"]]
    expected = [[position(page, label)] for label in "ADBC"]
    press(page, "Enter")
    wait_for_next_prompt(page, prompt_id)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected


def test_a_phone_sized_page_ranks_by_tapping(browser, live_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project()
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)

    def tap(label, value):
        card(page, label).locator(f'[data-rank-tap][value="{value}"]').tap()

    tap("C", "1")
    tap("A", "2")
    tap("D", "2")  # tie with A
    tap("B", "3")
    tap("B", "")  # back to unranked
    assert shown_tiers(page) == [["C"], ["A", "D"]]
    assert card(page, "A").locator('[data-rank-tap][value="2"]').get_attribute("aria-pressed") == "true"
    # The submit bar never lies over a card's text.
    bar = page.locator("#rank .rank-actions").bounding_box()
    for label in "ABCD":
        body = card(page, label).locator(".rank-card-body").bounding_box()
        assert body["y"] + body["height"] <= bar["y"] or body["y"] >= bar["y"] + bar["height"]
    expected = [[position(page, "C")], sorted([position(page, "A"), position(page, "D")])]
    page.locator("#rank [data-rank-submit]").tap()
    wait_for_next_prompt(page, prompt_id)
    assert Ranking.objects.get(prompt_id=prompt_id, annotator=labeler).tiers == expected
    context.close()
