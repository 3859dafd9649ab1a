"""An import may replace the responses of a prompt nobody ranked, but not while a labeler has it
open: their ranking must point at the responses they saw. The import is refused, naming the record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ranking_app.exchange.imports import IN_USE, rankings_import
from ranking_app.exchange.jsonl import ExchangeError
from ranking_app.labeling.assignments import assignment_next, assignment_release
from ranking_app.models import Assignment, Response
from tests.conftest import make_project, make_user

pytestmark = pytest.mark.django_db


def changed_responses(prompt) -> list[dict]:
    return [{"id": prompt.external_id, "prompt": prompt.text, "responses": ["w", "x", "y", "z"]}]


def test_responses_of_a_prompt_open_on_a_labeler_s_screen_are_not_replaced():
    project = make_project("open", n_prompts=1)
    prompt = project.prompts.get()
    user = make_user("looking", "labeler")
    assert assignment_next(project=project, annotator=user) == prompt
    with pytest.raises(ExchangeError) as refused:
        rankings_import(project=project, records=changed_responses(prompt))
    assert refused.value.errors == [f"record 1 (id p-000): {IN_USE}"]
    assert list(Response.objects.filter(prompt=prompt).values_list("text", flat=True))[0] == "Answer 0 to prompt 0"

    assignment_release(prompt=prompt, annotator=user)
    assert rankings_import(project=project, records=changed_responses(prompt)).updated == 1
    assert sorted(Response.objects.filter(prompt=prompt).values_list("text", flat=True)) == ["w", "x", "y", "z"]


def test_an_expired_lease_does_not_hold_the_prompt():
    project = make_project("gone", n_prompts=1)
    prompt = project.prompts.get()
    Assignment.objects.create(prompt=prompt, annotator=make_user("left", "labeler"),
                              expires_at=timezone.now() - timedelta(minutes=1))  # fmt: skip
    assert rankings_import(project=project, records=changed_responses(prompt)).updated == 1
