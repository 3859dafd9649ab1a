"""How far a model annotator agrees with the people: pure functions over plain data (no ORM).

A model annotator (``ranking_app.annotators``) is measured the way a person is measured against
the others, with the people only on the other side (docs/judging.md):

* ``agreement``: mean Kendall tau-b between the model's ranking and the people's consensus of each
  prompt (a person's figure is the same with the consensus of the *other* people: leave-one-out);
* ``alpha_without`` / ``alpha_with``: Krippendorff's alpha of the people on the prompts the model
  ranked, and with the model added as one more annotator;
* ``metrics``: pairwise accuracy, top-1, nDCG, ... of the model's ranking against the consensus with
  bootstrap intervals over prompts and the chance level (``training.engine.metrics``, the figures of
  a trained model's evaluation);
* ``strata``: pairwise accuracy on unanimous / contested / adjacent / distant consensus pairs with
  the human ceiling beside each (each person against the others' majority on the same pairs).
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np

from training.engine.metrics import intervals, metric_terms, robustness_strata, summarize

from ..ranking import Tiers, dense_array
from .agreement import PromptData, alpha_from_prompts, tau_b

# A response the model left out of every tier scores below any ranked one.
_UNRANKED_SCORE = -1e9


def model_scores(tiers: Tiers, n_responses: int) -> list[float]:
    """Scores that reproduce ``tiers`` (higher is better, equal in a tie) for the engine's metrics."""
    dense = dense_array(tiers, n_responses)
    return [_UNRANKED_SCORE if rank < 0 else -float(rank) for rank in dense.tolist()]


def model_figures(prompts: list[PromptData], model_rankings: dict[int, Tiers], consensus: dict[int, Tiers]) -> dict:
    """One model annotator's figures (module doc) over the prompts it ranked that people ranked too."""
    shared = [p for p in prompts if p.prompt_id in model_rankings and p.rankings and consensus.get(p.prompt_id)]
    taus = [tau_b(model_rankings[p.prompt_id], consensus[p.prompt_id], p.n_responses) for p in shared]
    taus = [t for t in taus if t is not None and math.isfinite(t)]
    with_model = [PromptData(p.prompt_id, p.n_responses, {**p.rankings, ("model",): model_rankings[p.prompt_id]})
                  for p in shared]  # fmt: skip
    figures = {
        "agreement": sum(taus) / len(taus) if taus else None,
        "n_compared": len(taus),
        "alpha_without": alpha_from_prompts(shared),
        "alpha_with": alpha_from_prompts(with_model),
        "metrics": None,
        "chance": None,
        "strata": None,
    }
    if shared:
        figures.update(_ranking_figures(shared, model_rankings, consensus))
    return figures


def _ranking_figures(shared: list[PromptData], model_rankings: dict[int, Tiers], consensus: dict[int, Tiers]) -> dict:
    scores = [model_scores(model_rankings[p.prompt_id], p.n_responses) for p in shared]
    ranks = [dense_array(consensus[p.prompt_id], p.n_responses) for p in shared]
    people = [[dense_array(t, p.n_responses) for t in p.rankings.values()] for p in shared]
    terms = metric_terms(scores, ranks)
    return {
        "metrics": intervals(terms),
        "chance": summarize(metric_terms([None] * len(ranks), ranks)),
        "strata": robustness_strata(scores, ranks, people),
    }


def prompt_model_tau(model_rankings: dict[Hashable, Tiers], consensus: Tiers, n_responses: int) -> float | None:
    """The lowest tau-b of any model annotator with the people's consensus of one prompt (None: nothing to compare)."""
    if not consensus or not model_rankings:
        return None
    taus = [tau_b(tiers, consensus, n_responses) for tiers in model_rankings.values()]
    finite = [t for t in taus if t is not None and math.isfinite(t)]
    return float(np.min(finite)) if finite else None
