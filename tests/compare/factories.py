"""Test data for comparisons: a project ranked by two annotators, a finished job and its evaluations.

Rows are created directly (no training): ``add_evaluation`` stores what ``evaluate_model`` would.
"""

from ranking_app.models import ExportSnapshot, Project, Prompt, Ranking
from ranking_app.ranking import ranks_to_tiers
from ranking_app.ranking_store import ranking_save
from tests.conftest import make_project, make_user
from training.engine.metrics import dense_ranking
from training.models import EvaluationResult, PromptEvaluation, TrainingJob

# prompt index -> (alice's ranks, bob's ranks); prompts 2 and 4 are ambiguous (they disagree)
HUMAN = {
    0: ([0, 1, 2, 3], [0, 1, 2, 3]),
    1: ([0, 1, 2, 3], [0, 2, 1, 3]),
    2: ([0, 1, 2, 3], [3, 1, 0, 2]),
    3: ([1, 0, 2, 3], [1, 0, 3, 2]),
    4: ([0, 1, 1, 2], [2, 1, 1, 0]),
    5: ([0, 1, 2, 3], [0, 1, 2, 3]),
}
# model scores per prompt (higher is better)
BASE = {
    0: [0.4, 0.3, 0.2, 0.1],  # perfect
    1: [0.1, 0.2, 0.3, 0.4],  # reversed
    2: [0.4, 0.1, 0.2, 0.3],
    3: [0.3, 0.4, 0.2, 0.1],
    4: [0.2, 0.4, 0.3, 0.1],
    5: [0.2, 0.1, 0.4, 0.3],
}
TUNED = {
    0: [0.1, 0.4, 0.3, 0.2],  # worse than base
    1: [0.4, 0.3, 0.2, 0.1],  # better than base
    2: [0.4, 0.3, 0.2, 0.1],
    3: [0.1, 0.4, 0.3, 0.2],  # worse than base
    4: [0.4, 0.3, 0.2, 0.1],
    5: [0.4, 0.3, 0.2, 0.1],  # better than base
}


def submit(prompt: Prompt, user, ranks: list[int]) -> Ranking:
    return ranking_save(prompt=prompt, annotator=user, tiers=ranks_to_tiers(ranks), status=Ranking.Status.SUBMITTED)


def ranked_compare_project(slug: str = "cmp") -> Project:
    project = make_project(slug, n_prompts=len(HUMAN), k=4, target_annotators=2, agreement_threshold=0.7)
    alice, bob = make_user("alice", "labeler"), make_user("bob", "labeler")
    for index, prompt in enumerate(project.prompts.order_by("id")):
        submit(prompt, alice, HUMAN[index][0])
        submit(prompt, bob, HUMAN[index][1])
    return project


def finished_job(project: Project, name: str = "demo job") -> TrainingJob:
    export = ExportSnapshot.objects.create(project=project, format="json", sha256="0" * 64, path=f"{project.slug}/x.json")
    return TrainingJob.objects.create(
        project=project, export=export, name=name, base_model="tiny", config={}, status=TrainingJob.Status.SUCCEEDED
    )


def add_evaluation(job: TrainingJob, model: str, scores: dict[int, list[float]], *, split: str = "test",
                   robustness: dict | None = None, project: Project | None = None) -> EvaluationResult:
    """Store per-prompt scores (keyed by prompt index in id order) as ``evaluation_store`` would."""
    project = project or job.project
    metrics = {"robustness": robustness} if robustness else {}
    evaluation = EvaluationResult.objects.create(
        job=job, model=model, project=project, export=job.export, split=split, n_prompts=len(scores), metrics=metrics
    )
    prompts = list(project.prompts.order_by("id"))
    PromptEvaluation.objects.bulk_create(
        PromptEvaluation(evaluation=evaluation, prompt=prompts[i], external_id=prompts[i].external_id,
                         scores=s, ranking=dense_ranking(s))
        for i, s in scores.items()
    )  # fmt: skip
    return evaluation


def evaluated_job(project: Project) -> TrainingJob:
    job = finished_job(project)
    add_evaluation(job, "base", BASE, robustness={"order_consistency": 0.5, "whitespace_consistency": 0.75})
    add_evaluation(job, "tuned", TUNED, robustness={"order_consistency": 1.0, "whitespace_consistency": 0.5})
    return job
