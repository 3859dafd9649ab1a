"""The comparison of two ranking sources of a project, prompt by prompt, and one prompt across all sources.

Metrics are always measured against the *current* consensus, so they can differ from the job
page's figures when rankings changed after the job's export was frozen.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max

from ranking_app.cards import card_label
from ranking_app.models import Project, Prompt, Response, Round
from ranking_app.ranking import UNRANKED_CODE, has_valid_pair
from ranking_app.review.agreement_read import agreement_fingerprint
from ranking_app.safe_json import whole_number

from ..engine.metrics import tie_expected_tau
from ..models import EvaluationRequest, TrainingJob
from ..selectors import job_verdict
from . import aggregates as cmp
from .sources import SCORING_FIELDS, Ranked, Source, project_sources, prompt_context, source_get, source_rankings

SORTS = ("disagreement", "prompt", "kendall_w")


@dataclass
class Comparison:
    a: Source
    b: Source
    rows: list[dict]
    aggregates: dict
    filters: dict
    n_compared: int  # prompts both sources ranked, before filters
    scoring: str | None = None  # what the model sources rank responses by (None: no model compared)
    scorings: tuple[str, ...] = ()  # the scorings both sources offer
    verdicts: list = field(default_factory=list)  # [(job id, stored verdict or None)] of the jobs compared


def comparison_build(
    project: Project,
    a_key: str,
    b_key: str,
    *,
    ambiguous: bool = False,
    worse: bool = False,
    sort: str = "disagreement",
    round: int | str | None = None,
    scoring: str | None = None,
    seed: int = cmp.DEFAULT_SEED,
) -> Comparison:
    """Per-prompt rows of A vs B (filtered, sorted) and the aggregate figures over those rows.

    ``round`` (a loop round's number) keeps only that round's prompts: ``n_compared`` then counts
    the round's prompts both sources ranked. Models rank responses by ``scoring`` (default: the
    trained quantity where a tuned model is compared, see ``scoring_choice``).
    """
    if sort not in SORTS:
        raise cmp.CompareError(f"sort: must be one of {', '.join(SORTS)} (got {sort!r})")
    number = round_number(project, round)
    sources = project_sources(project)
    a, b = source_get(project, a_key, sources), source_get(project, b_key, sources)
    scoring = scoring_choice((a, b), scoring)
    tuned = _tuned_with_base(sources, (a, b), worse=worse)
    rows, n_compared = _rows(project, sources, (a, b), tuned, round_prompt_ids(project, number), scoring or "mean_logp")
    if ambiguous:
        rows = [r for r in rows if r["ambiguous"]]
    if worse:
        rows = [r for r in rows if r["worse"]]
    measured = [r for r in rows if r["_a_metrics"] is not None]  # in prompt order: the CI never depends on the sort
    aggregates = cmp.compare_aggregates(
        [r["_a_metrics"] for r in measured], [r["_b_metrics"] for r in measured], [r["_reference"] for r in measured],
        robustness_a=a.robustness, robustness_b=b.robustness, seed=seed,
    )  # fmt: skip
    filters = {"ambiguous": ambiguous, "worse": worse, "sort": sort} | ({"round": number} if number else {})
    return Comparison(a=a, b=b, rows=sort_rows(rows, sort), aggregates=aggregates, filters=filters,
                      n_compared=n_compared, scoring=scoring, scorings=pair_scorings((a, b)),
                      verdicts=compared_verdicts((a, b)))  # fmt: skip


def compared_verdicts(pair: tuple[Source, Source]) -> list[tuple[int, dict | None]]:
    """Each compared job's stored verdict (the job page's and the timeline's figures), once per job."""
    job_ids = list(dict.fromkeys(s.job_id for s in pair if s.is_model))
    jobs = TrainingJob.objects.in_bulk(job_ids)
    return [(pk, job_verdict(job=jobs[pk])) for pk in job_ids if pk in jobs]


def pair_scorings(pair: tuple[Source, Source]) -> tuple[str, ...]:
    """The scorings every model source among ``pair`` can rank by, in order of preference (none without a model)."""
    models = [s for s in pair if s.is_model]
    return tuple(name for name in SCORING_FIELDS if models and all(name in s.scorings for s in models))


