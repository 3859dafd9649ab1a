"""Ranked-preference losses over groups of responses.

Every loss takes per-response tensors of shape (G, K): G groups (prompts) in the batch, K response
slots per group. ``ranks`` holds dense tiers (0 = best, equal values = tie) and -1 for an unranked
response or a padding slot. A valid pair (i, j) has both responses ranked and ``ranks[i] < ranks[j]``;
its rank gap is ``ranks[j] - ranks[i]``. Pair terms live in (G, K, K) tensors with masks; nothing
here loops over pairs in Python.

Normalisation (``normalize``): "group" (default) averages, over the groups holding at least one
pair, each group's weighted mean sum(w * l) / sum(w), so every prompt counts the same whatever its
K, batch size or accumulation; "pair" is the batch-wide sum(w * l) / sum(w).

Accumulation window (``window``): the denominator of the whole gradient-accumulation window, summed
over its micro-batches by ``window_denominator`` (the groups with a pair for "group", the pair weights
for "pair", the contributing responses for Plackett-Luce). A loss given it returns the micro-batch's
share, its numerator / ``window``: summed over the window, the window's mean however its groups were
packed into micro-batches.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config_fields import NORMALIZATIONS, TIES, WEIGHTINGS


class NoValidPairsError(ValueError):
    """Raised when a batch holds no pair of responses in different tiers."""


def valid_pair_mask(ranks: torch.Tensor) -> torch.Tensor:
    """Boolean (G, K, K): True where response i is ranked strictly above response j in its group."""
    ranked = ranks >= 0
    above = ranks.unsqueeze(2) < ranks.unsqueeze(1)
    return ranked.unsqueeze(2) & ranked.unsqueeze(1) & above


def tied_pair_mask(ranks: torch.Tensor) -> torch.Tensor:
    """Boolean (G, K, K): True where i < j are both ranked in the same tier."""
    ranked = ranks >= 0
    same = ranks.unsqueeze(2) == ranks.unsqueeze(1)
    upper = torch.ones(ranks.size(1), ranks.size(1), dtype=torch.bool, device=ranks.device).triu(diagonal=1)
    return ranked.unsqueeze(2) & ranked.unsqueeze(1) & same & upper


def lambda_weights(ranks: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """LiPO-lambda weights (Liu et al. 2024): |G_i - G_j| * |1/log2(1 + tau_i) - 1/log2(1 + tau_j)|.

    Gain G_i = 2^psi_i - 1 with psi_i = (group's worst tier) - tier_i (= T - 1 - tier_i for dense
    tiers); tau_i = 1-based position of i among the group's ranked responses sorted by ``scores``
    descending, equal scores by lower index first. No gradient flows through the weights.
    """
    scores = scores.detach()
    ranked = ranks >= 0
    worst = ranks.masked_fill(~ranked, -1).amax(dim=1, keepdim=True)
    gains = torch.pow(2.0, (worst - ranks).to(scores.dtype)) - 1
    index = torch.arange(ranks.size(1), device=ranks.device)
    s_i, s_j = scores.unsqueeze(2), scores.unsqueeze(1)
    ahead = (s_j > s_i) | ((s_j == s_i) & (index.view(1, 1, -1) < index.view(1, -1, 1)))
    tau = 1 + (ahead & ranked.unsqueeze(1)).sum(dim=2).to(scores.dtype)
    inverse_discount = 1.0 / torch.log2(1 + tau)
    weight = (gains.unsqueeze(2) - gains.unsqueeze(1)).abs()
    weight = weight * (inverse_discount.unsqueeze(2) - inverse_discount.unsqueeze(1)).abs()
    return weight * valid_pair_mask(ranks)


def pair_weights(ranks: torch.Tensor, weighting: str = "none", dtype: torch.dtype = torch.float32,
                 scores: torch.Tensor | None = None) -> torch.Tensor:
    """Float (G, K, K) weights w_ij of every valid pair (0 elsewhere): 1, gap, gap^2, log(1 + gap),
    or the LiPO-lambda weight (needs ``scores``, see ``lambda_weights``)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting: must be one of {', '.join(WEIGHTINGS)} (got {weighting!r})")
    if weighting == "lambda":
        if scores is None:
            raise ValueError("weighting 'lambda': needs the current scores")
        return lambda_weights(ranks, scores).to(dtype)
    gap = (ranks.unsqueeze(1) - ranks.unsqueeze(2)).to(dtype)
    weight = {
        "none": torch.ones_like(gap),
        "linear": gap,
        "quadratic": gap**2,
        "log": torch.log1p(gap.clamp(min=0)),
    }[weighting]
    return weight * valid_pair_mask(ranks)


