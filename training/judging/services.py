"""Rank a project's responses with a model: the job ("Rank with a model") and storing its rankings.

A judging job is a ``TrainingJob`` of kind ``judge``: the same queue, worker, claim, heartbeat,
cancel and resume as training and generation. Its worker (``training/judging/run.py``) scores every
prompt with ``training.engine.judge.ModelJudge`` and stores the rankings here, through
``ranking_save``, under a model annotator named after the model (``ranking_app.annotators``).
``manage.py judge`` does the same in its own process, without a job row.
"""

from __future__ import annotations

from django.db import transaction

from ranking_app.annotators import model_annotator_name
from ranking_app.models import Project
from training.engine.judge_settings import settings_errors

from ..models import TrainingJob
from ..services.job_config import JobConfigError
from ..services.jobs import check_base_model, enqueue_on_commit
from .run import SETTING_NAMES
from .selectors import judged_prompts, round_exists


def judge_settings_errors(values: dict) -> dict[str, list[str]]:
    """Every problem of the judge settings ``values`` (JudgeSettings fields), by field."""
    unknown = set(values) - set(SETTING_NAMES) - {"model", "adapter"}
    if unknown:
        return {"settings": [f"unknown setting(s): {', '.join(sorted(unknown))}"]}
    return {name: [message] for name, message in settings_errors(values).items()}


def judging_launch(
    *, project: Project, model: str = "", adapter_job: TrainingJob | None = None, settings: dict | None = None,
    round_number: int | None = None, created_by=None, name: str = "",
) -> TrainingJob:
    """Queue a job that ranks the responses of ``project`` (one round when given) with a model.

    ``model`` is a hub id or folder (a reward model from ``train-reward``, or a causal LM), or left
    empty with ``adapter_job``: that finished training job's base model and adapter. Raises
    ``JobConfigError`` (field -> messages) and stores nothing when the request is not valid.
    """
    settings = settings or {}
    model, errors = _model(project, model, adapter_job)
    errors.update(judge_settings_errors(settings))
    errors.update(_prompt_errors(project, round_number))
    if errors:
        raise JobConfigError(errors)
    check_base_model(model)
    annotator = model_annotator_name(model, f"job-{adapter_job.pk}" if adapter_job else None)
    config = {**settings, "adapter_job": adapter_job.pk if adapter_job else None, "round": round_number,
              "annotator": annotator}  # fmt: skip
    with transaction.atomic():
        job = TrainingJob.objects.create(
            kind=TrainingJob.Kind.JUDGE, project=project, base_model=model, config=config, created_by=created_by,
            name=name or f"{project.slug}: rank with {annotator}",
            data_summary={"prompts": len(judged_prompts(project=project, round_number=round_number))},
        )  # fmt: skip
        job.work_dir = f"job-{job.pk}"
        job.save(update_fields=["work_dir"])
        enqueue_on_commit(job.pk)
    return job


def _model(project: Project, model: str, adapter_job: TrainingJob | None) -> tuple[str, dict[str, list[str]]]:
    if adapter_job is None:
        return model, ({} if model else {"model": ["required (a hub id or a model folder) unless a tuned job is chosen"]})
    if (adapter_job.project_id != project.pk or adapter_job.kind != TrainingJob.Kind.TRAIN
            or adapter_job.status != TrainingJob.Status.SUCCEEDED or not adapter_job.adapter_dir):
        return model, {"adapter_job": [f"job {adapter_job.pk} is not a finished training job of {project.slug}"]}
    if model and model != adapter_job.base_model:
        return model, {"model": [f"must be the adapter's base model {adapter_job.base_model!r} (or empty)"]}
    return adapter_job.base_model, {}


def _prompt_errors(project: Project, round_number: int | None) -> dict[str, list[str]]:
    if round_number is not None and not round_exists(project=project, round_number=round_number):
        return {"round": [f"{project.slug} has no round {round_number}"]}
    if not judged_prompts(project=project, round_number=round_number):
        where = f"round {round_number}" if round_number is not None else project.slug
        return {"round": [f"{where} has no prompt with two responses or more to rank"]}
    return {}
