"""Score and store: the worker side of a judging job (``JobRun`` calls ``judging_stages`` for kind "judge")
and ``manage.py judge`` (``judge_project``). The model is loaded once; prompts are scored in chunks so a
job shows its progress and can be cancelled between chunks; the rankings are stored at the end, in
one transaction, so a cancelled run leaves none half written."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields

from django.db import transaction

from ranking_app.annotators import model_annotator_get_or_create
from ranking_app.models import Project, Prompt, Ranking
from ranking_app.ranking import ranks_to_tiers
from ranking_app.ranking_store import ranking_save
from training.engine.judge_settings import JudgeSettings

from ..models import TrainingJob
from ..services.adapters import adapter_path
from .selectors import judge_records, judged_prompts

logger = logging.getLogger("training.job")
CHUNK_PROMPTS = 16
SETTING_NAMES = tuple(f.name for f in fields(JudgeSettings) if f.name not in ("model", "adapter"))
MODEL_SOURCE = "model"


def judge_project(*, project: Project, settings, annotator_name: str, round_number: int | None = None,
                  progress: Callable[[int, int], None] | None = None, check_cancel: Callable[[], None] | None = None,
                  db_lock=None) -> dict:
    """Rank every prompt of ``project`` (of one round) with the model of ``settings`` and store the rankings."""
    from training.engine.judge import ModelJudge

    records = judge_records(judged_prompts(project=project, round_number=round_number))
    judge = ModelJudge(settings)
    results: list[dict] = []
    try:
        for start in range(0, len(records), CHUNK_PROMPTS):
            if check_cancel is not None:
                check_cancel()
            results += judge.judge(records[start : start + CHUNK_PROMPTS])
            if progress is not None:
                progress(len(results), len(records))
    finally:
        judge.close()
    if db_lock is None:
        stored = model_rankings_store(project=project, annotator_name=annotator_name, results=results)
    else:
        with db_lock:
            stored = model_rankings_store(project=project, annotator_name=annotator_name, results=results)
    logger.info("%s ranked %s prompts (%s stored, %s unchanged)", stored["annotator"], len(results),
                stored["stored"], stored["unchanged"])
    return {**stored, "prompts": len(results), "kind": judge.kind}


def judging_stages(run) -> tuple[str, dict]:
    job = run.job
    run.reporter.set_phase("ranking with the model")
    result = judge_project(
        project=job.project, settings=job_judge_settings(job), annotator_name=job.config["annotator"],
        round_number=job.config.get("round"), progress=lambda done, total: run.reporter.progress(step=done, total=total),
        check_cancel=run._check_cancel, db_lock=run.reporter.db_lock,
    )  # fmt: skip
    return TrainingJob.Status.SUCCEEDED, {"result": result}


def job_judge_settings(job: TrainingJob) -> JudgeSettings:
    """The engine settings of a judging job (the adapter resolved to its folder)."""
    config = job.config
    adapter = str(adapter_path(TrainingJob.objects.get(pk=config["adapter_job"]))) if config.get("adapter_job") else None
    return JudgeSettings(model=job.base_model, adapter=adapter, **{k: config[k] for k in SETTING_NAMES if k in config})


def model_rankings_store(*, project: Project, annotator_name: str, results: list[dict]) -> dict:
    """Store each ``{"id": prompt pk, "rankings": ranks}`` as the model annotator's submitted ranking.

    A project without ties gets the model's tied responses in canonical order. Returns counts.
    """
    annotator = model_annotator_get_or_create(name=annotator_name)
    prompts = {str(p.pk): p for p in Prompt.objects.filter(project=project, pk__in=[int(r["id"]) for r in results])}
    stored = unchanged = 0
    with transaction.atomic():
        for result in results:
            before = Ranking.objects.filter(prompt=prompts[result["id"]], annotator=annotator).values_list("version", flat=True).first()
            ranking = ranking_save(prompt=prompts[result["id"]], annotator=annotator, status=Ranking.Status.SUBMITTED,
                                   tiers=_tiers(result["rankings"], project.allow_ties), source=MODEL_SOURCE)
            stored, unchanged = (stored, unchanged + 1) if ranking.version == before else (stored + 1, unchanged)
    return {"annotator": annotator.username, "stored": stored, "unchanged": unchanged}


def _tiers(ranks: list[int | None], allow_ties: bool) -> list[list[int]]:
    tiers = ranks_to_tiers(ranks)
    return tiers if allow_ties else [[position] for tier in tiers for position in tier]
