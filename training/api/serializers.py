"""Input and output shapes of the job API."""

from rest_framework import serializers

from ranking_app.api.common import StrictBooleanField

from ..models import TrainingJob
from ..selectors import evaluation_comparison, job_evaluations, job_metric_series, job_timing


class JobLaunchInput(serializers.Serializer):
    project = serializers.SlugField(help_text="Slug of the project to export and train on.")
    preset = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="cpu-smoke or gpu-qlora; its values fill what `config` leaves out.")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    validated_only = StrictBooleanField(required=False, default=True)
    config = serializers.DictField(required=False, default=dict,
                                   help_text="RankedGRPOConfig hyperparameters (see the launch form for each).")


def _seconds(delta):
    return None if delta is None else round(delta.total_seconds(), 1)


def job_summary(job: TrainingJob) -> dict:
    timing = job_timing(job)
    return {
        "id": job.pk,
        "name": job.name,
        "project": job.project.slug,
        "preset": job.preset,
        "base_model": job.base_model,
        "status": job.status,
        "phase": job.phase,
        "progress": {
            "step": job.step, "total_steps": job.total_steps, "epoch": job.epoch, "percent": job.progress_percent,
            "eta_seconds": _seconds(timing["eta"]), "duration_seconds": _seconds(timing["duration"]),
            "latest_metrics": job.latest_metrics,
        },
        "attempts": job.attempts,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
    }  # fmt: skip


def job_detail(job: TrainingJob) -> dict:
    evaluations = job_evaluations(job=job)
    return {
        **job_summary(job),
        "config": job.config,
        "export": {"id": job.export_id, "sha256": job.export.sha256, "path": job.export.path,
                   "validated_only": job.export.filters.get("validated_only")},
        "data_summary": job.data_summary,
        "worker_id": job.worker_id,
        "cancel_requested": job.cancel_requested,
        "resumed_from": job.resumed_from,
        "adapter_dir": job.adapter_dir,
        "result": job.result,
        "metrics": job_metric_series(job=job),
        "evaluation": {
            "base": evaluations["base"].metrics if "base" in evaluations else None,
            "tuned": evaluations["tuned"].metrics if "tuned" in evaluations else None,
            "comparison": evaluation_comparison(job=job),
        },
    }  # fmt: skip
