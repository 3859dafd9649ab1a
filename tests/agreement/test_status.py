"""The validation rule: pure transitions, and through the database (cache, services, export)."""

import pytest
from django.core.exceptions import PermissionDenied

from ranking_app.models import ProjectAgreement, Ranking
from ranking_app.ranking import RankingError
from ranking_app.review.agreement import IN_PROGRESS, NEEDS_REVIEW, VALIDATED, prompt_status
from ranking_app.review.agreement_store import agreement_current
from ranking_app.review.services import prompt_adjudicate, prompt_gold_clear, prompt_gold_set, prompt_send_back
from ranking_app.review.validated import prompt_statuses, validated_prompt_ids

from .conftest import submit

AGREE = [[0], [1], [2], [3]]
REVERSED = [[3], [2], [1], [0]]


@pytest.mark.parametrize(
    ("n", "target", "w", "adjudicated", "expected"),
    [
        (0, 3, None, False, IN_PROGRESS),
        (2, 3, 1.0, False, IN_PROGRESS),
        (3, 3, 0.6, False, VALIDATED),  # at the threshold counts
        (3, 3, 0.59, False, NEEDS_REVIEW),
        (3, 3, None, False, NEEDS_REVIEW),  # undefined W cannot validate
        (4, 3, 0.9, False, VALIDATED),
        (1, 3, None, True, VALIDATED),  # adjudication overrides everything
        (1, 1, None, False, VALIDATED),  # a target of one has no W to check
        (0, 0, None, False, IN_PROGRESS),
    ],
)
def test_status_rule(n, target, w, adjudicated, expected):
    assert prompt_status(n_submitted=n, target=target, kendall_w=w, threshold=0.6, adjudicated=adjudicated) == expected


def test_prompt_moves_from_in_progress_to_needs_review_to_validated(project, annotators, reviewer):
    prompt = project.prompts.first()
    submit(prompt, annotators[0], AGREE)
    submit(prompt, annotators[1], REVERSED)
    assert prompt_statuses(project)[prompt.pk].status == IN_PROGRESS

    submit(prompt, annotators[2], [[0], [2], [1], [3]])
    status = prompt_statuses(project)[prompt.pk]
    assert status.status == NEEDS_REVIEW
    assert status.n_submitted == 3
    assert status.kendall_w < project.agreement_threshold
    assert prompt.pk not in validated_prompt_ids(project)

    prompt_adjudicate(prompt=prompt, tiers=[[1], [0, 2], [3]], reviewer=reviewer, note="B is best")
    status = prompt_statuses(project)[prompt.pk]
    assert status.status == VALIDATED
    assert status.consensus == [[1], [0, 2], [3]]  # the adjudicated ranking overrides the consensus
    assert prompt.pk in validated_prompt_ids(project)
    prompt.refresh_from_db()
    assert prompt.adjudicated_by == reviewer and "B is best" in prompt.review_note


def test_agreeing_rankings_validate_without_review(project, annotators):
    prompt = project.prompts.first()
    for user in annotators[:3]:
        submit(prompt, user, AGREE)
    status = prompt_statuses(project)[prompt.pk]
    assert status.status == VALIDATED
    assert status.kendall_w == pytest.approx(1.0)
    assert status.consensus == AGREE


def test_send_back_asks_for_one_more_ranking_and_clears_adjudication(project, annotators, reviewer):
    prompt = project.prompts.first()
    for user, tiers in zip(annotators, [AGREE, REVERSED, [[1], [0], [3], [2]]], strict=False):
        submit(prompt, user, tiers)
    prompt_adjudicate(prompt=prompt, tiers=AGREE, reviewer=reviewer)
    assert prompt_statuses(project)[prompt.pk].status == VALIDATED

    prompt = prompt_send_back(prompt=prompt, reviewer=reviewer, note="too noisy")
    assert prompt.extra_annotators == 1 and prompt.adjudicated_tiers is None
    assert "too noisy" in prompt.review_note
    assert prompt_statuses(project)[prompt.pk].status == IN_PROGRESS

    submit(prompt, annotators[3], AGREE)  # the fourth ranking arrives; still disagreeing overall
    assert prompt_statuses(project)[prompt.pk].status == NEEDS_REVIEW


def test_raising_the_threshold_moves_prompts_to_review(project, annotators):
    prompt = project.prompts.first()
    submit(prompt, annotators[0], AGREE)
    submit(prompt, annotators[1], AGREE)
    submit(prompt, annotators[2], [[1], [0], [2], [3]])
    assert prompt_statuses(project)[prompt.pk].status == VALIDATED
    project.agreement_threshold = 0.99
    project.save()
    assert prompt_statuses(project)[prompt.pk].status == NEEDS_REVIEW


