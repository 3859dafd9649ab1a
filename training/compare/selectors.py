"""Reads for the model-vs-human comparison: ranking sources of a project and per-prompt rows.

Sources of a project, by key:

* ``consensus``: the human consensus of each prompt (the adjudicated ranking where a reviewer set
  one), exactly as agreement, review and export see it (``ranking_app.services.agreement``);
* ``annotator:<username>``: one person's submitted rankings;
* ``base:<job id>`` / ``job:<job id>``: the base model / the job's tuned model, from the stored
  per-prompt evaluations on this project's test split; ``base:<id>:<split>`` / ``job:<id>:<split>``
  for another split. When a job was evaluated more than once on the same split of this project
  (e.g. on a fresh export), the latest evaluation is the source.

Metrics are always measured against the *current* consensus, so they can differ from the job
page's figures when rankings changed after the job's export was frozen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ranking_app import agreement
from ranking_app.models import Project, Prompt, Ranking, Response
from ranking_app.rank_widget import card_label
from ranking_app.services.agreement import agreement_get

from ..models import EvaluationResult, PromptEvaluation
from . import metrics as cmp

SOURCE_KEY = re.compile(r"^(?:consensus|annotator:(?P<user>.+)|(?P<kind>base|job):(?P<job>\d+)(?::(?P<split>[\w-]+))?)$")
SORTS = ("disagreement", "prompt", "kendall_w")
DEFAULT_SPLIT = "test"


@dataclass(frozen=True)
class Source:
    key: str
    kind: str  # consensus | annotator | base | tuned
    label: str
    job_id: int | None = None
    evaluation_id: int | None = None
    split: str | None = None
    robustness: dict = field(default_factory=dict, compare=False)

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
        ))  # fmt: skip
    return sources


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
    humans += [Source(key=f"annotator:{name}", kind="annotator", label=f"annotator {name}") for name in annotator_names(project)]
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
    from django.db.models import Count

    rows = Response.objects.filter(prompt__project=project)
    if prompt_ids is not None:
        rows = rows.filter(prompt_id__in=list(prompt_ids))
    return dict(rows.values("prompt_id").annotate(n=Count("id")).values_list("prompt_id", "n"))


def source_rankings(project: Project, source: Source, *, prompt_ids=None, context: dict | None = None) -> dict[int, Ranked]:
    """``{prompt id: Ranked}`` of ``source`` (only prompts it ranked, and only ``prompt_ids`` if given)."""
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
    return _model_rankings(project, source, counts)


def _human_rankings(rows, counts: dict[int, int]) -> dict[int, Ranked]:
    """Tiers -> Ranked; a ranking that ranks nothing or names a response that is gone is left out."""
    result = {}
    for pid, tiers in rows:
        try:
            ranks = cmp.dense_from_tiers(tiers, counts[pid])
        except cmp.CompareError:
            continue
        if max(ranks, default=-1) >= 0:
            result[pid] = Ranked(ranks=ranks, scores=cmp.rank_scores(ranks))
    return result


def _model_rankings(project: Project, source: Source, counts: dict[int, int]) -> dict[int, Ranked]:
    by_external = dict(Prompt.objects.filter(project=project).values_list("external_id", "id"))
    result = {}
    rows = PromptEvaluation.objects.filter(evaluation_id=source.evaluation_id).values_list(
        "prompt_id", "external_id", "scores", "ranking"
    )
    for pid, external_id, scores, ranking in rows:
        pid = pid or by_external.get(external_id)
        if pid not in counts or len(ranking) != counts[pid] or len(scores) != counts[pid]:
            continue  # prompt gone, not asked for, or its responses changed since the evaluation
        result[pid] = Ranked(ranks=list(ranking), scores=cmp.clean_scores(scores), raw_scores=list(scores))
    return result


def prompt_context(project: Project, prompt_ids=None) -> dict[int, dict]:
    """Per prompt: external id, text, split, Kendall W, status, consensus tiers and ``ambiguous``.

    A prompt is ambiguous (low human agreement) when its status is ``needs_review`` or its W is
    below the project's agreement threshold (an adjudicated prompt can be both validated and low-W).
    """
    cache = agreement_get(project=project)
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


# ---------------------------------------------------------------------------- the comparison
@dataclass
class Comparison:
    a: Source
    b: Source
    rows: list[dict]
    aggregates: dict
    filters: dict
    n_compared: int  # prompts both sources ranked, before filters


def comparison_build(
    project: Project,
    a_key: str,
    b_key: str,
    *,
    ambiguous: bool = False,
    worse: bool = False,
    sort: str = "disagreement",
    n_boot: int = cmp.DEFAULT_N_BOOT,
    seed: int = cmp.DEFAULT_SEED,
) -> Comparison:
    """Per-prompt rows of A vs B (filtered, sorted) and the aggregate figures over those rows."""
    if sort not in SORTS:
        raise cmp.CompareError(f"sort: must be one of {', '.join(SORTS)} (got {sort!r})")
    sources = project_sources(project)
    a, b = source_get(project, a_key, sources), source_get(project, b_key, sources)
    keys = {s.key for s in sources}
    tuned = [s for s in (a, b) if s.kind == "tuned" and s.base_key in keys]
    if worse and not tuned:
        raise cmp.CompareError(
            "filter 'tuned model got worse than the base': pick a job's tuned model (job:ID) as A or B"
        )
    context = prompt_context(project)
    ranked_a = source_rankings(project, a, context=context)
    ranked_b = source_rankings(project, b, prompt_ids=ranked_a.keys(), context=context)
    common = sorted(set(ranked_a) & set(ranked_b))
    consensus = source_rankings(project, source_get(project, "consensus", sources), prompt_ids=common, context=context)
    refs = {pid: consensus[pid].ranks for pid in common if pid in consensus and cmp.has_valid_pair(consensus[pid].ranks)}
    measured = [pid for pid in common if pid in refs]
    metrics_a = dict(zip(measured, cmp.metrics_many([ranked_a[p].scores for p in measured], [refs[p] for p in measured]), strict=True))
    metrics_b = dict(zip(measured, cmp.metrics_many([ranked_b[p].scores for p in measured], [refs[p] for p in measured]), strict=True))
    ab_taus = dict(zip(common, cmp.tau_b_many([ranked_a[p].ranks for p in common], [ranked_b[p].ranks for p in common]), strict=True))
    changes: dict[int, dict[str, float]] = {pid: {} for pid in common}
    for source, metrics in ((a, metrics_a), (b, metrics_b)):
        if source not in tuned:
            continue
        base = source_rankings(project, source_get(project, source.base_key, sources), prompt_ids=measured)
        ids = [pid for pid in measured if pid in base]
        base_taus = cmp.reference_tau_many([base[p].scores for p in ids], [refs[p] for p in ids])
        for pid, before in zip(ids, base_taus, strict=True):
            after = metrics[pid]["kendall_tau"]
            if math.isfinite(before) and math.isfinite(after):
                changes[pid][source.key] = after - before
    rows = [
        _row(context[pid], ranked_a[pid], ranked_b[pid], metrics_a.get(pid), metrics_b.get(pid), ab_taus[pid],
             changes[pid])
        for pid in common
    ]
    if ambiguous:
        rows = [r for r in rows if r["ambiguous"]]
    if worse:
        rows = [r for r in rows if r["worse"]]
    measured = [r for r in rows if r["_a_metrics"] is not None]  # in prompt order: the CI never depends on the sort
    rows = sort_rows(rows, sort)
    aggregates = cmp.compare_aggregates(
        [r["_a_metrics"] for r in measured], [r["_b_metrics"] for r in measured],
        robustness_a=a.robustness, robustness_b=b.robustness, n_boot=n_boot, seed=seed,
    )  # fmt: skip
    filters = {"ambiguous": ambiguous, "worse": worse, "sort": sort}
    return Comparison(a=a, b=b, rows=rows, aggregates=aggregates, filters=filters, n_compared=len(common))


CACHE_SECONDS = 600


def comparison_fingerprint(project: Project, sources: list[Source]) -> str:
    """Changes whenever anything a comparison reads changes: rankings, prompts and the rule (the
    agreement fingerprint), responses, and which evaluation each model source is."""
    from django.db.models import Count, Max

    from ranking_app.services.agreement import agreement_fingerprint

    responses = Response.objects.filter(prompt__project=project).aggregate(n=Count("id"), last=Max("id"))
    models = ",".join(f"{s.key}={s.evaluation_id}" for s in sources if s.is_model)
    return f"{project.pk}@{project.created_at.isoformat()}|{agreement_fingerprint(project)}|{responses}|{models}"


def comparison_cached(project: Project, a_key: str, b_key: str, **options) -> Comparison:
    """``comparison_build`` through Django's cache (the page's paging and exports reuse one computation);
    a change to any input changes the key, so a cached comparison is never stale."""
    import hashlib

    from django.core.cache import cache

    fingerprint = comparison_fingerprint(project, project_sources(project))
    raw = f"{fingerprint}|{a_key}|{b_key}|{sorted(options.items())}"
    key = "compare:" + hashlib.sha256(raw.encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = comparison_build(project, a_key, b_key, **options)
        cache.set(key, result, CACHE_SECONDS)
    return result


def _row(item: dict, ra: Ranked, rb: Ranked, ma: dict | None, mb: dict | None, tau: float | None,
         changes: dict[str, float]) -> dict:
    return {
        "prompt_id": item["prompt_id"], "id": item["id"], "text": item["text"], "split": item["split"],
        "n_responses": len(ra.ranks), "kendall_w": item["kendall_w"], "status": item["status"],
        "ambiguous": item["ambiguous"],
        "tau_b": tau, "top1_agree": cmp.top1_agreement(ra.ranks, rb.ranks),
        "a_tau": _finite(ma["kendall_tau"]) if ma else None, "b_tau": _finite(mb["kendall_tau"]) if mb else None,
        "a_top1": bool(ma["accuracy"]) if ma else None, "b_top1": bool(mb["accuracy"]) if mb else None,
        "tau_change_vs_base": changes,
        "worse": any(delta < 0 for delta in changes.values()),
        "_a_metrics": ma, "_b_metrics": mb,
    }  # fmt: skip


def _finite(value) -> float | None:
    return None if value is None or value != value else float(value)


def sort_rows(rows: list[dict], sort: str) -> list[dict]:
    """``disagreement``: lowest tau-b first, then top-1 disagreements, undefined tau last;
    ``kendall_w``: lowest human W first; ``prompt``: prompt order."""
    if sort == "disagreement":
        return sorted(rows, key=lambda r: (r["tau_b"] is None, r["tau_b"] if r["tau_b"] is not None else 0.0,
                                           r["top1_agree"] is not False, r["prompt_id"]))
    if sort == "kendall_w":
        return sorted(rows, key=lambda r: (r["kendall_w"] is None, r["kendall_w"] or 0.0, r["prompt_id"]))
    return sorted(rows, key=lambda r: r["prompt_id"])


def public_row(row: dict, *, digits: int = cmp.FIGURE_DIGITS) -> dict:
    """A row as exported (JSON/CSV): no internals, figures rounded like the page."""

    def rounded(value):
        return None if value is None else round(value, digits)

    return {
        "prompt_id": row["prompt_id"], "id": row["id"], "split": row["split"], "n_responses": row["n_responses"],
        "kendall_w": rounded(row["kendall_w"]), "status": row["status"], "ambiguous": row["ambiguous"],
        "tau_b": rounded(row["tau_b"]), "top1_agree": row["top1_agree"],
        "a_tau_vs_consensus": rounded(row["a_tau"]), "b_tau_vs_consensus": rounded(row["b_tau"]),
        "a_top1_correct": row["a_top1"], "b_top1_correct": row["b_top1"],
        "tau_change_vs_base": {k: rounded(v) for k, v in row["tau_change_vs_base"].items()},
        "worse_than_base": row["worse"],
    }  # fmt: skip


def comparison_payload(project: Project, comparison: Comparison) -> dict:
    """The comparison as the JSON export and ``manage.py compare --json`` give it."""
    return {
        "project": project.slug,
        "a": {"key": comparison.a.key, "label": comparison.a.label},
        "b": {"key": comparison.b.key, "label": comparison.b.label},
        "reference": "consensus",
        "filters": comparison.filters,
        "n_compared": comparison.n_compared,
        "n_rows": len(comparison.rows),
        "aggregates": comparison.aggregates,
    }


# ---------------------------------------------------------------------------- one prompt
def prompt_comparison(prompt: Prompt) -> dict:
    """Every source's ranking of one prompt: responses (canonical order) x sources, with model scores
    and, per model, the pairs it orders against the consensus."""
    project = prompt.project
    responses = list(prompt.responses.order_by("position"))
    n = len(responses)
    context = prompt_context(project, [prompt.pk])
    item = context.get(prompt.pk)
    sources = project_sources(project)
    consensus = source_rankings(project, sources[0], prompt_ids=[prompt.pk], context=context).get(prompt.pk)
    columns = []
    for source in sources:
        ranked = consensus if source.kind == "consensus" else source_rankings(
            project, source, prompt_ids=[prompt.pk], context=context
        ).get(prompt.pk)
        if ranked is None:
            continue
        columns.append(_column(source, ranked, consensus, n))
    rows = [
        {"position": r.position, "label": card_label(i), "text": r.text, "source": r.source,
         "cells": [column["cells"][i] for column in columns]}
        for i, r in enumerate(responses)
    ]  # fmt: skip
    return {"item": item, "responses": responses, "columns": columns, "rows": rows, "consensus": consensus}


def _column(source: Source, ranked: Ranked, consensus: Ranked | None, n: int) -> dict:
    against: set[int] = set()
    pairs = []
    if source.is_model and consensus is not None:
        for i, j in cmp.discordant_pairs(ranked.scores, consensus.ranks):
            against.update((i, j))
            pairs.append({"better": card_label(i), "worse": card_label(j),
                          "margin": ranked.scores[j] - ranked.scores[i]})
    cells = []
    for i in range(n):
        rank = ranked.ranks[i]
        reference = consensus.ranks[i] if consensus is not None else None
        cells.append({
            "rank": None if rank < 0 else rank + 1,
            "score": ranked.raw_scores[i] if ranked.raw_scores is not None else None,
            "off": source.kind != "consensus" and reference is not None and rank != reference,
            "against": i in against,
        })
    versus = consensus is not None and source.kind != "consensus"
    return {
        "source": source, "cells": cells, "pairs": pairs,
        "tau_b": cmp.tau_b(ranked.ranks, consensus.ranks) if versus else None,
        "top1_agree": cmp.top1_agreement(ranked.ranks, consensus.ranks) if versus else None,
    }  # fmt: skip
