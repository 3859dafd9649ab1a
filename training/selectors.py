"""Reads for the job pages and the API. A running job whose worker stopped sending heartbeats is
*shown* as ``interrupted`` (``BackgroundRun.stale`` / ``shown_status``, training/work/models.py); storing
that is the reaper's write (``training.work.transitions.runs_reap``), never a read's."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils import timezone

from ranking_app.exchange.selectors import export_records

from .engine.metrics import HOLM_NOTE, holm
from .engine.readiness import exchange_readiness
from .models import EvaluationResult, JobMetric, TrainingJob

# the whitespace robustness row (stored under metrics["robustness"], one figure per model, no interval)
WHITESPACE_ROW = ("whitespace_consistency", "Robustness: same order after whitespace edits")
METRIC_LABELS = {
    "accuracy": "Top-1 accuracy", "ndcg": "nDCG", "mrr": "MRR", "kendall_tau": "Kendall tau-b",
    "pairwise_accuracy": "Pairwise accuracy", "adjacent_pair_accuracy": "Adjacent-tier pair accuracy",
}  # fmt: skip
# scorings in order of preference, each with the one line the page explains it by
SCORINGS = {
    "sum_logp": "Responses ranked by their summed token log-probability under each model: what grpo and "
                "plackett-luce runs train (favours short responses).",
    "mean_logp": "Responses ranked by their mean token log-probability under each model: what length-normalised "
                 "and orpo runs train.",
    "implicit_reward": "Responses ranked by the implicit reward beta * (log pi - log pi_ref) summed over their tokens. "
                       "The base model is its own reference (every reward 0), so the tuned model is compared with "
                       "chance here, not with the base model.",
}  # fmt: skip
VS_CHANCE = "implicit_reward"  # the scoring whose "change" is tuned vs chance: it has no base-model column
STRATUM_LABELS = {
    "unanimous": "Pairs every annotator ordered alike", "contested": "Pairs annotators disagreed on",
    "adjacent_tier": "Adjacent-tier pairs", "distant_tier": "Distant-tier pairs (2+ tiers apart)",
}  # fmt: skip


def job_shown(job: TrainingJob, *, now=None) -> TrainingJob:
    """``job`` as a page shows it: a running job with a stale heartbeat reads as interrupted (in memory)."""
    if job.shown_status(now) != job.status:
        job.status, job.phase, job.error = job.shown_status(now), "", job.error or TrainingJob.STALE_ERROR
    return job


class ShownJobs(ModelIterable):
    """Yields each job of a queryset through ``job_shown`` (slicing and paging keep working)."""

    def __iter__(self):
        now = timezone.now()
        for job in super().__iter__():
            yield job_shown(job, now=now)


def job_list(*, project=None, status: str | None = None) -> QuerySet[TrainingJob]:
    jobs = TrainingJob.objects.select_related("project", "export", "created_by").annotate(
        status_shown=TrainingJob.shown_status_case())
    if project is not None:
        jobs = jobs.filter(project=project)
    if status:
        jobs = jobs.filter(status_shown=status)
    jobs._iterable_class = ShownJobs  # Django's hook for what a queryset yields (as values() sets it)
    return jobs


def job_get(*, pk: int) -> TrainingJob:
    return job_shown(TrainingJob.objects.select_related("project", "export", "created_by").get(pk=pk))


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


SERIES = ("loss", "pair_accuracy", "reward_margin", "learning_rate", "reward_best", "reward_worst",
          "logp_best_policy", "logp_best_reference", "kl", "kl_se", "eval_loss", "eval_pair_accuracy")
DEFAULT_KL_WARNING = 10.0  # RankedGRPOConfig.kl_warning's default, for jobs launched before it existed


def job_metric_series(*, job: TrainingJob) -> dict:
    """Per logging step: the columns the charts plot, and the KL threshold the job flags."""
    rows = list(JobMetric.objects.filter(job=job).order_by("step").values_list("step", *SERIES))
    series = {"steps": [r[0] for r in rows]}
    series.update({name: [r[index] for r in rows] for index, name in enumerate(SERIES, start=1)})
    return {**series, **job_kl_alert(job=job, kl=series["kl"])}


def job_kl_alert(*, job: TrainingJob, kl: list | None = None) -> dict:
    """``kl_warning`` (the job's threshold), ``kl_max`` (largest estimate so far) and ``kl_exceeded``."""
    if kl is None:
        kl = list(JobMetric.objects.filter(job=job, kl__isnull=False).values_list("kl", flat=True))
    values = [v for v in kl if v is not None]
    threshold = (job.config or {}).get("kl_warning") or DEFAULT_KL_WARNING
    peak = max(values) if values else None
    return {"kl_warning": threshold, "kl_max": peak, "kl_exceeded": peak is not None and peak > threshold}


def job_evaluations(*, job: TrainingJob) -> dict[str, EvaluationResult]:
    """The job's own held-out evaluations, by model ("base", "tuned")."""
    return {e.model: e for e in EvaluationResult.objects.filter(job=job, export=job.export, split="test")}


def job_verdict(*, job: TrainingJob) -> dict | None:
    """The verdict stored with the job's tuned evaluation (``training.engine.verdict``); None before it
    exists or for evaluations stored before verdicts. Every page reads its base and tuned figures here."""
    tuned = job_evaluations(job=job).get("tuned")
    verdict = tuned.metrics.get("verdict") if tuned else None
    return verdict if isinstance(verdict, dict) else None


def _default_scoring(evaluations: list[dict], available: list[str]) -> str:
    """The scoring the evaluation was declared under (its verdict's), else the first log-prob one stored."""
    declared = next((m.get("scoring") for m in evaluations if m.get("scoring") in available), None)
    return declared or next((name for name in available if name != VS_CHANCE), available[0])


def _base_side(base, tuned, scoring: str) -> dict:
    """The base model's figures: the base half of the tuned evaluation (the verdict's numbers, same
    prompts and settings), else the job's own base evaluation while training runs."""
    half = (tuned.metrics.get("base") or {}) if tuned else {}
    source = half if isinstance(half.get("scorings"), dict) else (base.metrics if base else {})
    return (source.get("scorings") or {}).get(scoring, {})


def evaluation_table(*, job: TrainingJob, scoring: str | None = None) -> dict:
    """The job page's evaluation: the verdict first, then for one scoring (default: the verdict's) each
    metric's base and tuned value with intervals, chance, length baselines, the paired change and its
    Holm-adjusted significance over the table's rows; robustness strata and whitespace robustness.
    Under the implicit reward there is no base-model column: its change is tuned vs chance.
    ``evaluated`` says whether the job has an evaluation at all; one stored without per-scoring
    figures (before they existed) gives no rows: evaluate the job again."""
    evaluations = job_evaluations(job=job)
    base, tuned = evaluations.get("base"), evaluations.get("tuned")
    stored = [e.metrics for e in (tuned, base) if e is not None and isinstance(e.metrics.get("scorings"), dict)]
    if not stored:
        return {"rows": [], "scoring": None, "verdict": job_verdict(job=job), "evaluated": bool(evaluations)}
    available = [name for name in SCORINGS if any(name in m["scorings"] for m in stored)]
    scoring = scoring if scoring in available else _default_scoring(stored, available)
    side = {"base": {} if scoring == VS_CHANCE else _base_side(base, tuned, scoring),
            "tuned": (tuned.metrics.get("scorings") or {}).get(scoring, {}) if tuned else {}}
    reference = stored[0]
    change = holm((tuned.metrics.get("change") or {}).get(scoring, {}) if tuned else {})
    rows = [_metric_row(key, side, reference, change.get(key)) for key in METRIC_LABELS]
    return {
        "evaluated": True, "scoring": scoring, "scorings": available, "explanation": SCORINGS[scoring], "vs_chance": scoring == VS_CHANCE,
        "verdict": job_verdict(job=job), "rows": rows,
        "holm_note": HOLM_NOTE.format(n=sum(row["change"] is not None for row in rows)),
        "strata": [_stratum_row(key, side) for key in STRATUM_LABELS],
        "robustness": _whitespace_rows(base, tuned),
        "length": {"base": side["base"].get("length_spearman"), "tuned": side["tuned"].get("length_spearman"),
                   "human": reference.get("human_length_spearman")},
    }  # fmt: skip


def _metric_row(key: str, side: dict, reference: dict, change: dict | None) -> dict:
    figures = {name: (scoring.get("metrics") or {}).get(key) or {} for name, scoring in side.items()}
    baselines = reference.get("baselines") or {}
    return {
        "key": key, "label": METRIC_LABELS[key], "base": figures["base"].get("value"),
        "base_low": figures["base"].get("low"), "base_high": figures["base"].get("high"),
        "tuned": figures["tuned"].get("value"), "tuned_low": figures["tuned"].get("low"),
        "tuned_high": figures["tuned"].get("high"), "chance": (reference.get("chance") or {}).get(key),
        "longer": ((baselines.get("longer") or {}).get(key) or {}).get("value"),
        "shorter": ((baselines.get("shorter") or {}).get(key) or {}).get("value"),
        "change": (change or {}).get("delta"), "change_low": (change or {}).get("low"),
        "change_high": (change or {}).get("high"), "significant": bool((change or {}).get("significant")),
    }  # fmt: skip


def _stratum_row(key: str, side: dict) -> dict:
    strata = {name: (scoring.get("strata") or {}).get(key) or {} for name, scoring in side.items()}
    either = strata["tuned"] or strata["base"]
    return {"key": key, "label": STRATUM_LABELS[key], "n_pairs": either.get("n_pairs", 0),
            "base": strata["base"].get("accuracy"), "tuned": strata["tuned"].get("accuracy"),
            "human_ceiling": either.get("human_ceiling"), "ceiling_pairs": either.get("ceiling_pairs"),
            "tuned_ceiling_pairs": strata["tuned"].get("accuracy_ceiling_pairs")}


def _whitespace_rows(base, tuned) -> list[dict]:
    """The whitespace robustness figure of each model, when either evaluation has one."""
    key, label = WHITESPACE_ROW
    before, after = (_figure(e.metrics.get("robustness"), key) if e else None for e in (base, tuned))
    if before is None and after is None:
        return []
    return [{"key": key, "label": label, "base": before, "tuned": after}]


def project_readiness(*, project, validated_only: bool = True) -> dict:
    """Is this data ready? The agreement figures and warnings of what a job launched now would train on
    (``training.engine.readiness``: the figures ``train`` prints and the job page keeps)."""
    return exchange_readiness(export_records(project, validated_only=validated_only))


def job_log_tail(*, job: TrainingJob, lines: int = 60) -> str:
    path = job.work_path / "job.log"
    if not path.is_file():
        return ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))


def _figure(values, key: str):
    value = values.get(key) if isinstance(values, dict) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
