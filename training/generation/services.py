"""Generation jobs: fill a round of prompts with K sampled candidates from the base model, a
finished job's adapter, or a mix of both (the preference loop's "generate" step).

A generation job is a ``TrainingJob`` of kind ``generate``: the same queue, worker, claim,
heartbeat, cancel and resume. Launching one opens the project's next ``Round``:

* ``prompt_set="all"`` (the default): every prompt of the project is asked again as a new prompt
  (``<id>@r<N>``) in the new round, once per prompt however many rounds asked it before; prompts
  still waiting for responses (imported without any, in no round yet) join the round as they are.
  It always exists, so the defaults work on a fresh demo;
* ``prompt_set="held_out"``: the same for the held-out (``split="test"``) prompts only;
* ``prompt_set="empty"``: the project's prompts that have no responses yet join the new round;
* ``prompt_set="previous_round"``: every prompt of the latest round is asked again as a new prompt
  in the new round, e.g. to sample from the newly tuned adapter.

The worker (``training/generation/run.py``) stores the candidates through the importer, shuffled
so a response's position says nothing of the model that wrote it; labelers never see sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef

from ranking_app.models import Project, Prompt, Response, Round
from training.engine.generate import GenerationSettings

from ..models import TrainingJob
from ..services.job_config import JobConfigError
from ..services.jobs import check_base_model, enqueue_on_commit

PROMPT_SETS = ("all", "held_out", "empty", "previous_round")
PROMPT_SET_LABELS = {
    "all": "all prompts of the project, asked again as a new round",
    "held_out": "held-out (test split) prompts only, asked again as a new round",
    "empty": "prompts still waiting for responses",
    "previous_round": "the latest round's prompts, asked again",
}
SAMPLING_DEFAULTS = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 64, "seed": 0}


@dataclass(frozen=True)
class CandidateSource:
    """``count`` responses per prompt from the base model (``job`` None) or a finished job's adapter."""

    count: int
    job: TrainingJob | None = None

    def as_config(self) -> dict:
        return {"count": self.count, "adapter_job": self.job.pk if self.job else None}


def generation_launch(
    *, project: Project, sources: list[CandidateSource], base_model: str = "", sampling: dict | None = None,
    prompt_set: str = "empty", created_by=None, name: str = "",
) -> TrainingJob:
    """Open the next round of ``project`` and queue a job that generates its candidates.

    Raises ``JobConfigError`` (field -> messages) and stores nothing when the request is not valid.
    """
    sampling = {**SAMPLING_DEFAULTS, **(sampling or {})}
    base_model, errors = _base_model(sources, base_model)
    errors.update(_request_errors(project, sources, sampling, prompt_set))
    if errors:
        raise JobConfigError(errors)
    check_base_model(base_model)
    with transaction.atomic():
        round_ = _next_round(project)
        n_prompts = _round_prompts(project, round_, prompt_set)
        if not n_prompts:
            raise JobConfigError({"prompt_set": [_no_prompts_message(prompt_set)]})
        config = {"base_model": base_model, "sources": [s.as_config() for s in sources], "prompt_set": prompt_set,
                  **sampling}  # fmt: skip
        job = TrainingJob.objects.create(
            kind=TrainingJob.Kind.GENERATE, project=project, round=round_, base_model=base_model, config=config,
            name=name or f"{project.slug} round {round_.number} candidates", created_by=created_by,
            data_summary={"prompts": n_prompts, "responses_per_prompt": sum(s.count for s in sources)},
        )  # fmt: skip
        job.work_dir = f"job-{job.pk}"
        job.save(update_fields=["work_dir"])
        enqueue_on_commit(job.pk)
    return job


def _base_model(sources: list[CandidateSource], base_model: str) -> tuple[str, dict[str, list[str]]]:
    """The model every source samples from (an adapter's base when one is tuned), and any error."""
    tuned = [s.job for s in sources if s.job is not None]
    if tuned and base_model and base_model != tuned[0].base_model:
        return base_model, {"base_model": [f"must be the adapter's base model {tuned[0].base_model!r}"]}
    if not (base_model or tuned):
        return base_model, {"base_model": ["required when every response comes from the base model"]}
    return base_model or tuned[0].base_model, {}


