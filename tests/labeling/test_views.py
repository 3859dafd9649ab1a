"""Labeling pages through the Django test client: the no-JS form, htmx partials, rules, conflicts."""

import re

import pytest
from django.urls import reverse

from ranking_app.cards import display_order
from ranking_app.models import Assignment, Ranking, RankingRevision
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_user
from tests.labeling.factories import make_labeling_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return make_labeling_project(n_prompts=3, k=4, target_annotators=2)


def open_next(client, project):
    response = client.get(reverse("labeling:start", args=[project.slug]))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.context["prompt"], page


def form(prompt, version=0, action="submit", **ranks):
    data = {"version": str(version), "action": action}
    for position in range(prompt.responses.count()):
        data[f"rank_{position}"] = ""
    data.update({f"rank_{k.removeprefix('r')}": str(v) for k, v in ranks.items()})
    return data


def submit_url(prompt):
    return reverse("labeling:submit", args=[prompt.project.slug, prompt.pk])


def test_anonymous_users_go_to_login(client, demo):
    response = client.get(reverse("labeling:start", args=[demo.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_rank_page_works_as_a_plain_form(client, labeler, demo):
    client.force_login(labeler)
    prompt, page = open_next(client, demo)
    html = page.content.decode()
    for position in range(4):
        assert f'name="rank_{position}"' in html
    assert 'name="action" value="draft"' in html and 'name="action" value="skip"' in html

    response = client.post(submit_url(prompt), form(prompt, r2=1, r0=2, r3=2))
    assert response.status_code == 302 and response["Location"] == reverse("labeling:start", args=[demo.slug])
    ranking = Ranking.objects.get(prompt=prompt, annotator=labeler)
    assert (ranking.status, ranking.tiers, ranking.version) == ("submitted", [[2], [0, 3]], 1)
    assert not Assignment.objects.filter(prompt=prompt, annotator=labeler).exists()
    next_prompt, _ = open_next(client, demo)
    assert next_prompt != prompt


def test_responses_are_shuffled_per_labeler_and_stable_across_reloads(client, demo):
    project = make_labeling_project(slug="wide", n_prompts=1, k=8)
    prompt = project.prompts.get()
    orders = {}
    for name in ("lab-a", "lab-b"):
        user = make_user(name)
        client.force_login(user)
        first = client.get(reverse("labeling:rank", args=[project.slug, prompt.pk])).content.decode()
        again = client.get(reverse("labeling:rank", args=[project.slug, prompt.pk])).content.decode()
        shown = [int(p) for p in re.findall(r'class="rank-card" data-position="(\d+)"', first)]
        assert shown == [int(p) for p in re.findall(r'class="rank-card" data-position="(\d+)"', again)]
        assert sorted(shown) == list(range(8))
        assert shown == display_order(list(range(8)), annotator_id=user.pk, prompt_id=prompt.pk)
        orders[name] = shown
    assert orders["lab-a"] != orders["lab-b"]


def test_markdown_is_rendered_and_raw_html_is_not(client, labeler, demo):
    client.force_login(labeler)
    _, page = open_next(client, demo)
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert '<code class="language-python">' in html and "<li><strong>Hit</strong>" in html
    assert "fast memory</strong>.<br>" in html  # line breaks kept


def test_a_submit_that_breaks_the_rules_is_explained_and_kept_as_a_draft(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), form(prompt, r1=1))
    assert response.status_code == 422
    assert "rank at least 2 responses" in response.content.decode()
    ranking = Ranking.objects.get(prompt=prompt, annotator=labeler)
    assert (ranking.status, ranking.tiers) == ("draft", [[1]])
    assert response.context["widget"].version == ranking.version


def test_project_rules_on_ties_and_partial_rankings(client, labeler):
    strict = make_labeling_project(slug="strict", allow_ties=False, allow_partial=False)
    client.force_login(labeler)
    prompt, page = open_next(client, strict)
    assert "No ties" in page.content.decode() and "Every response must be ranked" in page.content.decode()
    response = client.post(submit_url(prompt), form(prompt, r0=1, r1=1, r2=2))
    text = response.content.decode()
    assert "ties are not allowed" in text and "every response must be ranked" in text
    assert not Ranking.objects.exists()  # a tie is not even a valid draft here...
    assert [len(t.cards) for t in response.context["widget"].tiers] == [2, 1]  # ...but stays on screen


def test_the_tiers_rank_js_posts_are_stored_as_posted_after_one_check_of_the_rules(client, labeler):
    strict = make_labeling_project(slug="strict-tiers", allow_ties=False, allow_partial=True)
    client.force_login(labeler)
    prompt, _ = open_next(client, strict)
    data = {"version": "0", "action": "submit", "tiers": "[[1], [0, 3]]"}
    response = client.post(submit_url(prompt), data)
    assert response.status_code == 422 and "ties are not allowed" in response.content.decode()
    assert not Ranking.objects.exists()
    response = client.post(submit_url(prompt), {**data, "tiers": "[[3], [1], [0]]"})
    assert response.status_code == 302
    assert Ranking.objects.get(prompt=prompt, annotator=labeler).tiers == [[3], [1], [0]]


def test_a_bad_tiers_field_names_the_field_and_stores_nothing(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), {"version": "0", "action": "submit", "tiers": "[[0], [9]]"})
    assert response.status_code == 422
    assert "tiers: response position 9 is out of range 0..3" in response.content.decode()
    assert not Ranking.objects.exists()


def test_a_bad_tier_value_names_the_field_and_stores_nothing(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), form(prompt, r0=1, r1="nine"))
    assert response.status_code == 422
    assert "rank_1: tier must be a number from 1 to 4" in response.content.decode()
    assert not Ranking.objects.exists()
    response = client.post(submit_url(prompt), {**form(prompt, r0=1, r1=2), "version": "x"})
    assert "version must be a whole number" in response.content.decode()
    assert not Ranking.objects.exists()


