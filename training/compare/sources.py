"""The ranking sources of a project and each source's rankings (dense ranks, ``UNRANKED_CODE`` unranked).

Sources of a project, by key:

* ``consensus``: the human consensus of each prompt (the adjudicated ranking where a reviewer set
  one), exactly as agreement, review and export see it (``ranking_app.review.agreement_store``);
* ``annotator:<username>``: one person's submitted rankings;
* ``base:<job id>`` / ``job:<job id>``: the base model / the job's tuned model, from the stored
  per-prompt evaluations on this project's test split; ``base:<id>:<split>`` / ``job:<id>:<split>``
  for another split. When a job was evaluated more than once on the same split of this project
  (e.g. on a fresh export), the latest evaluation is the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Count

from ranking_app import ranking
from ranking_app.annotators import model_annotators
from ranking_app.models import Project, Prompt, Ranking, Response
from ranking_app.review import agreement
from ranking_app.review.agreement_read import agreement_read

from ..engine.metrics import dense_ranking
from ..models import EvaluationResult, PromptEvaluation
from . import aggregates as cmp

SOURCE_KEY = re.compile(r"^(?:consensus|annotator:(?P<user>.+)|(?P<kind>base|job):(?P<job>\d+)(?::(?P<split>[\w-]+))?)$")
DEFAULT_SPLIT = "test"
# what a model source ranks responses by, in order of preference (the job page's), and where each
# scoring's per-prompt values are stored; a base model is its own reference: its implicit rewards are 0
SCORING_FIELDS = {"implicit_reward": "implicit_rewards", "mean_logp": "scores", "sum_logp": "sum_logps"}


@dataclass(frozen=True)
class Source:
    key: str
    kind: str  # consensus | annotator | base | tuned
    label: str
    job_id: int | None = None
    evaluation_id: int | None = None
    split: str | None = None
    robustness: dict = field(default_factory=dict, compare=False)
    scorings: tuple[str, ...] = ()  # a model's scorings with per-prompt values stored (``SCORING_FIELDS``)
    declared_scoring: str | None = None  # the scoring its evaluation was declared under (its verdict's)

    @property
    def is_model(self) -> bool:
        return self.kind in ("base", "tuned")

    @property
    def base_key(self) -> str | None:
        """The key of the base model this tuned model is measured against (same job and split)."""
        if self.kind != "tuned":
            return None
        return f"base:{self.job_id}" + ("" if self.split == DEFAULT_SPLIT else f":{self.split}")


@dataclass
class Ranked:
    """One source's ranking of one prompt: dense ranks (-1 unranked) and the scores behind them."""

    ranks: list[int]
    scores: list[float]
    raw_scores: list[float | None] | None = None  # a model's stored scores, as shown


# ---------------------------------------------------------------------------- sources
def _evaluation_key(kind: str, job_id: int, split: str) -> str:
    return f"{'base' if kind == 'base' else 'job'}:{job_id}" + ("" if split == DEFAULT_SPLIT else f":{split}")


def model_sources(project: Project) -> list[Source]:
    """The latest evaluation of each (job, base|tuned, split) on ``project``: newest job first."""
    latest: dict[tuple, EvaluationResult] = {}
    for evaluation in EvaluationResult.objects.filter(project=project).select_related("job").order_by("id"):
        latest[(evaluation.job_id, evaluation.model, evaluation.split)] = evaluation
    sources = []
    order = sorted(latest.values(), key=lambda e: (-e.job_id, e.split != DEFAULT_SPLIT, e.split, e.model != "base"))
    stored = _stored_scorings([e.pk for e in order])
    for evaluation in order:
        job = evaluation.job
        name = f" {job.name}" if job.name else ""
        what = "base model" if evaluation.model == "base" else "tuned"
        split = "" if evaluation.split == DEFAULT_SPLIT else f", {evaluation.split} split"
        robustness = evaluation.metrics.get("robustness") if isinstance(evaluation.metrics, dict) else None
        sources.append(Source(
            key=_evaluation_key(evaluation.model, job.pk, evaluation.split),
            kind="base" if evaluation.model == "base" else "tuned",
            label=f"job {job.pk}{name} · {what}{split}",
            job_id=job.pk, evaluation_id=evaluation.pk, split=evaluation.split,
            robustness=robustness if isinstance(robustness, dict) else {},
            scorings=_scorings(evaluation, stored.get(evaluation.pk, set())),
            declared_scoring=evaluation.metrics.get("scoring") if isinstance(evaluation.metrics, dict) else None,
        ))  # fmt: skip
    return sources


