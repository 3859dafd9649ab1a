"""Losses against direct per-pair / per-item computations, on random inputs with ties and -1s."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from training.engine.losses import (
    NoValidPairsError,
    grpo_pairwise_loss,
    orpo_ranked_loss,
    pair_weights,
    plackett_luce_loss,
)

WEIGHT_OF_GAP = {"none": lambda g: 1.0, "linear": float, "quadratic": lambda g: float(g * g),
                 "log": lambda g: math.log1p(g)}


@st.composite
def ranked_batches(draw):
    """(policy, ref, ranks) with G groups of K slots; tiers with ties, -1 for unranked/padding."""
    g = draw(st.integers(1, 4))
    k = draw(st.integers(2, 6))
    ranks = [[draw(st.integers(-1, 3)) for _ in range(k)] for _ in range(g)]
    values = st.floats(-30, 0, allow_nan=False, width=32)
    policy = [[draw(values) for _ in range(k)] for _ in range(g)]
    ref = [[draw(values) for _ in range(k)] for _ in range(g)]
    return torch.tensor(policy, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64), torch.tensor(ranks)


def _pairs(ranks):
    for g, row in enumerate(ranks.tolist()):
        for i, ri in enumerate(row):
            for j, rj in enumerate(row):
                if ri >= 0 and rj >= 0 and ri < rj:
                    yield g, i, j, rj - ri


def direct_grpo(policy, ref, ranks, beta, margin, weighting):
    total, weights = 0.0, 0.0
    for g, i, j, gap in _pairs(ranks):
        s_i = policy[g, i].item() - ref[g, i].item()
        s_j = policy[g, j].item() - ref[g, j].item()
        w = WEIGHT_OF_GAP[weighting](gap)
        total += w * -math.log(1 / (1 + math.exp(-(beta * (s_i - s_j) - margin))))
        weights += w
    return None if weights == 0 else total / weights


@settings(max_examples=150, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0), margin=st.floats(0, 1),
       weighting=st.sampled_from(["none", "linear", "quadratic", "log"]))
def test_grpo_loss_matches_direct_per_pair_computation(batch, beta, margin, weighting):
    policy, ref, ranks = batch
    expected = direct_grpo(policy, ref, ranks, beta, margin, weighting)
    if expected is None:
        with pytest.raises(NoValidPairsError):
            grpo_pairwise_loss(policy, ref, ranks, beta=beta, margin=margin, weighting=weighting)
        return
    loss = grpo_pairwise_loss(policy, ref, ranks, beta=beta, margin=margin, weighting=weighting)
    assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(batch=ranked_batches(), weighting=st.sampled_from(["none", "linear", "quadratic", "log"]))
def test_loss_gradients_are_finite_and_zero_for_unranked_slots(batch, weighting):
    policy, ref, ranks = batch
    if not (pair_weights(ranks, weighting) > 0).any():
        return
    policy = policy.clone().requires_grad_(True)
    grpo_pairwise_loss(policy, ref, ranks, weighting=weighting).backward()
    assert torch.isfinite(policy.grad).all()
    assert (policy.grad[ranks < 0] == 0).all()


def direct_plackett_luce(policy, ref, ranks, beta):
    terms = []
    for g, row in enumerate(ranks.tolist()):
        ranked = [i for i, r in enumerate(row) if r >= 0]
        if not ranked:
            continue
        worst = max(row[i] for i in ranked)
        for i in ranked:
            if row[i] == worst:
                continue
        for i in ranked:
            if row[i] < worst:
                rewards = {j: beta * (policy[g, j].item() - ref[g, j].item()) for j in ranked}
                rest = [rewards[j] for j in ranked if row[j] >= row[i]]
                terms.append(rewards[i] - math.log(sum(math.exp(x) for x in rest)))
    return None if not terms else -sum(terms) / len(terms)


@settings(max_examples=120, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0))
def test_plackett_luce_matches_direct_breslow_likelihood(batch, beta):
    policy, ref, ranks = batch
    expected = direct_plackett_luce(policy, ref, ranks, beta)
    if expected is None:
        with pytest.raises(NoValidPairsError):
            plackett_luce_loss(policy, ref, ranks, beta=beta)
        return
    policy = policy.clone().requires_grad_(True)
    loss = plackett_luce_loss(policy, ref, ranks, beta=beta)
    assert loss.item() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    loss.backward()
    assert torch.isfinite(policy.grad).all()


def test_plackett_luce_without_ties_is_the_listwise_softmax_likelihood():
    rewards = torch.tensor([[1.0, 0.2, -0.5]], dtype=torch.float64)
    ranks = torch.tensor([[0, 1, 2]])
    expected = -(torch.log_softmax(rewards[0], 0)[0] + torch.log_softmax(rewards[0, 1:], 0)[0]) / 2
    assert plackett_luce_loss(rewards, torch.zeros_like(rewards), ranks, beta=1.0).item() == pytest.approx(expected.item())


@settings(max_examples=60, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0), weighting=st.sampled_from(["none", "linear", "log"]))
def test_orpo_loss_matches_direct_computation(batch, beta, weighting):
    policy, _, ranks = batch
    policy = policy - 1.0  # strictly negative log-probs
    counts = torch.arange(1, policy.numel() + 1, dtype=torch.float64).reshape(policy.shape) % 7 + 1
    mean = policy / counts
    odds = mean - torch.log1p(-torch.exp(mean))
    total, weights = 0.0, 0.0
    for g, i, j, gap in _pairs(ranks):
        w = WEIGHT_OF_GAP[weighting](gap)
        total += w * -F.logsigmoid(odds[g, i] - odds[g, j]).item()
        weights += w
    if weights == 0:
        with pytest.raises(NoValidPairsError):
            orpo_ranked_loss(policy, counts, ranks, beta=beta, weighting=weighting)
        return
    top = ranks == 0
    nll = -(mean[top]).mean().item() if top.any() else 0.0
    loss = orpo_ranked_loss(policy, counts, ranks, beta=beta, weighting=weighting)
    assert loss.item() == pytest.approx(nll + beta * total / weights, rel=1e-9, abs=1e-9)


def test_batch_without_valid_pairs_raises_a_clear_error():
    policy = torch.zeros(2, 3)
    ranks = torch.tensor([[0, 0, -1], [-1, -1, 1]])
    with pytest.raises(NoValidPairsError, match="no valid pairs"):
        grpo_pairwise_loss(policy, policy, ranks)


def test_unknown_weighting_is_rejected():
    with pytest.raises(ValueError, match="^weighting:"):
        grpo_pairwise_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.tensor([[0, 1]]), weighting="cubic")


def test_grpo_loss_of_two_responses_is_the_dpo_loss():
    policy, ref = torch.tensor([[-3.0, -5.0]]), torch.tensor([[-4.0, -4.0]])
    loss = grpo_pairwise_loss(policy, ref, torch.tensor([[0, 1]]), beta=0.1)
    assert loss.item() == pytest.approx(-F.logsigmoid(torch.tensor(0.1 * (1.0 - (-1.0)))).item())
