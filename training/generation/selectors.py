"""The preference loop as a timeline: round -> its candidates -> rankings -> training jobs -> evaluation."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from ranking_app.models import Project, Prompt, Ranking, Response, Round

from ..models import EvaluationResult, TrainingJob
from ..selectors import METRIC_LABELS

TIMELINE_METRICS = ("pairwise_accuracy", "ndcg", "accuracy")


def timeline_metric_labels() -> list[tuple[str, str]]:
    """``(metric key, the name a person reads)`` for the timeline's columns."""
    return [(name, METRIC_LABELS[name]) for name in TIMELINE_METRICS]


def project_timeline(*, project: Project) -> list[dict]:
    """One entry per round, oldest first; round 0 holds the data that came before the loop (if any)."""
    rounds: list[Round | None] = [None, *Round.objects.filter(project=project).order_by("number")]
    jobs = list(TrainingJob.objects.filter(project=project).order_by("created_at", "id"))
    metrics = _tuned_metrics([j for j in jobs if j.kind == TrainingJob.Kind.TRAIN])
    entries = [_entry(project, round_, jobs, metrics) for round_ in rounds]
    return [e for e in entries if e["number"] or e["prompts"] or e["training_jobs"]]


def _entry(project: Project, round_: Round | None, jobs: list[TrainingJob], metrics: dict) -> dict:
    round_id = round_.pk if round_ else None
    mine = [j for j in jobs if j.round_id == round_id]
    trained = [{"job": j, "metrics": metrics.get(j.pk, {})} for j in mine if j.kind == TrainingJob.Kind.TRAIN]
    return {
        "number": round_.number if round_ else 0,
        "created_at": round_.created_at if round_ else None,
        **_prompt_counts(project, round_),
        "generation": next((j for j in mine if j.kind == TrainingJob.Kind.GENERATE), None),
        "training_jobs": trained,
        "rows": trained or [{"job": None, "metrics": {}}],  # a table row per job, one for a round without jobs
    }


def _prompt_counts(project: Project, round_: Round | None) -> dict:
    prompts = Prompt.objects.filter(project=project, round=round_)
    submitted = Ranking.objects.filter(prompt=OuterRef("pk"), status=Ranking.Status.SUBMITTED)
    counts = prompts.aggregate(
        prompts=Count("pk"),
        with_responses=Count("pk", filter=Q(Exists(Response.objects.filter(prompt=OuterRef("pk"))))),
        ranked=Count("pk", filter=Q(Exists(submitted))),
    )
    counts["rankings"] = Ranking.objects.filter(prompt__in=prompts, status=Ranking.Status.SUBMITTED).count()
    return counts


def _tuned_metrics(jobs: list[TrainingJob]) -> dict[int, dict]:
    """{job id: {metric: [base, tuned], "verdict": {...} | None, "scoring": name}} from each job's own
    held-out evaluations: once the tuned model is evaluated, both sides come from that one evaluation
    (its verdict and its base half, the job page's figures); before, the base evaluation alone."""
    found: dict[int, dict] = {}
    evaluations = EvaluationResult.objects.filter(job__in=jobs, split="test").select_related("job")
    for evaluation in sorted(evaluations, key=lambda e: e.model != "base"):  # base first, tuned overrides
        if evaluation.export_id != evaluation.job.export_id:
            continue
        entry = found.setdefault(evaluation.job_id, {name: [None, None] for name in TIMELINE_METRICS})
        if evaluation.model == "base":
            entry.update({name: [evaluation.metrics.get(name), None] for name in TIMELINE_METRICS},
                         scoring=evaluation.metrics.get("scoring"))
        else:
            entry.update(_tuned_figures(evaluation.metrics, entry))
    return found


def _tuned_figures(metrics: dict, entry: dict) -> dict:
    base_half = metrics.get("base") or {}
    scoring = metrics.get("scoring")
    if not scoring or not isinstance(base_half.get("scorings"), dict):  # stored before verdicts: flat figures
        return {name: [entry[name][0], metrics.get(name)] for name in TIMELINE_METRICS}
    before, after = base_half["scorings"][scoring]["metrics"], metrics["scorings"][scoring]["metrics"]
    figures = {name: [before[name]["value"], after[name]["value"]] for name in TIMELINE_METRICS}
    return {**figures, "scoring": scoring, "verdict": metrics.get("verdict")}