def test_figures_are_cached_and_recomputed_only_when_rankings_change(project, annotators, django_assert_max_num_queries):
    prompt = project.prompts.first()
    submit(prompt, annotators[0], AGREE)
    first = agreement_current(project=project)
    computed_at = first.computed_at
    again = agreement_current(project=project)
    assert again.computed_at == computed_at  # unchanged data: the stored row is reused
    with django_assert_max_num_queries(4):  # fingerprint (3 aggregates) + the cached row
        agreement_current(project=project, with_items=False)

    submit(prompt, annotators[1], REVERSED)
    fresh = agreement_current(project=project)
    assert fresh.computed_at > computed_at
    assert [i for i in fresh.items if i["prompt_id"] == prompt.pk][0]["n_annotators"] == 2
    assert ProjectAgreement.objects.filter(project=project).count() == 1


def test_bulk_created_rankings_also_invalidate_the_cache(project, annotators):
    """Imports may bulk_create without signals; the fingerprint still sees them."""
    agreement_current(project=project)
    Ranking.objects.bulk_create(
        Ranking(prompt=p, annotator=annotators[0], tiers=AGREE, status=Ranking.Status.SUBMITTED)
        for p in project.prompts.all()
    )
    assert agreement_current(project=project).summary["annotators"][0]["count"] == project.prompts.count()


def test_drafts_and_skips_do_not_count_as_rankings(project, annotators):
    from ranking_app.ranking_store import ranking_save

    prompt = project.prompts.first()
    ranking_save(prompt=prompt, annotator=annotators[0], tiers=AGREE, status=Ranking.Status.DRAFT)
    ranking_save(prompt=prompt, annotator=annotators[1], tiers=[], status=Ranking.Status.SKIPPED, skip_reason="unclear")
    submit(prompt, annotators[2], AGREE)
    cache = agreement_current(project=project)
    assert prompt_statuses(project)[prompt.pk].n_submitted == 1
    skipper = [a for a in cache.summary["annotators"] if a["annotator"] == "ann1"][0]
    assert skipper["skip_rate"] == 1.0 and skipper["count"] == 0
    assert "ann0" not in {a["annotator"] for a in cache.summary["annotators"]}


def test_adjudication_must_follow_the_project_rules_and_changes_nothing_when_bad(project, reviewer):
    project.allow_ties = False
    project.save()
    prompt = project.prompts.first()
    with pytest.raises(RankingError, match="ties"):
        prompt_adjudicate(prompt=prompt, tiers=[[0, 1], [2], [3]], reviewer=reviewer)
    with pytest.raises(RankingError, match="out of range"):
        prompt_adjudicate(prompt=prompt, tiers=[[0], [9]], reviewer=reviewer)
    prompt.refresh_from_db()
    assert prompt.adjudicated_tiers is None and prompt.review_note == ""


def test_labelers_cannot_adjudicate_and_only_admins_set_gold(project, labeler, reviewer, admin_user):
    prompt = project.prompts.first()
    with pytest.raises(PermissionDenied):
        prompt_adjudicate(prompt=prompt, tiers=AGREE, reviewer=labeler)
    with pytest.raises(PermissionDenied):
        prompt_send_back(prompt=prompt, reviewer=labeler)
    with pytest.raises(PermissionDenied):
        prompt_gold_set(prompt=prompt, tiers=AGREE, user=reviewer)
    prompt = prompt_gold_set(prompt=prompt, tiers=AGREE, user=admin_user)
    assert prompt.gold_tiers == AGREE
    assert prompt_gold_clear(prompt=prompt, user=admin_user).gold_tiers is None


def test_agreement_with_gold_is_reported_per_annotator(project, annotators, admin_user):
    prompt = project.prompts.first()
    submit(prompt, annotators[0], AGREE)
    submit(prompt, annotators[1], REVERSED)
    prompt_gold_set(prompt=prompt, tiers=AGREE, user=admin_user)
    rows = {a["annotator"]: a for a in agreement_current(project=project).summary["annotators"]}
    assert rows["ann0"]["gold_agreement"] == pytest.approx(1.0)
    assert rows["ann1"]["gold_agreement"] == pytest.approx(-1.0)
    assert rows["ann0"]["n_gold"] == 1
    # Two annotators, opposite rankings: each disagrees fully with the other (the LOO consensus).
    assert rows["ann0"]["agreement"] == pytest.approx(-1.0)


def test_adjudicated_prompt_goes_into_the_next_export_with_its_ranking(project, annotators, reviewer, settings, tmp_path):
    """The exported validated set is exactly the validated prompts, with the adjudicated ranking."""
    import json

    from ranking_app.exchange.exports import export_create, export_path

    settings.EXPORT_DIR = tmp_path
    first, second, _third = project.prompts.all()
    for user in annotators[:3]:
        submit(first, user, AGREE)
        submit(second, user, AGREE if user != annotators[2] else REVERSED)
    assert set(validated_prompt_ids(project)) == {first.pk}

    def exported():
        snapshot = export_create(project=project, format="jsonl")
        lines = export_path(snapshot).read_text().splitlines()
        return {r["id"]: r for r in map(json.loads, lines)}

    assert set(exported()) == {first.external_id}
    prompt_adjudicate(prompt=second, tiers=[[1], [0], [2, 3]], reviewer=reviewer)
    records = exported()
    assert set(records) == {first.external_id, second.external_id}
    assert records[second.external_id]["rankings"] == [1, 0, 2, 2]
