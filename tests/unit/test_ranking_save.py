import pytest

from ranking_app.models import Ranking, RankingRevision
from ranking_app.ranking import RankingError
from ranking_app.ranking_store import RankingConflict, ranking_save


@pytest.fixture
def prompt(project):
    return project.prompts.first()


def test_each_change_bumps_the_version_and_leaves_a_revision(prompt, labeler):
    first = ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]])
    second = ranking_save(
        prompt=prompt, annotator=labeler, tiers=[[0], [1, 2], [3]], status="submitted", expected_version=1
    )
    assert (first.version, second.version) == (1, 2)
    assert second.tiers == [[0], [1, 2], [3]]
    assert list(RankingRevision.objects.values_list("version", "tiers")) == [(1, [[1], [0]]), (2, [[0], [1, 2], [3]])]


def test_saving_the_same_ranking_again_adds_no_revision(prompt, labeler):
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]])
    again = ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]], expected_version=1)
    assert again.version == 1
    assert RankingRevision.objects.count() == 1


def test_a_stale_version_is_refused_and_nothing_is_overwritten(prompt, labeler):
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[0], [1]])
    ranking_save(prompt=prompt, annotator=labeler, tiers=[[1], [0]], expected_version=1)
    with pytest.raises(RankingConflict, match="version 1.*version 2"):
        ranking_save(prompt=prompt, annotator=labeler, tiers=[[2], [3]], expected_version=1)
    assert Ranking.objects.get().tiers == [[1], [0]]


def test_submitted_ranking_must_follow_the_project_rules(prompt, labeler):
    prompt.project.allow_ties = False
    prompt.project.save()
    with pytest.raises(RankingError, match="ties are not allowed"):
        ranking_save(prompt=prompt, annotator=labeler, tiers=[[0, 1], [2]], status="submitted")
    with pytest.raises(RankingError, match="at least 2"):
        ranking_save(prompt=prompt, annotator=labeler, tiers=[[0]], status="submitted")
    assert not Ranking.objects.exists()


def test_skipping_keeps_the_reason_and_clears_the_tiers(prompt, labeler):
    ranking = ranking_save(prompt=prompt, annotator=labeler, tiers=[[0]], status="skipped", skip_reason="not English")
    assert (ranking.status, ranking.tiers, ranking.skip_reason) == ("skipped", [], "not English")


def test_the_admin_cannot_add_edit_or_delete_responses_behind_the_rankings(client, prompt):
    from django.contrib.admin.sites import site
    from django.contrib.auth.models import User

    from ranking_app.models import Prompt

    client.force_login(User.objects.create_superuser("root", password="pw-123456"))

    inline = site._registry[Prompt].inlines[0]
    assert inline.can_delete is False and inline.max_num == 0
    assert {"position", "text"} <= set(inline.readonly_fields)
    response = client.get(f"/admin/ranking_app/prompt/{prompt.pk}/change/")
    assert response.status_code == 200
    assert b"Answer 0 to prompt 0" in response.content and b"_DELETE" not in response.content
