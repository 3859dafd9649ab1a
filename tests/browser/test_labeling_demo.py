"""The issue's bar on the real demo data: labeler4 (new) ranks 10 demo prompts by typing each card's rank."""

import pytest
from django.core.management import call_command

from ranking_app.models import Ranking
from tests.browser.conftest import login
from tests.browser.test_labeling import _urlconf_imported, open_first_prompt  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOWN_TIERS = """() => {
  const tiers = [];
  document.querySelectorAll('#rank [data-rank-tier]').forEach(t => {
    tiers.push(Array.from(t.querySelectorAll('.rank-card')).map(c => parseInt(c.dataset.position, 10)).sort((a, b) => a - b));
  });
  return tiers;
}"""


def test_new_demo_labeler_ranks_ten_demo_prompts_with_the_keyboard(page, live_server):
    call_command("seed_demo", "--no-real", verbosity=0)
    from ranking_app.models import Project

    project = Project.objects.exclude(slug__in=["lamp", "oasst"]).order_by("id").first()
    login(page, "labeler4", "labeler4-demo")
    prompt_id = open_first_prompt(page, project)
    for _ in range(10):
        page.wait_for_function("document.activeElement && document.activeElement.classList.contains('rank-card')")
        labels = page.evaluate("Array.from(document.querySelectorAll('#rank .rank-card')).map(c => c.dataset.label)")
        for key in ("3", "1", "3", "0"):  # A = 3, B = 1 (best), C = 3 (tied with A), D unranked
            page.keyboard.press(key)
        shown = page.evaluate(SHOWN_TIERS)
        at = {label: int(page.locator(f'#rank .rank-card[data-label="{label}"]').get_attribute("data-position"))
              for label in labels}
        assert shown == [[at["B"]], sorted([at["A"], at["C"]])]  # D and every card after it stay unranked
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId !== String(id); }",
            arg=prompt_id,
        )
        stored = Ranking.objects.get(prompt_id=prompt_id, annotator__username="labeler4")
        assert (stored.status, stored.tiers) == ("submitted", shown)
        prompt_id = page.locator("#labeling-panel").get_attribute("data-prompt-id")
    assert Ranking.objects.filter(annotator__username="labeler4", status="submitted").count() == 10