def test_no_js_save_draft_keeps_the_page(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), form(prompt, action="draft", r3=1))
    assert response.status_code == 200 and "Draft saved (version 1)" in response.content.decode()
    assert Ranking.objects.get(prompt=prompt).status == "draft"
    assert Assignment.objects.filter(prompt=prompt, annotator=labeler).exists()


def test_a_stale_submit_shows_a_conflict_keeps_the_arrangement_and_a_resubmit_wins(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]])  # another tab saved version 1
    response = client.post(submit_url(prompt), form(prompt, version=0, r3=1, r2=2))
    text = response.content.decode()
    assert "you edited version 0, the saved one is version 1" in text
    assert Ranking.objects.get(prompt=prompt).tiers == [[0], [1]]  # nothing overwritten
    widget = response.context["widget"]
    assert widget.version == 1 and [c.label for c in widget.tiers[0].cards]  # the posted tiers are shown
    assert {c.position for c in widget.tiers[0].cards} == {3}
    response = client.post(submit_url(prompt), form(prompt, version=1, r3=1, r2=2))
    assert response.status_code == 302
    assert Ranking.objects.get(prompt=prompt).tiers == [[3], [2]]


def test_autosave_answers_htmx_with_the_new_version_and_conflicts(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    url = reverse("labeling:save", args=[demo.slug, prompt.pk])
    response = client.post(url, form(prompt, r1=1), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "Draft saved (version 1)" in text and 'id="rank-version" value="1" hx-swap-oob="true"' in text
    response = client.post(url, form(prompt, version=0, r2=1), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "data-rank-conflict" in text and 'data-version="1"' in text and "hx-swap-oob" not in text
    assert Ranking.objects.get(prompt=prompt).tiers == [[1]]
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]], status="submitted")
    response = client.post(url, form(prompt, version=2, r2=1), HTTP_HX_REQUEST="true")
    assert "already submitted" in response.content.decode()
    assert Ranking.objects.get(prompt=prompt).status == "submitted"


def test_skip_needs_a_reason(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), form(prompt, action="skip"))
    assert response.status_code == 422 and "Choose why you are skipping" in response.content.decode()
    response = client.post(submit_url(prompt), {**form(prompt, action="skip"), "skip_reason": "other"})
    assert 'required for &quot;Other&quot;' in response.content.decode()
    assert not Ranking.objects.exists()
    response = client.post(
        submit_url(prompt), {**form(prompt, action="skip"), "skip_reason": "other", "skip_detail": "two are empty"}
    )
    assert response.status_code == 302
    ranking = Ranking.objects.get(prompt=prompt)
    assert ranking.status == "skipped" and ranking.skip_reason.endswith("two are empty")
    assert not Assignment.objects.exists()


def test_htmx_submit_follows_to_the_next_prompt_as_a_partial(client, labeler, demo):
    client.force_login(labeler)
    prompt, _ = open_next(client, demo)
    response = client.post(submit_url(prompt), form(prompt, r0=1, r1=2), HTTP_HX_REQUEST="true", follow=True)
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text and text.lstrip().startswith("<div id=\"labeling-panel\"")
    assert response.context["prompt"] != prompt
    assert response["HX-Push-Url"] == reverse("labeling:rank", args=[demo.slug, response.context["prompt"].pk])
    assert "HX-Request" in response["Vary"]
    assert "submitted" in text  # the flash message travels with the partial


def test_the_done_page_when_nothing_is_left(client, labeler):
    project = make_labeling_project(slug="tiny", n_prompts=1)
    client.force_login(labeler)
    prompt, _ = open_next(client, project)
    client.post(submit_url(prompt), form(prompt, r0=1, r1=2))
    page = client.get(reverse("labeling:start", args=[project.slug]))
    assert page.status_code == 200 and "Nothing left for you to rank" in page.content.decode()


