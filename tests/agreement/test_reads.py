"""Reading agreement figures never writes them: selectors compute stale figures in memory, the
service the pages call first stores them, once per change."""

import pytest
from django.urls import reverse

from ranking_app.models import ProjectAgreement
from ranking_app.review.agreement_read import agreement_read
from ranking_app.review.agreement_store import agreement_current
from ranking_app.review.selectors import review_rows
from ranking_app.review.validated import prompt_statuses

from .conftest import submit

AGREE = [[0], [1], [2], [3]]


@pytest.mark.django_db
def test_selectors_read_current_figures_without_storing_them(project, annotators):
    prompt = project.prompts.first()
    submit(prompt, annotators[0], AGREE)
    submit(prompt, annotators[1], AGREE)
    figures = agreement_read(project=project)
    assert figures.pk is None and figures.summary["status_counts"]
    assert prompt_statuses(project)[prompt.pk].n_submitted == 2
    review_rows(project=project, status="validated")
    assert not ProjectAgreement.objects.exists()  # three reads, no write

    stored = agreement_current(project=project)
    assert stored.pk is not None and agreement_read(project=project).pk == stored.pk  # current: the stored row
    submit(prompt, annotators[2], AGREE)
    assert agreement_read(project=project).pk is None  # stale: computed now, the stored row left alone
    assert ProjectAgreement.objects.get().fingerprint == stored.fingerprint


@pytest.mark.django_db
def test_the_review_queue_page_stores_the_figures_it_shows(client, project, annotators, reviewer):
    submit(project.prompts.first(), annotators[0], AGREE)
    client.force_login(reviewer)
    assert client.get(reverse("review:queue", args=[project.slug])).status_code == 200
    assert ProjectAgreement.objects.get(project=project).fingerprint == agreement_read(project=project).fingerprint
