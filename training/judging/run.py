"""Score and store: the worker side of a judging job (``JobRun`` calls ``judging_stages`` for kind "judge")
and ``manage.py judge`` (``judge_project``). The model is loaded once; prompts are scored in chunks so a
job shows its progress and can be cancelled between chunks; the rankings are stored at the end, in
one transaction, so a cancelled run leaves none half written."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ranking_app.models import Project

from ..models import TrainingJob
from .selectors import judge_records, judged_prompts
from .services import job_judge_settings, model_rankings_store

logger = logging.getLogger("training.job")
CHUNK_PROMPTS = 16


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
