"""labeling/services.py: each outcome the labeling pages and the API translate."""

import pytest

from ranking_app.labeling.assignments import assignment_claim
from ranking_app.labeling.services import Outcome, ranking_draft_save, ranking_skip, ranking_submit
from ranking_app.models import Assignment, Ranking, RankingRevision
from ranking_app.ranking_store import ranking_save
from tests.labeling.factories import make_labeling_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompt():
    return make_labeling_project(n_prompts=1, k=4, target_annotators=1).prompts.get()


def submit(prompt, user, tiers=([0], [1]), version=0, **kwargs):
    return ranking_submit(prompt=prompt, annotator=user, tiers=list(tiers), expected_version=version, **kwargs)


def test_a_first_submit_is_stored_with_a_revision_and_frees_the_lease(prompt, labeler):
    assignment_claim(prompt=prompt, annotator=labeler)
    result = submit(prompt, labeler)
    assert result.outcome is Outcome.SUBMITTED and result.saved and result.version == 1
    assert RankingRevision.objects.filter(ranking=result.ranking, status="submitted").count() == 1
    assert not Assignment.objects.exists()
    again = submit(prompt, labeler, tiers=([1], [0]), version=1)
    assert again.outcome is Outcome.UPDATED and again.version == 2


def test_the_queue_refuses_a_full_prompt_and_nothing_is_written(prompt, labeler, labeler2):
    assert submit(prompt, labeler2).outcome is Outcome.SUBMITTED
    for result in (
        submit(prompt, labeler),
        ranking_draft_save(prompt=prompt, annotator=labeler, tiers=[[0]], expected_version=0),
        ranking_skip(prompt=prompt, annotator=labeler, reason="unclear", expected_version=0),
    ):
        assert result.outcome is Outcome.PROMPT_FULL and not result.saved
        assert "already has all the rankings" in result.message
    assert not Ranking.objects.filter(annotator=labeler).exists()


def test_an_invalid_submit_is_kept_as_a_draft_only_when_asked(prompt, labeler):
    refused = submit(prompt, labeler, tiers=([0],), keep_invalid_as_draft=False)
    assert refused.outcome is Outcome.INVALID and "rank at least 2 responses" in refused.message
    assert not Ranking.objects.exists()
    kept = submit(prompt, labeler, tiers=([0],))
    assert kept.outcome is Outcome.KEPT_AS_DRAFT and kept.errors == refused.errors
    assert (kept.ranking.status, kept.ranking.tiers, kept.version) == ("draft", [[0]], 1)
    assert Assignment.objects.filter(annotator=labeler).exists()  # still theirs to finish


def test_an_invalid_change_of_a_submitted_ranking_leaves_it_alone(prompt, labeler):
    submit(prompt, labeler)
    result = submit(prompt, labeler, tiers=([0],), version=1)
    assert result.outcome is Outcome.INVALID and result.ranking.status == "submitted"
    assert Ranking.objects.get().tiers == [[0], [1]]


def test_a_stale_version_is_a_conflict_that_names_both_versions(prompt, labeler):
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]])
    result = submit(prompt, labeler, version=0)
    assert result.outcome is Outcome.CONFLICT and result.version == 1
    assert "you edited version 0, the saved one is version 1" in result.message
    missing = ranking_draft_save(prompt=prompt, annotator=labeler, tiers=[], expected_version=5)
    assert missing.outcome is Outcome.CONFLICT and missing.version == 1
    assert Ranking.objects.get().tiers == [[1], [0]]


def test_a_submitted_ranking_is_never_turned_back_into_a_draft_or_a_skip(prompt, labeler):
    submit(prompt, labeler)
    draft = ranking_draft_save(prompt=prompt, annotator=labeler, tiers=[[1]], expected_version=1)
    skip = ranking_skip(prompt=prompt, annotator=labeler, reason="bored", expected_version=1)
    assert (draft.outcome, skip.outcome) == (Outcome.ALREADY_SUBMITTED, Outcome.ALREADY_SUBMITTED)
    assert draft.version == 1 and "Save changes" in draft.message and "cannot be skipped" in skip.message
    assert Ranking.objects.get().status == "submitted"


def test_a_skip_needs_a_reason_and_frees_the_lease(prompt, labeler):
    blank = ranking_skip(prompt=prompt, annotator=labeler, reason=" ", expected_version=0)
    assert blank.outcome is Outcome.INVALID and not Ranking.objects.exists()
    result = ranking_skip(prompt=prompt, annotator=labeler, reason=" not English ", expected_version=0, source="api")
    assert result.outcome is Outcome.SKIPPED
    assert (result.ranking.skip_reason, result.ranking.source, result.ranking.tiers) == ("not English", "api", [])
    assert not Assignment.objects.exists()


def test_a_draft_keeps_the_lease(prompt, labeler):
    result = ranking_draft_save(prompt=prompt, annotator=labeler, tiers=[[2]], expected_version=0, time_spent_ms=900)
    assert result.outcome is Outcome.DRAFT_SAVED and result.ranking.time_spent_ms == 900
    assert Assignment.objects.filter(annotator=labeler).exists()