def groups_with_pairs(ranks: torch.Tensor, ties: str = "ignore", annotator_ranks: torch.Tensor | None = None) -> int:
    """Groups of a batch that ``grpo_pairwise_loss`` averages over with ``normalize="group"``: those with a valid
    pair, with a tied pair too under ``ties="davidson"``, or a pair some annotator ranked under soft targets."""
    if annotator_ranks is not None:
        pairs = soft_pair_targets(annotator_ranks)[1]
    else:
        pairs = valid_pair_mask(ranks) | (tied_pair_mask(ranks) if ties == "davidson" else False)
    return int(pairs.any(dim=(1, 2)).sum())


def window_denominator(ranks: torch.Tensor, *, loss: str = "grpo", normalize: str = "group", weighting: str = "none",
                       ties: str = "ignore", annotator_ranks: torch.Tensor | None = None) -> tuple[float, float]:
    """A batch's part of the accumulation window's denominators (module doc): (the pair term's, or Plackett-Luce's
    responses; the top-tier responses, orpo's NLL mean). Weights from ranks alone, so not for LiPO-lambda
    weighting under "pair" normalisation (``window_normalizable``)."""
    top = float((ranks == 0).sum())
    if loss == "plackett-luce":
        return float(plackett_luce_contributors(ranks).sum()), top
    if normalize == "group":
        return float(groups_with_pairs(ranks, ties, annotator_ranks)), top
    if annotator_ranks is not None:
        return float(soft_pair_targets(annotator_ranks)[1].sum()), top
    weights = pair_weights(ranks, weighting, torch.float64)
    return float(weights.sum() + (tied_pair_mask(ranks).sum() if ties == "davidson" else 0)), top


def window_normalizable(loss: str, normalize: str, weighting: str) -> bool:
    """Whether ``window_denominator`` knows the loss's denominators before the forward pass (not LiPO-lambda's
    pair weights under "pair" normalisation: they come from the current rewards)."""
    return loss == "plackett-luce" or not (normalize == "pair" and weighting == "lambda")


def normalized_pair_mean(pair_loss: torch.Tensor, weights: torch.Tensor, normalize: str = "group",
                         window: torch.Tensor | float | None = None) -> torch.Tensor:
    """Weighted mean of (G, K, K) pair terms: per group then over groups ("group"), or batch-wide ("pair");
    with ``window``, the sum of group means ("group") or of weighted terms ("pair") divided by it (module doc)."""
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize: must be one of {', '.join(NORMALIZATIONS)} (got {normalize!r})")
    totals = (pair_loss * weights).sum(dim=(1, 2))
    group_weights = weights.sum(dim=(1, 2))
    has_pairs = group_weights > 0
    if not has_pairs.any():
        raise NoValidPairsError("no valid pairs in batch: every group needs two responses in different tiers")
    if normalize == "pair":
        return totals.sum() / (group_weights.sum() if window is None else window)
    group_means = totals[has_pairs] / group_weights[has_pairs]
    return group_means.mean() if window is None else group_means.sum() / window


