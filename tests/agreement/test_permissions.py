"""Reviewer pages and endpoints: reviewers and admins only; labelers get 403 on every one."""

import pytest
from django.urls import reverse

from ranking_app.models import Prompt

AGREE = [[0], [1], [2], [3]]


def _pages(project, prompt):
    return [
        ("get", reverse("review:dashboard", args=[project.slug]), {}),
        ("get", reverse("review:queue", args=[project.slug]), {}),
        ("get", reverse("review:prompt", args=[project.slug, prompt.pk]), {}),
        ("post", reverse("review:adjudicate", args=[project.slug, prompt.pk]), {f"rank_{i}": str(i + 1) for i in range(4)}),
        ("post", reverse("review:send_back", args=[project.slug, prompt.pk]), {"note": "x"}),
        ("post", reverse("review:gold", args=[project.slug, prompt.pk]), {f"rank_{i}": str(i + 1) for i in range(4)}),
        ("post", reverse("review:gold", args=[project.slug, prompt.pk]), {"action": "clear"}),
        ("get", f"/api/projects/{project.slug}/agreement/", {}),
    ]


@pytest.mark.django_db
def test_labelers_get_403_on_every_reviewer_page_and_endpoint(client, project, labeler):
    prompt = project.prompts.first()
    client.force_login(labeler)
    for method, url, data in _pages(project, prompt):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url, response.status_code)
    prompt.refresh_from_db()
    assert prompt.adjudicated_tiers is None and prompt.extra_annotators == 0 and prompt.gold_tiers is None


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login_or_refused(client, project):
    prompt = project.prompts.first()
    for method, url, data in _pages(project, prompt):
        response = getattr(client, method)(url, data)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403)
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.django_db
def test_reviewers_use_every_page_but_gold_is_admin_only(client, project, reviewer, admin_user):
    prompt = project.prompts.first()
    client.force_login(reviewer)
    for method, url, data in _pages(project, prompt):
        response = getattr(client, method)(url, data)
        expected = 403 if "/gold/" in url else (302 if method == "post" else 200)
        assert response.status_code == expected, (method, url, response.status_code)
    client.force_login(admin_user)
    gold_url = reverse("review:gold", args=[project.slug, prompt.pk])
    assert client.post(gold_url, {f"rank_{i}": str(i + 1) for i in range(4)}).status_code == 302
    assert Prompt.objects.get(pk=prompt.pk).gold_tiers == AGREE


@pytest.mark.django_db
def test_get_only_pages_refuse_post_and_post_only_refuse_get(client, project, reviewer):
    prompt = project.prompts.first()
    client.force_login(reviewer)
    assert client.post(reverse("review:dashboard", args=[project.slug])).status_code == 405
    assert client.get(reverse("review:adjudicate", args=[project.slug, prompt.pk])).status_code == 405


@pytest.mark.django_db
def test_a_prompt_of_another_project_is_not_found(client, project, reviewer):
    from tests.conftest import make_project

    other = make_project("other", n_prompts=1).prompts.first()
    client.force_login(reviewer)
    assert client.get(reverse("review:prompt", args=[project.slug, other.pk])).status_code == 404