def scoring_choice(pair: tuple[Source, Source], requested: str | None) -> str | None:
    """``requested`` if both sources offer it; by default the scoring the models' evaluations were
    declared under (the verdict's: the log-prob the loss trains), else the first log-prob scoring both
    offer (the implicit reward compares a tuned model with chance, not with its base). None without a model."""
    available = pair_scorings(pair)
    if not available:
        return None
    if requested in (None, ""):
        declared = [s.declared_scoring for s in pair if s.is_model and s.declared_scoring in available]
        return declared[0] if declared else next((n for n in available if n != "implicit_reward"), available[0])
    if requested not in available:
        raise cmp.CompareError(f"scoring {requested!r}: not stored for these sources (available: {', '.join(available)})")
    return requested


def _tuned_with_base(sources: list[Source], pair: tuple[Source, Source], *, worse: bool) -> list[Source]:
    """The tuned models among A and B whose base model is a source too (the ``worse`` filter needs one)."""
    keys = {s.key for s in sources}
    tuned = [s for s in pair if s.kind == "tuned" and s.base_key in keys]
    if worse and not tuned:
        raise cmp.CompareError(
            "filter 'tuned model got worse than the base': pick a job's tuned model (job:ID) as A or B"
        )
    return tuned


def project_rounds(project: Project) -> list[Round]:
    """The loop rounds of ``project``, first first (empty for a project outside the loop)."""
    return list(Round.objects.filter(project=project).order_by("number"))


def round_number(project: Project, value: int | str | None) -> int | None:
    """A round filter's value as the number of one of ``project``'s rounds (None: every prompt)."""
    if value in (None, ""):
        return None
    numbers = [r.number for r in project_rounds(project)]
    number = whole_number(str(value))  # ASCII digits only: "²".isdigit() is true and int("²") fails
    if number in numbers:
        return number
    choices = ", ".join(map(str, numbers)) or "none"
    raise cmp.CompareError(f"round: project {project.slug} has no round {str(value)!r} (its rounds: {choices})")


def round_prompt_ids(project: Project, number: int | None) -> list[int] | None:
    """The ids of the prompts of round ``number`` (None: no round filter)."""
    if number is None:
        return None
    return list(Prompt.objects.filter(project=project, round__number=number).values_list("id", flat=True))


def _rows(project: Project, sources: list[Source], pair: tuple[Source, Source], tuned: list[Source],
          only: list[int] | None, scoring: str) -> tuple[list[dict], int]:
    """One row per prompt both sources ranked (prompt order, only the prompts ``only`` lists if given),
    and how many prompts that is."""
    a, b = pair
    context = prompt_context(project, only)
    ranked_a = source_rankings(project, a, prompt_ids=only, context=context, scoring=scoring)
    ranked_b = source_rankings(project, b, prompt_ids=ranked_a.keys(), context=context, scoring=scoring)
    common = sorted(set(ranked_a) & set(ranked_b))
    consensus = source_rankings(project, source_get(project, "consensus", sources), prompt_ids=common, context=context)
    over = {pid: cmp.reference_over(consensus[pid].ranks, ranked_a[pid].ranks, ranked_b[pid].ranks)
            for pid in common if pid in consensus}  # unranked responses are out of both sides' figures
    refs = {pid: ref for pid, ref in over.items() if has_valid_pair(cmp.ranked_ranks(ref))}
    measured = [pid for pid in common if pid in refs]
    metrics_a = dict(zip(measured, cmp.metrics_many([ranked_a[p].scores for p in measured], [refs[p] for p in measured]), strict=True))
    metrics_b = dict(zip(measured, cmp.metrics_many([ranked_b[p].scores for p in measured], [refs[p] for p in measured]), strict=True))
    ab_taus = dict(zip(common, cmp.tau_b_many([ranked_a[p].ranks for p in common], [ranked_b[p].ranks for p in common]), strict=True))
    changes: dict[int, dict[str, float]] = {pid: {} for pid in common}
    for source, metrics in ((a, metrics_a), (b, metrics_b)):
        if source in tuned:
            base = source_get(project, source.base_key, sources)
            for pid, change in _tau_changes(project, base, metrics, refs, measured, scoring).items():
                changes[pid][source.key] = change
    rows = [
        _row(context[pid], ranked_a[pid], ranked_b[pid], metrics_a.get(pid), metrics_b.get(pid), ab_taus[pid],
             changes[pid]) | {"_reference": refs.get(pid)}
        for pid in common
    ]  # fmt: skip
    return rows, len(common)


