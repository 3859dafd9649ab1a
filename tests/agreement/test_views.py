"""Reviewer screens through the Django test client (no JavaScript: the plain-form path)."""

import pytest
from django.urls import reverse

from ranking_app.review.validated import prompt_statuses

from .conftest import submit

AGREE = [[0], [1], [2], [3]]
REVERSED = [[3], [2], [1], [0]]


@pytest.fixture
def reviewed_project(project, annotators):
    """p-000 agrees (4 rankings, validated), p-001 disagrees a lot, p-002 a little (both needs_review at 0.95)."""
    project.agreement_threshold = 0.95
    project.save()
    p0, p1, p2 = project.prompts.all()
    for user in annotators:
        submit(p0, user, AGREE)
    for user, tiers in zip(annotators, [AGREE, REVERSED, [[1], [0], [2], [3]]], strict=False):
        submit(p1, user, tiers)
    for user, tiers in zip(annotators, [AGREE, AGREE, [[1], [0], [2], [3]]], strict=False):
        submit(p2, user, tiers)
    return project


@pytest.mark.django_db
def test_dashboard_shows_alpha_w_histogram_status_counts_thresholds_and_annotators(client, reviewed_project, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("review:dashboard", args=[reviewed_project.slug]))
    assert response.status_code == 200
    summary = response.context["summary"]
    html = response.content.decode()
    assert f"{summary['krippendorff_alpha']:.3f}" in html
    assert f"{summary['mean_kendall_w']:.3f}" in html
    assert summary["status_counts"] == {"validated": 1, "needs_review": 2, "in_progress": 0}
    assert sum(b["count"] for b in summary["histogram"]) == 3
    assert summary["histogram"][-1]["count"] == 2  # p-000 (W = 1) and p-002 (W = 0.911)
    assert "threshold 0.95" in html
    assert all(f'data-annotator="ann{i}"' in html for i in range(4))
    assert "over the responses every annotator ranked" in html  # the rule (unranked excluded) is shown in the UI
    assert [i["id"] for i in summary["queue_head"]] == ["p-001", "p-002"]  # W per prompt, lowest first
    assert 'data-prompt="p-001"' in html


@pytest.mark.django_db
def test_annotator_table_sorts_by_agreement_both_ways(client, reviewed_project, reviewer):
    client.force_login(reviewer)
    url = reverse("review:dashboard", args=[reviewed_project.slug])
    rows = client.get(url, {"sort": "agreement", "dir": "desc"}).context["annotators"]
    values = [r["agreement"] for r in rows]
    assert values == sorted(values, reverse=True)
    rows = client.get(url, {"sort": "agreement", "dir": "asc"}).context["annotators"]
    assert [r["agreement"] for r in rows] == sorted(values)
    assert rows[0]["annotator"] == "ann1"  # ann1 reversed everyone on p-001
    by_count = client.get(url, {"sort": "count", "dir": "asc"}).context["annotators"]
    assert [r["count"] for r in by_count] == [1, 3, 3, 3]


@pytest.mark.django_db
def test_queue_lists_needs_review_lowest_w_first(client, reviewed_project, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("review:queue", args=[reviewed_project.slug]))
    items = list(response.context["page"].object_list)
    assert [i["id"] for i in items] == ["p-001", "p-002"]
    assert items[0]["kendall_w"] < items[1]["kendall_w"]
    validated = client.get(reverse("review:queue", args=[reviewed_project.slug]), {"status": "validated"})
    assert [i["id"] for i in validated.context["page"].object_list] == ["p-000"]


@pytest.mark.django_db
def test_prompt_page_shows_matrix_w_tau_and_consensus(client, reviewed_project, reviewer):
    prompt = reviewed_project.prompts.get(external_id="p-001")
    client.force_login(reviewer)
    response = client.get(reverse("review:prompt", args=[reviewed_project.slug, prompt.pk]))
    assert response.status_code == 200
    data = response.context["data"]
    assert data["annotators"] == ["ann0", "ann1", "ann2"]
    assert [[c["rank"] for c in row.cells] for row in data["rows"]] == [[1, 4, 2], [2, 3, 1], [3, 2, 3], [4, 1, 4]]
    assert all(row.disputed for row in data["rows"])
    assert data["tau_b"]["ann0"]["ann1"] == pytest.approx(-1.0)
    html = response.content.decode()
    assert "tier-matrix" in html and 'class="tier-cell off"' in html
    assert "data-rank-widget" in html  # the shared rank widget adjudicates
    assert f"{data['kendall_w']:.3f}" in html


@pytest.mark.django_db
def test_adjudicating_with_the_plain_form_validates_and_goes_to_the_next_prompt(client, reviewed_project, reviewer):
    prompt = reviewed_project.prompts.get(external_id="p-001")
    client.force_login(reviewer)
    url = reverse("review:adjudicate", args=[reviewed_project.slug, prompt.pk])
    response = client.post(url, {"rank_0": "2", "rank_1": "1", "rank_2": "2", "rank_3": "", "note": "B wins"})
    next_prompt = reviewed_project.prompts.get(external_id="p-002")
    assert response.status_code == 302
    assert response["Location"] == reverse("review:prompt", args=[reviewed_project.slug, next_prompt.pk])
    status = prompt_statuses(reviewed_project)[prompt.pk]
    assert status.status == "validated" and status.consensus == [[1], [0, 2]]


