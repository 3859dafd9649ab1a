"""Where labelers go next: the project's queue order (default, disagreement, model uncertainty, random)."""

import pytest

from ranking_app.labeling.assignments import assignment_next, assignment_release
from ranking_app.models import Project, Ranking
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user
from training.uncertainty import top_two_gap

pytestmark = pytest.mark.django_db


def submit(prompt, user, tiers):
    ranking_save(prompt=prompt, annotator=user, tiers=tiers, status=Ranking.Status.SUBMITTED)


def order_for(project, user) -> list[str]:
    """The prompts ``user`` is handed one after another (each lease released before the next ask)."""
    handed = []
    while (prompt := assignment_next(project=project, annotator=user)) is not None:
        handed.append(prompt.external_id)
        ranking_save(prompt=prompt, annotator=user, tiers=[], status=Ranking.Status.SKIPPED)
        assignment_release(prompt=prompt, annotator=user)
    return handed


def two_rankings_each(project):
    """p-001: two labelers agree; p-002: they disagree completely; p-000 and p-003: nothing yet."""
    a, b = make_user("a"), make_user("b")
    prompts = {p.external_id: p for p in project.prompts.all()}
    submit(prompts["p-001"], a, [[0], [1], [2], [3]])
    submit(prompts["p-001"], b, [[0], [1], [2], [3]])
    submit(prompts["p-002"], a, [[0], [1], [2], [3]])
    submit(prompts["p-002"], b, [[3], [2], [1], [0]])


def test_default_order_is_fewest_rankings_first():
    project = make_project(n_prompts=4, target_annotators=3)
    two_rankings_each(project)
    assert order_for(project, make_user("new")) == ["p-000", "p-003", "p-001", "p-002"]


def test_disagreement_sends_labelers_to_the_most_contested_prompt_first():
    project = make_project(n_prompts=4, target_annotators=3, queue_order=Project.QueueOrder.DISAGREEMENT)
    two_rankings_each(project)
    assert order_for(project, make_user("new")) == ["p-002", "p-001", "p-000", "p-003"]


def test_model_uncertainty_puts_the_closest_top_two_scores_first():
    from training.models import EvaluationResult, PromptEvaluation, TrainingJob

    project = make_project(n_prompts=4, target_annotators=2, queue_order=Project.QueueOrder.MODEL_UNCERTAINTY)
    prompts = {p.external_id: p for p in project.prompts.all()}
    from ranking_app.exchange.exports import export_create

    export = export_create(project=project, format="jsonl", validated_only=False)
    job = TrainingJob.objects.create(project=project, export=export, base_model="m", config={})
    evaluation = EvaluationResult.objects.create(job=job, model="tuned", project=project, export=export, split="all")
    for external_id, scores in {"p-000": [-1.0, -5.0, -9.0, -9.5], "p-001": [-2.0, -2.1, -7.0, -8.0],
                                "p-003": [-3.0, -3.5, -3.6, -9.0]}.items():
        PromptEvaluation.objects.create(evaluation=evaluation, prompt=prompts[external_id], external_id=external_id,
                                        scores=scores, ranking=[0, 1, 2, 3])
    assert order_for(project, make_user("new")) == ["p-001", "p-003", "p-000", "p-002"]


def test_random_order_is_fixed_for_the_project_and_the_same_for_every_labeler():
    project = make_project(n_prompts=12, target_annotators=3, queue_order=Project.QueueOrder.RANDOM)
    first, second = order_for(project, make_user("x")), order_for(project, make_user("y"))
    assert first == second and sorted(first) == [f"p-{i:03d}" for i in range(12)]
    assert first != sorted(first)


def test_prompts_waiting_for_their_responses_are_never_handed_out():
    project = make_project(n_prompts=2, target_annotators=1)
    project.prompts.create(external_id="empty", text="Generate for me")
    assert "empty" not in order_for(project, make_user("new"))


def test_top_two_gap():
    assert top_two_gap([-1.0, -3.0, -1.5]) == pytest.approx(0.5)
    assert top_two_gap([-1.0, None]) == float("inf")