def _tau_changes(project: Project, base: Source, metrics: dict, refs: dict, measured: list[int],
                 scoring: str) -> dict[int, float]:
    """Per prompt: the tuned model's Kendall tau against the consensus minus its base model's (tied
    scores counting 0, as in the metrics)."""
    ranked = source_rankings(project, base, prompt_ids=measured, scoring=scoring)
    ids = [pid for pid in measured if pid in ranked]
    base_taus = cmp.reference_tau_many([ranked[p].scores for p in ids], [refs[p] for p in ids])
    changes = {}
    for pid, tau in zip(ids, base_taus, strict=True):
        before, after = tie_expected_tau(float(tau), refs[pid]), metrics[pid]["kendall_tau"]
        if math.isfinite(before) and math.isfinite(after):
            changes[pid] = after - before
    return changes


CACHE_SECONDS = 600


def comparison_fingerprint(project: Project, sources: list[Source]) -> str:
    """Changes whenever anything a comparison reads changes: rankings, prompts and the rule (the
    agreement fingerprint), responses, and which evaluation each model source is."""
    responses = Response.objects.filter(prompt__project=project).aggregate(n=Count("id"), last=Max("id"))
    models = ",".join(f"{s.key}={s.evaluation_id}" for s in sources if s.is_model)
    return f"{project.pk}@{project.created_at.isoformat()}|{agreement_fingerprint(project)}|{responses}|{models}"


def comparison_cached(project: Project, a_key: str, b_key: str, **options) -> Comparison:
    """``comparison_build`` through Django's cache (the page's paging and exports reuse one computation);
    a change to any input changes the key, so a cached comparison is never stale."""
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



# ---------------------------------------------------------------------------- one prompt
def prompt_comparison(prompt: Prompt, scoring: str | None = None) -> dict:
    """Every source's ranking of one prompt: responses (canonical order) x sources, with model scores
    and, per model, the pairs it orders against the consensus. Each model ranks by ``scoring`` where
    it stores it, else by its own default (``scoring_choice``)."""
    project = prompt.project
    responses = list(prompt.responses.order_by("position"))
    n = len(responses)
    context = prompt_context(project, [prompt.pk])
    item = context.get(prompt.pk)
    sources = project_sources(project)
    consensus = source_rankings(project, sources[0], prompt_ids=[prompt.pk], context=context).get(prompt.pk)
    columns = []
    for source in sources:
        own = scoring if scoring in source.scorings else scoring_choice((source, source), None)
        ranked = consensus if source.kind == "consensus" else source_rankings(
            project, source, prompt_ids=[prompt.pk], context=context, scoring=own or "mean_logp"
        ).get(prompt.pk)
        if ranked is None:
            continue
        columns.append(_column(source, ranked, consensus, n) | {"scoring": own})
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
            "rank": None if rank == UNRANKED_CODE else rank + 1,
            "score": ranked.raw_scores[i] if ranked.raw_scores is not None else None,
            "off": source.kind != "consensus" and reference is not None and rank != reference,
            "against": i in against,
        })
    versus = consensus is not None and source.kind != "consensus"
    return {
        "source": source, "cells": cells, "pairs": pairs,
        "tau_b": cmp.tau_b_many([ranked.ranks], [consensus.ranks])[0] if versus else None,
        "top1_agree": cmp.top1_agreement(ranked.ranks, consensus.ranks) if versus else None,
    }  # fmt: skip


# ---------------------------------------------------------------------------- evaluations to request
def evaluation_requests(project: Project):
    """The evaluation requests on ``project``, last changed first."""
    return EvaluationRequest.objects.filter(project=project).select_related("job", "requested_by")


def evaluable_jobs(limit: int = 100):
    """Succeeded jobs with an adapter, newest first: what the "evaluate a job here" form offers."""
    jobs = TrainingJob.objects.filter(status=TrainingJob.Status.SUCCEEDED).exclude(adapter_dir="")
    return jobs.select_related("project")[:limit]
