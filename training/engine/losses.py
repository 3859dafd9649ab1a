"""Ranked-preference losses over groups of responses.

Every loss takes per-response tensors of shape (G, K): G groups (prompts) in the batch, K response
slots per group. ``ranks`` holds dense tiers (0 = best, equal values = tie) and -1 for an unranked
response or a padding slot. A valid pair (i, j) has both responses ranked and ``ranks[i] < ranks[j]``;
its rank gap is ``ranks[j] - ranks[i]``. Nothing here loops over pairs in Python.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import WEIGHTINGS


class NoValidPairsError(ValueError):
    """Raised when a batch holds no pair of responses in different tiers."""


def valid_pair_mask(ranks: torch.Tensor) -> torch.Tensor:
    """Boolean (G, K, K): True where response i is ranked strictly above response j in its group."""
    ranked = ranks >= 0
    above = ranks.unsqueeze(2) < ranks.unsqueeze(1)
    return ranked.unsqueeze(2) & ranked.unsqueeze(1) & above


def pair_weights(ranks: torch.Tensor, weighting: str = "none", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Float (G, K, K) weights w_ij of every valid pair (0 elsewhere): 1, gap, gap^2 or log(1 + gap)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting: must be one of {', '.join(WEIGHTINGS)} (got {weighting!r})")
    gap = (ranks.unsqueeze(1) - ranks.unsqueeze(2)).to(dtype)
    weight = {
        "none": torch.ones_like(gap),
        "linear": gap,
        "quadratic": gap**2,
        "log": torch.log1p(gap.clamp(min=0)),
    }[weighting]
    return weight * valid_pair_mask(ranks)


def _weighted_pair_mean(pair_loss: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    total = weights.sum()
    if not total > 0:
        raise NoValidPairsError("no valid pairs in batch: every group needs two responses in different tiers")
    return (pair_loss * weights).sum() / total


def grpo_pairwise_loss(
    policy_logps: torch.Tensor,
    ref_logps: torch.Tensor,
    ranks: torch.Tensor,
    *,
    beta: float = 0.1,
    margin: float = 0.0,
    weighting: str = "none",
) -> torch.Tensor:
    """Group Relative Preference Optimization loss (docs/training.md, ARCHITECTURE.md "The loss").

    ``policy_logps``/``ref_logps``: (G, K) summed response-token log-probs under the policy and the
    frozen reference. With s = policy_logps - ref_logps, for every valid pair i above j:
    ``l_ij = -log sigmoid(beta * (s_i - s_j) - margin)`` and the result is
    ``sum(w_ij * l_ij) / sum(w_ij)`` over all valid pairs of the batch. Raises
    ``NoValidPairsError`` (a ValueError) when the batch has no valid pair.
    """
    scores = policy_logps - ref_logps
    diff = scores.unsqueeze(2) - scores.unsqueeze(1)
    pair_loss = -F.logsigmoid(beta * diff - margin)
    return _weighted_pair_mean(pair_loss, pair_weights(ranks, weighting, pair_loss.dtype))


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
) -> torch.Tensor:
    """Reference-free odds-ratio loss (ORPO, Hong et al. 2024) generalised to ranked groups.

    With a_i = policy_logps_i / token_counts_i (mean token log-prob) and o_i = log odds of exp(a_i):
    ``loss = NLL + beta * sum(w_ij * -log sigmoid(o_i - o_j - margin)) / sum(w_ij)``, where NLL is
    the mean of -a_i over the top-tier (rank 0) responses of the batch. ``beta`` plays ORPO's lambda.
    """
    mean_logps = policy_logps / token_counts.clamp(min=1)
    odds = log_odds(mean_logps)
    diff = odds.unsqueeze(2) - odds.unsqueeze(1)
    odds_ratio_loss = _weighted_pair_mean(-F.logsigmoid(diff - margin), pair_weights(ranks, weighting, diff.dtype))
    top = (ranks == 0).to(mean_logps.dtype)
    nll = -(mean_logps * top).sum() / top.sum().clamp(min=1)
    return nll + beta * odds_ratio_loss


def plackett_luce_loss(
    policy_logps: torch.Tensor,
    ref_logps: torch.Tensor,
    ranks: torch.Tensor,
    *,
    beta: float = 0.1,
) -> torch.Tensor:
    """Listwise Plackett-Luce negative log-likelihood of the human tiers, ties by Breslow's rule.

    Reward r_i = beta * (policy_logps_i - ref_logps_i). Each ranked response i outside its group's
    worst tier contributes ``-(r_i - logsumexp{r_j : tier_j >= tier_i})``: a tied tier is chosen as
    an unordered set from everything not yet placed. Unranked/padding slots (-1) take no part. The
    result is the mean over contributing responses; raises ``NoValidPairsError`` if there are none.
    """
    rewards = beta * (policy_logps - ref_logps)
    ranked = ranks >= 0
    itself = torch.eye(ranks.size(1), dtype=torch.bool, device=ranks.device)
    not_before = (ranked.unsqueeze(1) & (ranks.unsqueeze(1) >= ranks.unsqueeze(2))) | itself
    masked = rewards.unsqueeze(1).expand_as(not_before).masked_fill(~not_before, float("-inf"))
    denominators = torch.logsumexp(masked, dim=2)
    worst_tier = ranks.masked_fill(~ranked, -1).amax(dim=1, keepdim=True)
    contributes = ranked & (ranks < worst_tier)
    count = contributes.sum()
    if count == 0:
        raise NoValidPairsError("no valid pairs in batch: every group needs two responses in different tiers")
    terms = (rewards - denominators).masked_fill(~contributes, 0.0)
    return -terms.sum() / count


def pairwise_stats(scores: torch.Tensor, ranks: torch.Tensor) -> dict[str, float]:
    """Mean score margin s_i - s_j and the fraction with s_i > s_j over the valid pairs (i above j)."""
    mask = valid_pair_mask(ranks)
    diff = (scores.unsqueeze(2) - scores.unsqueeze(1))[mask]
    if diff.numel() == 0:
        return {"margin": 0.0, "accuracy": 0.0, "pairs": 0}
    return {"margin": diff.mean().item(), "accuracy": (diff > 0).float().mean().item(), "pairs": diff.numel()}
