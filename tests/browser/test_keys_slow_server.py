"""Keys never lost: ranks, ties and undo typed at machine speed while the server answers drafts 500 ms late.

The server side is really slow (the views' services sleep in the live server's thread), so a draft
save is in flight while keys keep coming and when Enter is pressed. Each sequence's expected tiers
come from the typed values alone; every stored tier is checked in the database.
"""

import time

import pytest

from ranking_app.labeling import views as labeling_views
from ranking_app.labeling.selectors import tiers_as_letters
from ranking_app.models import Ranking
from tests.browser.conftest import login
from tests.browser.test_labeling import open_first_prompt, position
from tests.conftest import make_user
from tests.labeling.factories import make_labeling_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTOSAVE_DELAY_S = 0.5


def slowed(write, seconds):
    def slow_write(**kwargs):
        time.sleep(seconds)
        return write(**kwargs)

    return slow_write


@pytest.fixture
def slow_server(monkeypatch):
    """Drafts answer 500 ms late, submits 300 ms late (so keys also arrive while a submit is on its way)."""
    monkeypatch.setattr(labeling_views, "ranking_draft_save", slowed(labeling_views.ranking_draft_save, AUTOSAVE_DELAY_S))
    monkeypatch.setattr(labeling_views, "ranking_submit", slowed(labeling_views.ranking_submit, 0.3))


# (keys in groups, a pause after each group in seconds), the tiers they mean (letters, best first)
SEQUENCES = [
    ([("1123", 0)], [["A", "B"], ["C"], ["D"]]),
    ([("1", 0.6), ("123", 0)], [["A", "B"], ["C"], ["D"]]),  # a draft is in flight when 1, 2, 3, Enter come
    ([("314", 0.55), ("B30", 0)], [["B"], ["A", "C"]]),  # Backspace undoes C's 4; D left unranked
    ([("11B", 0.2), ("221", 0.7)], [["A", "D"], ["B", "C"]]),
    ([("2", 0.6), ("2", 0.6), ("1B1", 0.1), ("1", 0)], [["C", "D"], ["A", "B"]]),
]


def type_keys(page, groups):
    for keys, pause in groups:
        for key in keys:
            page.keyboard.press("Backspace" if key == "B" else key)
        if pause:
            page.wait_for_timeout(pause * 1000)


def expected_tiers(page, letters):
    return [sorted(position(page, label) for label in tier) for tier in letters]


def test_typed_ranks_ties_and_undo_are_stored_exactly_under_a_slow_autosave(page, live_server, slow_server):
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project(n_prompts=len(SEQUENCES))
    login(page, "lab1")
    prompt_id = open_first_prompt(page, project)
    for groups, letters in SEQUENCES:
        page.wait_for_function("document.activeElement && document.activeElement.dataset.label === 'A'")
        expected = expected_tiers(page, letters)
        type_keys(page, groups)
        page.keyboard.press("Enter")
        page.wait_for_function(  # the next prompt, or the "nothing left" panel after the last
            "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId !== String(id); }",
            arg=prompt_id,
        )
        ranking = Ranking.objects.get(prompt_id=prompt_id, annotator=labeler)
        assert (ranking.status, ranking.tiers) == (Ranking.Status.SUBMITTED, expected), groups
        assert ranking.keystrokes == sum(len(keys) for keys, _ in groups) + 1  # every key and Enter, once
        prompt_id = page.locator("#labeling-panel").get_attribute("data-prompt-id")
        prompt_id = int(prompt_id) if prompt_id else None
    assert page.locator("[data-labeling-done]").is_visible()


def test_keys_typed_while_a_submit_is_on_its_way_go_to_the_next_prompt(page, live_server, slow_server):
    """Three prompts typed in one burst, Enter included, without waiting for any page."""
    labeler = make_user("lab1", "labeler")
    project = make_labeling_project(n_prompts=3)
    login(page, "lab1")
    open_first_prompt(page, project)
    page.wait_for_function("document.activeElement && document.activeElement.dataset.label === 'A'")
    for key in "1123\n2110\n31B244\n":
        page.keyboard.press("Enter" if key == "\n" else "Backspace" if key == "B" else key)
    page.locator("[data-labeling-done]").wait_for()
    stored = Ranking.objects.filter(annotator=labeler, status="submitted").order_by("submitted_at")
    shown = [tiers_as_letters(r.tiers, 4, annotator_id=labeler.pk, prompt_id=r.prompt_id) for r in stored]
    assert shown == ["A = B > C > D", "B = C > A", "B > A > C = D"]
    assert [r.keystrokes for r in stored] == [5, 5, 7]
