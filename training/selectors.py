"""Reads for the job pages and the API. Each read first turns dead runs into ``interrupted``,
so a page (re)load always shows the true state."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import EvaluationResult, JobMetric, TrainingJob
from .services.jobs import job_work_dir, jobs_mark_interrupted

# rows of the before/after table: (key, label, where in the metrics dict)
EVAL_ROWS = (
    ("accuracy", "Top-1 accuracy", ("accuracy",)),
    ("ndcg", "nDCG", ("ndcg",)),
    ("mrr", "MRR", ("mrr",)),
    ("kendall_tau", "Kendall tau-b", ("kendall_tau",)),
    ("pairwise_accuracy", "Pairwise accuracy", ("pairwise_accuracy",)),
    ("adjacent_pair_accuracy", "Robustness: adjacent-tier pair accuracy", ("robustness", "adjacent_pair_accuracy")),
    ("order_consistency", "Robustness: same order when responses are shuffled", ("robustness", "order_consistency")),
    ("whitespace_consistency", "Robustness: same order after whitespace edits",
     ("robustness", "whitespace_consistency")),
)  # fmt: skip


def job_list(*, project=None, status: str | None = None) -> QuerySet[TrainingJob]:
    jobs_mark_interrupted()
    jobs = TrainingJob.objects.select_related("project", "export", "created_by")
    if project is not None:
        jobs = jobs.filter(project=project)
    if status:
        jobs = jobs.filter(status=status)
    return jobs


def job_get(*, pk: int) -> TrainingJob:
    jobs_mark_interrupted()
    return TrainingJob.objects.select_related("project", "export", "created_by").get(pk=pk)


def job_timing(job: TrainingJob, *, now=None) -> dict:
    """Duration so far (or in total) and, while training, the ETA from this attempt's step rate."""
    now = now or timezone.now()
    duration = eta = None
    if job.started_at:
        duration = (job.finished_at or now) - job.started_at
    if job.status == TrainingJob.Status.RUNNING and job.train_started_at and job.total_steps:
        done = job.step - job.train_started_step
        if done > 0:
            per_step = (now - job.train_started_at).total_seconds() / done
            eta = timedelta(seconds=round(per_step * max(job.total_steps - job.step, 0)))
    return {"duration": duration, "eta": eta}


def job_metric_series(*, job: TrainingJob) -> dict:
    """Per logging step: the columns the charts plot."""
    rows = list(
        JobMetric.objects.filter(job=job).order_by("step").values_list(
            "step", "loss", "pair_accuracy", "reward_margin", "learning_rate"
        )
    )
    return {
        "steps": [r[0] for r in rows],
        "loss": [r[1] for r in rows],
        "pair_accuracy": [r[2] for r in rows],
        "reward_margin": [r[3] for r in rows],
        "learning_rate": [r[4] for r in rows],
    }


def job_evaluations(*, job: TrainingJob) -> dict[str, EvaluationResult]:
    """The job's own held-out evaluations, by model ("base", "tuned")."""
    return {e.model: e for e in EvaluationResult.objects.filter(job=job, export=job.export, split="test")}


def evaluation_comparison(*, job: TrainingJob) -> list[dict]:
    """Rows of the before/after table: base, tuned, change (None where a side is missing)."""
    evaluations = job_evaluations(job=job)
    base, tuned = evaluations.get("base"), evaluations.get("tuned")
    rows = []
    for key, label, path in EVAL_ROWS:
        before = _dig(base.metrics, path) if base else None
        after = _dig(tuned.metrics, path) if tuned else None
        if before is None and after is None:
            continue
        change = after - before if before is not None and after is not None else None
        rows.append({"key": key, "label": label, "base": before, "tuned": after, "change": change})
    return rows


def job_log_tail(*, job: TrainingJob, lines: int = 60) -> str:
    path = job_work_dir(job) / "job.log"
    if not path.is_file():
        return ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))


def _dig(metrics: dict, path: tuple[str, ...]):
    value = metrics
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