def _stored_scorings(evaluation_ids: list[int]) -> dict[int, set[str]]:
    """Per evaluation: the scorings some of its prompts store per-prompt values for."""
    found: dict[int, set[str]] = {}
    for scoring, name in SCORING_FIELDS.items():
        rows = PromptEvaluation.objects.filter(evaluation_id__in=evaluation_ids, **{f"{name}__isnull": False})
        for evaluation_id in rows.values_list("evaluation_id", flat=True).distinct():
            found.setdefault(evaluation_id, set()).add(scoring)
    return found


def _scorings(evaluation: EvaluationResult, stored: set[str]) -> tuple[str, ...]:
    """The scorings a model source can rank by: those stored per prompt, plus the base model's implicit
    reward (0 everywhere) where its evaluation reports that scoring."""
    reported = evaluation.metrics.get("scorings") if isinstance(evaluation.metrics, dict) else None
    if evaluation.model == "base" and isinstance(reported, dict) and "implicit_reward" in reported:
        stored = stored | {"implicit_reward"}
    return tuple(name for name in SCORING_FIELDS if name in stored)


def annotator_names(project: Project) -> list[str]:
    return list(
        Ranking.objects.filter(prompt__project=project, status=Ranking.Status.SUBMITTED)
        .order_by("annotator__username")
        .values_list("annotator__username", flat=True)
        .distinct()
    )


def project_sources(project: Project) -> list[Source]:
    """Every source of ``project``: consensus, annotators (by name), models (newest job first)."""
    humans = [Source(key="consensus", kind="consensus", label="human consensus")]
    models = set(model_annotators().values_list("username", flat=True))
    humans += [Source(key=f"annotator:{name}", kind="annotator",
                      label=f"{'model annotator' if name in models else 'annotator'} {name}")
               for name in annotator_names(project)]  # fmt: skip
    return humans + model_sources(project)


def source_get(project: Project, key: str, sources: list[Source] | None = None) -> Source:
    """The source named ``key`` (raises CompareError naming the problem and the choices)."""
    if not SOURCE_KEY.match(key or ""):
        raise cmp.CompareError(
            f"source {key!r}: expected consensus, annotator:NAME, base:JOB_ID, job:JOB_ID (optionally :SPLIT)"
        )
    sources = sources if sources is not None else project_sources(project)
    for source in sources:
        if source.key == key:
            return source
    choices = ", ".join(s.key for s in sources)
    raise cmp.CompareError(f"source {key!r}: not available in project {project.slug} (available: {choices})")


def default_pair(sources: list[Source]) -> tuple[str, str]:
    """Base vs tuned of the newest job with both; else consensus vs the first other source."""
    keys = {s.key for s in sources}
    for source in sources:
        if source.kind == "tuned" and source.base_key in keys:
            return source.base_key, source.key
    others = [s.key for s in sources if s.key != "consensus"]
    return "consensus", (others[0] if others else "consensus")


# ---------------------------------------------------------------------------- rankings
def _response_counts(project: Project, prompt_ids=None) -> dict[int, int]:
    rows = Response.objects.filter(prompt__project=project)
    if prompt_ids is not None:
        rows = rows.filter(prompt_id__in=list(prompt_ids))
    return dict(rows.values("prompt_id").annotate(n=Count("id")).values_list("prompt_id", "n"))


