"""Input and output shapes of the job API."""

from rest_framework import serializers

from ranking_app.api.common import StrictBooleanField, StrictIntegerField, not_found
from ranking_app.models import Project

from ..models import TrainingJob
from ..selectors import evaluation_table, job_evaluations, job_metric_series, job_timing
from ..services.job_config import JobConfigError, config_build


class ProjectInput(serializers.Serializer):
    """A launch request names its project by slug; validated data holds the ``Project`` (404 when none)."""

    project = serializers.SlugField(help_text="Slug of the project.")

    def validate_project(self, slug: str) -> Project:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise not_found("project", f"no project {slug!r}")
        return project


class JobLaunchInput(ProjectInput):
    preset = serializers.CharField(required=False, allow_blank=True, default="",
                                   help_text="cpu-smoke or gpu-qlora; its values fill what `config` leaves out.")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    validated_only = StrictBooleanField(required=False, default=True)
    rounds = serializers.ListField(
        child=StrictIntegerField(min_value=0, max_value=10_000), required=False, allow_null=True, default=None,
        max_length=1000, help_text="Rounds of the loop to train on (0: data from before the loop); omitted, every round.",
    )  # fmt: skip
    config = serializers.DictField(required=False, default=dict,
                                   help_text="RankedGRPOConfig hyperparameters (see the launch form for each).")

    def validate(self, attrs: dict) -> dict:
        """The engine's rules on every hyperparameter at once (``RankedGRPOConfig.errors``): 400 with field errors."""
        try:
            attrs["config"] = config_build(values=attrs.get("config", {}), preset=attrs.get("preset", ""))
        except JobConfigError as exc:
            raise serializers.ValidationError(launch_errors(exc)) from None
        return attrs


LAUNCH_KEYS = {"project", "preset", "name", "validated_only"}


def launch_errors(exc: JobConfigError) -> dict:
    """A launch's errors as the API returns them: its own fields at the top, hyperparameters under ``config``."""
    top, config = {}, {}
    for field, messages in exc.errors.items():
        if field in LAUNCH_KEYS:
            top[field] = messages
        elif field == "__all__":
            top["non_field_errors"] = messages
        else:
            config[field] = messages
    return {**top, **({"config": config} if config else {})}


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
    table = evaluation_table(job=job)
    return {
        **job_summary(job),
        "config": job.config,
        "kind": job.kind,
        "round": job.round.number if job.round else None,
        "export": {"id": job.export_id, "sha256": job.export.sha256, "path": job.export.path,
                   "validated_only": job.export.filters.get("validated_only")} if job.export else None,
        "data_summary": job.data_summary,
        "worker_id": job.worker_id,
        "launcher": job.launcher,
        "launch_ref": job.launch_ref,
        "launch": job.launch,
        "cancel_requested": job.cancel_requested,
        "actions": list(job.allowed_actions()),  # what the job page offers now (BackgroundRun.allowed_actions)
        "resumed_from": job.resumed_from,
        "adapter_dir": job.adapter_dir,
        "result": job.result,
        "metrics": job_metric_series(job=job),
        "evaluation": {
            "base": evaluations["base"].metrics if "base" in evaluations else None,
            "tuned": evaluations["tuned"].metrics if "tuned" in evaluations else None,
            "verdict": table.get("verdict"),  # the pre-declared tuned vs base comparison (docs/training.md)
            "scoring": table["scoring"],  # what "comparison" ranks responses by: the verdict's scoring
            "comparison": table["rows"],
        },
    }  # fmt: skip