def _request_errors(project: Project, sources: list[CandidateSource], sampling: dict, prompt_set: str) -> dict:
    errors: dict[str, list[str]] = {}
    total = sum(s.count for s in sources if isinstance(s.count, int))
    if not sources or any(not isinstance(s.count, int) or s.count < 1 for s in sources):
        errors["sources"] = ["each source needs a count of at least 1 response per prompt"]
    elif not settings.IMPORT_MIN_RESPONSES <= total <= settings.IMPORT_MAX_RESPONSES:
        errors["sources"] = [f"{total} responses per prompt; a prompt needs "
                             f"{settings.IMPORT_MIN_RESPONSES} to {settings.IMPORT_MAX_RESPONSES}"]
    for source in sources:
        if source.job is not None and (source.job.project_id != project.pk or source.job.kind != TrainingJob.Kind.TRAIN
                                       or source.job.status != TrainingJob.Status.SUCCEEDED or not source.job.adapter_dir):
            errors.setdefault("sources", []).append(f"job {source.job.pk} is not a finished training job of {project.slug}")
    if prompt_set not in PROMPT_SETS:
        errors["prompt_set"] = [f"must be one of {', '.join(PROMPT_SETS)}"]
    unknown = set(sampling) - set(SAMPLING_DEFAULTS)
    if unknown:
        errors["sampling"] = [f"unknown setting(s): {', '.join(sorted(unknown))}"]
    else:
        probe = GenerationSettings(model="m", **sampling)
        for field, message in probe.errors().items():
            errors[field] = [message]
    return errors


def _next_round(project: Project) -> Round:
    last = Round.objects.select_for_update().filter(project=project).aggregate(n=Max("number"))["n"] or 0
    return Round.objects.create(project=project, number=last + 1)


def _round_prompts(project: Project, round_: Round, prompt_set: str) -> int:
    """Put the round's prompts in place; returns how many it has."""
    if prompt_set == "empty":
        return Prompt.objects.filter(project=project, responses__isnull=True).update(round=round_)
    if prompt_set == "previous_round":
        previous = Prompt.objects.filter(project=project, round__number=round_.number - 1).order_by("id")
        return _ask_again(project, round_, list(previous))
    prompts = Prompt.objects.filter(project=project).order_by("id")
    if prompt_set == "held_out":
        prompts = prompts.filter(split=Prompt.Split.TEST)
    prompts = prompts.annotate(answered=Exists(Response.objects.filter(prompt=OuterRef("pk"))))
    waiting = [p for p in prompts if not p.answered and p.round_id is None]
    waiting_stems = {_stem(p.external_id) for p in waiting}
    firsts: dict[str, Prompt] = {}
    for prompt in prompts:
        if prompt.answered and _stem(prompt.external_id) not in waiting_stems:
            firsts.setdefault(_stem(prompt.external_id), prompt)
    joined = Prompt.objects.filter(pk__in=[p.pk for p in waiting]).update(round=round_)
    return joined + _ask_again(project, round_, list(firsts.values()))


def _ask_again(project: Project, round_: Round, prompts: list[Prompt]) -> int:
    """Copies of ``prompts`` (``<id>@r<N>``, same text, split and metadata) in ``round_``, to get new candidates."""
    Prompt.objects.bulk_create([
        Prompt(project=project, round=round_, external_id=f"{_stem(p.external_id)}@r{round_.number}", text=p.text,
               split=p.split, metadata=p.metadata)
        for p in prompts
    ])  # fmt: skip
    return len(prompts)


def _stem(external_id: str) -> str:
    return re.sub(r"@r\d+$", "", external_id)


def _no_prompts_message(prompt_set: str) -> str:
    if prompt_set == "empty":
        return "the project has no prompts waiting for responses (import {\"id\", \"prompt\"} records first)"
    if prompt_set == "previous_round":
        return "the latest round has no prompts to ask again"
    if prompt_set == "held_out":
        return "the project has no held-out (test split) prompts; choose \"all prompts\" or import prompts with split \"test\""
    return "the project has no prompts yet (import some first)"
