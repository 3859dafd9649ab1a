"""Reads for the reviewer screens: the queue, the annotator table, one prompt side by side."""

from __future__ import annotations

from dataclasses import dataclass

from ..annotators import model_annotator_ids, people_only
from ..cards import card_label
from ..models import Project, Prompt, Ranking
from ..ranking import Tiers, tiers_to_ranks
from . import agreement
from .agreement_read import agreement_read, review_queue

# Sort key of the annotator table -> the field of an annotator row it sorts by.
ANNOTATOR_SORTS = {
    "annotator": "annotator",
    "agreement": "agreement",
    "count": "count",
    "time": "median_time_ms",
    "skip": "skip_rate",
    "gold": "gold_agreement",
}


def annotator_table(annotators: list[dict], *, sort: str = "agreement", descending: bool = False) -> list[dict]:
    """Annotator rows sorted by ``sort`` (unknown keys sort by agreement); missing values always last."""
    field = ANNOTATOR_SORTS.get(sort, "agreement")

    def value(row):
        return row[field].lower() if field == "annotator" else row[field]

    present = sorted((a for a in annotators if a[field] is not None), key=value, reverse=descending)
    return present + [a for a in annotators if a[field] is None]


def model_disagreement_order(rows: list[dict]) -> list[dict]:
    """Rows by the lowest tau-b of a model annotator with the people's consensus, most disagreement first;
    prompts no model ranked (no ``model_tau``) keep their order at the end."""
    ranked = [r for r in rows if r.get("model_tau") is not None]
    return sorted(ranked, key=lambda r: (r["model_tau"], r["prompt_id"])) + [r for r in rows if r.get("model_tau") is None]


def review_rows(*, project: Project, status: str, order: str = "w") -> tuple[list[dict], dict]:
    """The review queue's rows for ``status`` (lowest W first, or ``order="model"``: most model-vs-people
    disagreement first) and the count of each status."""
    if status == agreement.NEEDS_REVIEW:  # the common case: precomputed, no need to load every prompt
        cache = agreement_read(project=project, with_items=False)
        rows = cache.queue
    else:
        cache = agreement_read(project=project, with_queue=False)
        rows = review_queue(cache.items, status=status)
    return (model_disagreement_order(rows) if order == "model" else rows), cache.summary["status_counts"]


def review_next(*, prompt: Prompt) -> int | None:
    """The id of the lowest-W other prompt still waiting for review, if any (cached figures)."""
    for item in agreement_read(project=prompt.project, with_items=False).queue:
        if item["prompt_id"] != prompt.pk:
            return item["prompt_id"]
    return None


@dataclass
class MatrixRow:
    position: int
    label: str  # A, B, ... as on the rank widget's cards (canonical order)
    text: str
    source: str
    cells: list[dict]  # per annotator: {"rank": int|None, "off": bool}
    consensus: int | None
    gold: int | None
    final: int | None
    disputed: bool


def _label(rank: int | None) -> int | None:
    return None if rank is None else rank + 1


def _matrix_rows(responses: list, ranks: list[list], borda_ranks: list, gold_ranks: list, final_ranks: list):
    """One row per response: each annotator's rank next to the consensus, gold and final ranks."""
    rows = []
    for i, response in enumerate(responses):
        given = [annotator_ranks[i] for annotator_ranks in ranks]
        rows.append(MatrixRow(
            position=response.position,
            label=card_label(i),
            text=response.text,
            source=response.source,
            cells=[{"rank": _label(r), "off": r != borda_ranks[i]} for r in given],
            consensus=_label(borda_ranks[i]),
            gold=_label(gold_ranks[i]),
            final=_label(final_ranks[i]),
            disputed=len(set(given)) > 1,
        ))
    return rows


def _rankings(prompt: Prompt, status: str, *, models: bool = False) -> list[Ranking]:
    """People's rankings of ``prompt`` with ``status`` (model annotators' only, with ``models``)."""
    rankings = prompt.rankings.filter(status=status)
    rankings = rankings.filter(annotator_id__in=model_annotator_ids()) if models else people_only(rankings)
    return list(rankings.select_related("annotator").order_by("annotator__username"))


def _model_rows(prompt: Prompt, consensus: Tiers, n: int) -> list[dict]:
    """Each model annotator's ranks of ``prompt`` (1 = best) and its tau-b with the people's final ranking."""
    return [{"annotator": r.annotator.username, "ranks": [_label(x) for x in tiers_to_ranks(r.tiers, n)],
             "tau": agreement.tau_b(r.tiers, consensus, n) if consensus else None}
            for r in _rankings(prompt, Ranking.Status.SUBMITTED, models=True)]  # fmt: skip


def prompt_review(*, prompt: Prompt) -> dict:
    """Everything the prompt review page shows: matrix, W, tau-b matrix, consensus, status."""
    project: Project = prompt.project
    responses = list(prompt.responses.order_by("position"))
    n = len(responses)
    rankings = _rankings(prompt, Ranking.Status.SUBMITTED)
    skipped = _rankings(prompt, Ranking.Status.SKIPPED)
    by_user: dict[str, Tiers] = {r.annotator.username: r.tiers for r in rankings}
    w = agreement.kendall_w(list(by_user.values()), n)
    borda = agreement.borda_consensus(list(by_user.values()), n)
    target = project.target_annotators + prompt.extra_annotators
    status = agreement.prompt_status(
        n_submitted=len(rankings), target=target, kendall_w=w, threshold=project.agreement_threshold,
        adjudicated=prompt.adjudicated_tiers is not None,
    )
    ranks = {user: tiers_to_ranks(t, n) for user, t in by_user.items()}
    borda_ranks = tiers_to_ranks(borda, n)
    gold_ranks = tiers_to_ranks(prompt.gold_tiers, n) if prompt.gold_tiers else [None] * n
    final_tiers = prompt.adjudicated_tiers if prompt.adjudicated_tiers is not None else borda
    final_ranks = tiers_to_ranks(final_tiers, n)
    gold_taus = {user: agreement.tau_b(t, prompt.gold_tiers, n) for user, t in by_user.items()} if prompt.gold_tiers else {}
    return {
        "responses": responses,
        "annotators": list(by_user),
        "rankings": rankings,
        "skipped": skipped,
        "rows": _matrix_rows(responses, list(ranks.values()), borda_ranks, gold_ranks, final_ranks),
        "kendall_w": w,
        "tau_b": agreement.tau_b_matrix(by_user, n),
        "gold_taus": gold_taus,
        "borda": borda,
        "final_tiers": final_tiers,
        "final_ranks": final_ranks,
        "status": status,
        "target": target,
        "n_submitted": len(rankings),
        "threshold": project.agreement_threshold,
        "models": _model_rows(prompt, final_tiers, n),
    }