def test_a_full_prompt_sends_a_third_labeler_back_to_the_queue(client, demo):
    prompt = demo.prompts.order_by("id").first()
    for name in ("a", "b"):
        client.force_login(make_user(name))
        client.get(reverse("labeling:rank", args=[demo.slug, prompt.pk]))
    client.force_login(make_user("c"))
    response = client.get(reverse("labeling:rank", args=[demo.slug, prompt.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("labeling:start", args=[demo.slug])
    response = client.post(submit_url(prompt), form(prompt, r0=1, r1=2))
    assert response.status_code == 302 and not Ranking.objects.exists()


def test_history_lists_only_my_rankings_and_edits_become_revisions(client, labeler, labeler2, demo):
    prompt = demo.prompts.order_by("id").first()
    ranking_save(prompt=prompt, annotator=labeler2, tiers=[[3], [2]], status="submitted")
    client.force_login(labeler)
    client.get(reverse("labeling:rank", args=[demo.slug, prompt.pk]))
    client.post(submit_url(prompt), form(prompt, r0=1, r1=1, r2=2))
    page = client.get(reverse("labeling:history", args=[demo.slug]))
    rows = list(page.context["page"])
    assert [r.annotator for r in rows] == [labeler]
    shown = display_order(list(range(4)), annotator_id=labeler.pk, prompt_id=prompt.pk)
    letter = {pos: "ABCD"[i] for i, pos in enumerate(shown)}
    assert rows[0].letters == f"{' = '.join(sorted([letter[0], letter[1]]))} > {letter[2]}"

    edit = client.get(reverse("labeling:rank", args=[demo.slug, prompt.pk]))
    assert "Save changes" in edit.content.decode() and edit.context["widget"].autosave_url == ""
    response = client.post(submit_url(prompt), form(prompt, version=1, r2=1, r0=2))
    assert response.status_code == 302 and response["Location"] == reverse("labeling:history", args=[demo.slug])
    ranking = Ranking.objects.get(prompt=prompt, annotator=labeler)
    assert (ranking.status, ranking.tiers, ranking.version) == ("submitted", [[2], [0]], 2)
    assert RankingRevision.objects.filter(ranking=ranking).count() == 2
    response = client.post(submit_url(prompt), form(prompt, version=2, action="draft", r2=1))
    assert "already submitted" in response.content.decode()
    assert Ranking.objects.get(pk=ranking.pk).status == "submitted"


def test_labelers_never_see_other_rankings_or_the_consensus(client, labeler, labeler2, demo):
    prompt = demo.prompts.order_by("id").first()
    other = ranking_save(prompt=prompt, annotator=labeler2, tiers=[[3], [1], [0, 2]], status="submitted")
    client.force_login(labeler)
    page = client.get(reverse("labeling:rank", args=[demo.slug, prompt.pk]))
    html = page.content.decode()
    assert page.context["ranking"] is None
    assert all(card.tier is None for card in page.context["widget"].cards)
    assert 'selected>1' not in html.replace(" (best)", "") and "tier 1" not in html
    assert labeler2.username not in html and "consensus" not in html.lower() and "agreement" not in html.lower()
    history = client.get(reverse("labeling:history", args=[demo.slug])).content.decode()
    assert labeler2.username not in history and f'data-ranking-id="{other.pk}"' not in history
    # Submitting mine leaves theirs alone.
    client.post(submit_url(prompt), form(prompt, r0=1, r1=2))
    other.refresh_from_db()
    assert other.tiers == [[3], [1], [0, 2]] and other.version == 1


def test_progress_counts_my_work_and_the_project_s(client, labeler, labeler2, demo):
    ranking_save(prompt=demo.prompts.order_by("id").last(), annotator=labeler2, tiers=[[0], [1]], status="submitted")
    client.force_login(labeler)
    prompt, page = open_next(client, demo)
    assert page.context["progress"] == {
        "mine_done": 0, "mine_target": 3, "mine_percent": 0,
        "project_done": 1, "project_target": 6, "project_percent": 16,
    }
    client.post(submit_url(prompt), form(prompt, r0=1, r1=2))
    _, page = open_next(client, demo)
    progress = page.context["progress"]
    assert (progress["mine_done"], progress["project_done"]) == (1, 2)
    assert "You: <strong>1</strong> / 3 prompts" in page.content.decode()


def test_fifty_responses_render_and_submit(client, labeler):
    project = make_labeling_project(slug="wide50", n_prompts=1, k=50)
    client.force_login(labeler)
    prompt, page = open_next(client, project)
    assert [c.label for c in page.context["widget"].cards][-2:] == ["AW", "AX"]
    ranks = {f"r{p}": 50 - p for p in range(50)}
    response = client.post(submit_url(prompt), form(prompt, **ranks))
    assert response.status_code == 302
    assert Ranking.objects.get(prompt=prompt).tiers == [[p] for p in range(49, -1, -1)]