@pytest.mark.django_db
def test_bad_adjudication_is_refused_with_a_clear_message_and_saves_nothing(client, reviewed_project, reviewer):
    reviewed_project.allow_partial = False
    reviewed_project.save()
    prompt = reviewed_project.prompts.get(external_id="p-001")
    client.force_login(reviewer)
    url = reverse("review:adjudicate", args=[reviewed_project.slug, prompt.pk])
    response = client.post(url, {"rank_0": "1", "rank_1": "2", "rank_2": "", "rank_3": ""})
    assert response.status_code == 400
    assert "every response must be ranked" in response.content.decode()
    response = client.post(url, {"rank_0": "one", "rank_1": "2", "rank_2": "3", "rank_3": "4"})
    assert response.status_code == 400 and "rank_0: tier must be a number from 1 to 4" in response.content.decode()
    prompt.refresh_from_db()
    assert prompt.adjudicated_tiers is None


@pytest.mark.django_db
def test_send_back_raises_the_target_and_the_prompt_leaves_the_queue(client, reviewed_project, reviewer):
    prompt = reviewed_project.prompts.get(external_id="p-001")
    client.force_login(reviewer)
    response = client.post(reverse("review:send_back", args=[reviewed_project.slug, prompt.pk]), {"note": "noisy"})
    assert response.status_code == 302
    prompt.refresh_from_db()
    assert prompt.extra_annotators == 1 and "noisy" in prompt.review_note
    queue = client.get(reverse("review:queue", args=[reviewed_project.slug]))
    assert [i["id"] for i in queue.context["page"].object_list] == ["p-002"]


@pytest.mark.django_db
def test_project_page_links_to_the_dashboard_for_reviewers_only(client, project, reviewer, labeler):
    url = reverse("project_detail", args=[project.slug])
    dashboard = reverse("review:dashboard", args=[project.slug])
    client.force_login(reviewer)
    assert dashboard in client.get(url).content.decode()
    client.force_login(labeler)
    assert dashboard not in client.get(url).content.decode()


def test_annotator_table_puts_missing_figures_last_in_both_directions():
    from ranking_app.review.selectors import annotator_table

    rows = [
        {"annotator": "b", "agreement": None, "count": 1},
        {"annotator": "a", "agreement": 0.2, "count": 5},
        {"annotator": "C", "agreement": 0.9, "count": 3},
    ]
    assert [r["annotator"] for r in annotator_table(rows, sort="agreement", descending=True)] == ["C", "a", "b"]
    assert [r["annotator"] for r in annotator_table(rows, sort="agreement")] == ["a", "C", "b"]
    assert [r["annotator"] for r in annotator_table(rows, sort="annotator")] == ["a", "b", "C"]
    assert [r["annotator"] for r in annotator_table(rows, sort="nonsense", descending=True)] == ["C", "a", "b"]


@pytest.mark.django_db
def test_screens_work_on_a_project_without_rankings(client, project, reviewer):
    client.force_login(reviewer)
    dashboard = client.get(reverse("review:dashboard", args=[project.slug]))
    assert dashboard.status_code == 200
    assert dashboard.context["summary"]["krippendorff_alpha"] is None
    assert "no W to show" in dashboard.content.decode()
    assert client.get(reverse("review:queue", args=[project.slug])).status_code == 200
    prompt = project.prompts.first()
    page = client.get(reverse("review:prompt", args=[project.slug, prompt.pk]))
    assert page.status_code == 200 and page.context["data"]["status"] == "in_progress"


@pytest.mark.django_db
def test_fifty_responses_with_gold_render_and_compute(client, reviewer, admin_user, annotators):
    import random

    from ranking_app.review.services import prompt_gold_set
    from tests.conftest import make_project

    project = make_project("wide", n_prompts=1, k=50)
    prompt = project.prompts.first()
    rng = random.Random(1)
    for user in annotators[:3]:
        order = list(range(50))
        rng.shuffle(order)
        submit(prompt, user, [order[i : i + 2] for i in range(0, 50, 2)])  # 25 tiers of 2
    prompt_gold_set(prompt=prompt, tiers=[[i] for i in range(50)], user=admin_user)
    client.force_login(reviewer)
    page = client.get(reverse("review:prompt", args=[project.slug, prompt.pk]))
    assert page.status_code == 200
    data = page.context["data"]
    assert len(data["rows"]) == 50 and data["rows"][-1].label == "AX"
    assert set(data["gold_taus"]) == {"ann0", "ann1", "ann2"}
    assert 'class="tier-cell gold"' in page.content.decode()
    summary = client.get(reverse("review:dashboard", args=[project.slug])).context["summary"]
    assert summary["n_gold"] == 1 and all(a["n_gold"] == 1 for a in summary["annotators"])