def _logsumexp_terms(*terms: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(torch.stack(torch.broadcast_tensors(*terms)), dim=0)


def davidson_terms(diff: torch.Tensor, margin: float, tie_strength: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(strict, tied) Davidson pair losses for d = s_i - s_j (arXiv 2409.17431):
    log(1 + e^-(d-m) + nu e^-(d-m)/2) and log(1 + (e^(d/2) + e^(-d/2)) / nu)."""
    zero, log_nu = torch.zeros_like(diff), math.log(tie_strength)
    shifted = diff - margin
    strict = _logsumexp_terms(zero, -shifted, log_nu - shifted / 2)
    tied = _logsumexp_terms(zero, diff / 2 - log_nu, -diff / 2 - log_nu)
    return strict, tied


def soft_pair_targets(annotator_ranks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From (G, A, K) per-annotator tiers (-1 unranked or absent annotator): (p, mask), both (G, K, K).

    For i < j ranked both by at least one annotator, p_ij = (annotators with i above j + 0.5 * those
    with a tie) / annotators who ranked both; ``mask`` marks those pairs.
    """
    ranked = annotator_ranks >= 0
    both = ranked.unsqueeze(3) & ranked.unsqueeze(2)
    a_i, a_j = annotator_ranks.unsqueeze(3), annotator_ranks.unsqueeze(2)
    above = (both & (a_i < a_j)).sum(dim=1).to(torch.float64)
    tied = (both & (a_i == a_j)).sum(dim=1).to(torch.float64)
    counts = both.sum(dim=1)
    k = annotator_ranks.size(2)
    upper = torch.ones(k, k, dtype=torch.bool, device=annotator_ranks.device).triu(diagonal=1)
    mask = (counts > 0) & upper
    return (above + 0.5 * tied) / counts.clamp(min=1), mask


def implicit_rewards(policy_logps: torch.Tensor, ref_logps: torch.Tensor, beta: float,
                     token_counts: torch.Tensor | None = None) -> torch.Tensor:
    """beta * the summed (or, with ``token_counts``, the mean) token log-ratio of each response."""
    log_ratio = policy_logps - ref_logps
    return beta * (log_ratio if token_counts is None else log_ratio / token_counts.clamp(min=1))


def grpo_pairwise_loss(
    policy_logps: torch.Tensor,
    ref_logps: torch.Tensor,
    ranks: torch.Tensor,
    *,
    beta: float = 0.1,
    margin: float = 0.0,
    weighting: str = "none",
    normalize: str = "group",
    ties: str = "ignore",
    tie_strength: float = 1.0,
    annotator_ranks: torch.Tensor | None = None,
    token_counts: torch.Tensor | None = None,
    window: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Group Relative Preference Optimization loss (docs/training.md, ARCHITECTURE.md "The loss").

    ``policy_logps``/``ref_logps``: (G, K) summed response-token log-probs under the policy and the
    frozen reference; s = beta * (policy_logps - ref_logps), or with ``token_counts`` (SimPO-style
    length normalisation) beta * the mean token log-ratio. With d = s_i - s_j, each valid pair i above
    j contributes ``l_ij = -log sigmoid(d - margin)`` with weight w_ij (``weighting``), averaged as
    ``normalize`` says (module doc). ``ties="davidson"`` uses Davidson's terms (``davidson_terms``)
    and adds every tied pair with weight 1. ``annotator_ranks`` (G, A, K) replaces the consensus by
    soft targets (``soft_pair_targets``): -(p log sigmoid(d) + (1 - p) log sigmoid(-d)), weight 1.
    ``window``: the accumulation window's denominator (module doc).
    Raises ``NoValidPairsError`` (a ValueError) when the batch has no pair to learn from.
    """
    if ties not in TIES:
        raise ValueError(f"ties: must be one of {', '.join(TIES)} (got {ties!r})")
    scores = implicit_rewards(policy_logps, ref_logps, beta, token_counts)
    diff = scores.unsqueeze(2) - scores.unsqueeze(1)
    if annotator_ranks is not None:
        return _soft_target_loss(diff, annotator_ranks, normalize, window)
    weights = pair_weights(ranks, weighting, diff.dtype, scores=scores)
    if ties == "ignore":
        return normalized_pair_mean(-F.logsigmoid(diff - margin), weights, normalize, window)
    strict, tied = davidson_terms(diff, margin, tie_strength)
    tied_mask = tied_pair_mask(ranks)
    return normalized_pair_mean(torch.where(tied_mask, tied, strict), weights + tied_mask.to(diff.dtype), normalize,
                                window)


def _soft_target_loss(diff: torch.Tensor, annotator_ranks: torch.Tensor, normalize: str,
                      window: torch.Tensor | float | None) -> torch.Tensor:
    targets, mask = soft_pair_targets(annotator_ranks)
    targets = targets.to(diff.dtype)
    soft = -(targets * F.logsigmoid(diff) + (1 - targets) * F.logsigmoid(-diff))
    return normalized_pair_mean(soft, mask.to(diff.dtype), normalize, window)


def log_odds(mean_logps: torch.Tensor) -> torch.Tensor:
    """log(p / (1 - p)) of a length-normalised sequence probability p = exp(mean_logps)."""
    mean_logps = mean_logps.clamp(max=-1e-6)
    return mean_logps - torch.log1p(-torch.exp(mean_logps))


def orpo_ranked_loss(
    policy_logps: torch.Tensor,
    token_counts: torch.Tensor,
    ranks: torch.Tensor,
    *,
    beta: float = 0.1,
    margin: float = 0.0,
    weighting: str = "none",
    normalize: str = "group",
    window: torch.Tensor | float | None = None,
    nll_window: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Reference-free odds-ratio loss (ORPO, Hong et al. 2024) generalised to ranked groups.

    With a_i = policy_logps_i / token_counts_i (mean token log-prob) and o_i = log odds of exp(a_i):
    ``loss = NLL + beta * mean(w_ij * -log sigmoid(o_i - o_j - margin))`` (weighted, normalised as
    ``normalize`` says), where NLL is the mean of -a_i over the top-tier (rank 0) responses of the
    batch. ``beta`` plays ORPO's lambda. ``window``/``nll_window``: the accumulation window's denominators of the
    pair term and of the NLL (``window_denominator``, module doc).
    """
    mean_logps = policy_logps / token_counts.clamp(min=1)
    odds = log_odds(mean_logps)
    diff = odds.unsqueeze(2) - odds.unsqueeze(1)
    weights = pair_weights(ranks, weighting, diff.dtype, scores=odds)
    odds_ratio_loss = normalized_pair_mean(-F.logsigmoid(diff - margin), weights, normalize, window)
    top = (ranks == 0).to(mean_logps.dtype)
    nll = -(mean_logps * top).sum() / (top.sum().clamp(min=1) if nll_window is None else nll_window)
    return nll + beta * odds_ratio_loss


def plackett_luce_loss(
    policy_logps: torch.Tensor,
    ref_logps: torch.Tensor,
    ranks: torch.Tensor,
    *,
    beta: float = 0.1,
    window: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Listwise Plackett-Luce negative log-likelihood of the human tiers, ties by Breslow's rule.

    Reward r_i = beta * (policy_logps_i - ref_logps_i). Each ranked response i outside its group's
    worst tier contributes ``-(r_i - logsumexp{r_j : tier_j >= tier_i})``: a tied tier is chosen as
    an unordered set from everything not yet placed. Unranked/padding slots (-1) take no part. The
    result is the mean over contributing responses (or their sum / ``window``, module doc); raises ``NoValidPairsError`` if there are none.
    """
    rewards = beta * (policy_logps - ref_logps)
    ranked = ranks >= 0
    itself = torch.eye(ranks.size(1), dtype=torch.bool, device=ranks.device)
    not_before = (ranked.unsqueeze(1) & (ranks.unsqueeze(1) >= ranks.unsqueeze(2))) | itself
    masked = rewards.unsqueeze(1).expand_as(not_before).masked_fill(~not_before, float("-inf"))
    denominators = torch.logsumexp(masked, dim=2)
    contributes = plackett_luce_contributors(ranks)
    count = contributes.sum()
    if count == 0:
        raise NoValidPairsError("no valid pairs in batch: every group needs two responses in different tiers")
    terms = (rewards - denominators).masked_fill(~contributes, 0.0)
    return -terms.sum() / (count if window is None else window)


def plackett_luce_contributors(ranks: torch.Tensor) -> torch.Tensor:
    """Boolean (G, K): the ranked responses outside their group's worst tier (one Plackett-Luce term each)."""
    ranked = ranks >= 0
    worst_tier = ranks.masked_fill(~ranked, -1).amax(dim=1, keepdim=True)
    return ranked & (ranks < worst_tier)


def pairwise_stats(scores: torch.Tensor, ranks: torch.Tensor) -> dict[str, float]:
    """Mean score margin s_i - s_j and the fraction with s_i > s_j over the valid pairs (i above j)."""
    mask = valid_pair_mask(ranks)
    diff = (scores.unsqueeze(2) - scores.unsqueeze(1))[mask]
    if diff.numel() == 0:
        return {"margin": 0.0, "accuracy": 0.0, "pairs": 0}
    return {"margin": diff.mean().item(), "accuracy": (diff > 0).float().mean().item(), "pairs": diff.numel()}