def source_rankings(project: Project, source: Source, *, prompt_ids=None, context: dict | None = None,
                    scoring: str = "mean_logp") -> dict[int, Ranked]:
    """``{prompt id: Ranked}`` of ``source`` (only prompts it ranked, and only ``prompt_ids`` if given);
    a model ranks the responses by ``scoring`` (``SCORING_FIELDS``)."""
    counts = _response_counts(project, prompt_ids)
    wanted = set(counts)
    if source.kind == "consensus":
        items = context if context is not None else prompt_context(project)
        rows = ((pid, item["consensus"]) for pid, item in items.items() if pid in wanted and item["consensus"])
        return _human_rankings(rows, counts)
    if source.kind == "annotator":
        username = source.key.split(":", 1)[1]
        rows = Ranking.objects.filter(
            prompt__project=project, prompt_id__in=wanted, status=Ranking.Status.SUBMITTED, annotator__username=username
        ).values_list("prompt_id", "tiers")
        return _human_rankings(rows, counts)
    return _model_rankings(project, source, counts, scoring)


def _human_rankings(rows, counts: dict[int, int]) -> dict[int, Ranked]:
    """Tiers -> Ranked; a ranking that ranks nothing or names a response that is gone is left out."""
    result = {}
    for pid, tiers in rows:
        try:
            ranks = ranking.dense_array(tiers, counts[pid]).tolist()
        except ranking.RankingError:
            continue
        if max(ranks, default=ranking.UNRANKED_CODE) != ranking.UNRANKED_CODE:
            result[pid] = Ranked(ranks=ranks, scores=cmp.rank_scores(ranks))
    return result


def _model_rankings(project: Project, source: Source, counts: dict[int, int], scoring: str) -> dict[int, Ranked]:
    if scoring not in SCORING_FIELDS:
        raise cmp.CompareError(f"scoring: must be one of {', '.join(SCORING_FIELDS)} (got {scoring!r})")
    by_external = dict(Prompt.objects.filter(project=project).values_list("external_id", "id"))
    own_reference = source.kind == "base" and scoring == "implicit_reward"
    rows = PromptEvaluation.objects.filter(evaluation_id=source.evaluation_id).values_list(
        "prompt_id", "external_id", "scores" if own_reference else SCORING_FIELDS[scoring]
    )
    result = {}
    for pid, external_id, scores in rows:
        pid = pid or by_external.get(external_id)
        if pid not in counts or scores is None or len(scores) != counts[pid]:
            continue  # prompt gone, not asked for, scoring not stored, or its responses changed since
        scores = [0.0] * len(scores) if own_reference else scores
        cleaned = cmp.clean_scores(scores)
        result[pid] = Ranked(ranks=dense_ranking(cleaned), scores=cleaned, raw_scores=list(scores))
    return result


def prompt_context(project: Project, prompt_ids=None) -> dict[int, dict]:
    """Per prompt: external id, text, split, Kendall W, status, consensus tiers and ``ambiguous``.

    A prompt is ambiguous (low human agreement) when its status is ``needs_review`` or its W is
    below the project's agreement threshold (an adjudicated prompt can be both validated and low-W).
    """
    cache = agreement_read(project=project)
    threshold = project.agreement_threshold
    prompts = Prompt.objects.filter(project=project)
    if prompt_ids is not None:
        prompts = prompts.filter(pk__in=list(prompt_ids))
    texts = {pid: (text, split) for pid, text, split in prompts.values_list("id", "text", "split")}
    context = {}
    for item in cache.items:
        pid = item["prompt_id"]
        if pid not in texts:
            continue
        w = item["kendall_w"]
        context[pid] = {
            "prompt_id": pid, "id": item["id"], "text": texts[pid][0], "split": texts[pid][1],
            "kendall_w": w, "status": item["status"], "consensus": item["consensus"],
            "ambiguous": item["status"] == agreement.NEEDS_REVIEW or (w is not None and w < threshold),
        }  # fmt: skip
    return context
