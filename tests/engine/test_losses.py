"""Losses against direct per-pair / per-item computations, on random inputs with ties and -1s."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from training.engine.losses import (
    NoValidPairsError,
    groups_with_pairs,
    grpo_pairwise_loss,
    orpo_ranked_loss,
    pair_weights,
    plackett_luce_loss,
    window_denominator,
    window_normalizable,
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


def _lambda_weight(row, scores, i, j):
    ranked = [k for k, r in enumerate(row) if r >= 0]
    worst = max(row[k] for k in ranked)
    order = sorted(ranked, key=lambda k: (-scores[k], k))
    tau = {k: position + 1 for position, k in enumerate(order)}
    gain = {k: 2.0 ** (worst - row[k]) - 1 for k in ranked}
    return abs(gain[i] - gain[j]) * abs(1 / math.log2(1 + tau[i]) - 1 / math.log2(1 + tau[j]))


def _normalise(per_group, normalize):
    """per_group: one list of (weight, loss) per group -> the group- or pair-normalised mean (None if empty)."""
    groups = [terms for terms in per_group if sum(w for w, _ in terms) > 0]
    if not groups:
        return None
    if normalize == "pair":
        return sum(w * x for terms in groups for w, x in terms) / sum(w for terms in groups for w, _ in terms)
    return sum(sum(w * x for w, x in terms) / sum(w for w, _ in terms) for terms in groups) / len(groups)


def _scores(policy, ref, beta, counts=None):
    ratio = (policy - ref) if counts is None else (policy - ref) / counts.clamp(min=1)
    return (beta * ratio).tolist()


def direct_grpo(policy, ref, ranks, beta, margin, weighting, normalize="group", ties="ignore", nu=1.0, counts=None):
    scores, per_group = _scores(policy, ref, beta, counts), []
    for g, row in enumerate(ranks.tolist()):
        s, terms = scores[g], []
        for i, j in itertools.permutations(range(len(row)), 2):
            if row[i] < 0 or row[j] < 0:
                continue
            d = s[i] - s[j]
            if row[i] < row[j]:
                gap = row[j] - row[i]
                w = _lambda_weight(row, s, i, j) if weighting == "lambda" else WEIGHT_OF_GAP[weighting](gap)
                x = d - margin
                loss = math.log(1 + math.exp(-x) + nu * math.exp(-x / 2)) if ties == "davidson" else -math.log(1 / (1 + math.exp(-x)))
                terms.append((w, loss))
            elif row[i] == row[j] and i < j and ties == "davidson":
                terms.append((1.0, math.log(1 + (math.exp(d / 2) + math.exp(-d / 2)) / nu)))
        per_group.append(terms)
    return _normalise(per_group, normalize)


def _check_against(expected, call):
    if expected is None:
        with pytest.raises(NoValidPairsError):
            call()
        return
    assert call().item() == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0), margin=st.floats(0, 1),
       weighting=st.sampled_from(["none", "linear", "quadratic", "log", "lambda"]),
       normalize=st.sampled_from(["group", "pair"]))
def test_grpo_loss_matches_direct_per_pair_computation(batch, beta, margin, weighting, normalize):
    policy, ref, ranks = batch
    expected = direct_grpo(policy, ref, ranks, beta, margin, weighting, normalize)
    _check_against(expected, lambda: grpo_pairwise_loss(policy, ref, ranks, beta=beta, margin=margin,
                                                        weighting=weighting, normalize=normalize))


@settings(max_examples=120, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0), margin=st.floats(0, 1), nu=st.floats(0.05, 5.0),
       weighting=st.sampled_from(["none", "quadratic", "lambda"]), normalize=st.sampled_from(["group", "pair"]))
def test_davidson_ties_match_direct_per_pair_computation(batch, beta, margin, nu, weighting, normalize):
    policy, ref, ranks = batch
    expected = direct_grpo(policy, ref, ranks, beta, margin, weighting, normalize, ties="davidson", nu=nu)
    _check_against(expected, lambda: grpo_pairwise_loss(policy, ref, ranks, beta=beta, margin=margin,
                                                        weighting=weighting, normalize=normalize,
                                                        ties="davidson", tie_strength=nu))


def test_davidson_counts_a_group_that_holds_only_tied_pairs():
    policy, ref = torch.tensor([[-1.0, -2.0], [-1.0, -3.0]]), torch.zeros(2, 2)
    ranks = torch.tensor([[0, 0], [0, 1]])
    with_tie = grpo_pairwise_loss(policy, ref, ranks, beta=1.0, ties="davidson")
    strict_only = grpo_pairwise_loss(policy[1:], ref[1:], ranks[1:], beta=1.0, ties="davidson")
    tie_only = math.log(1 + (math.exp(0.5) + math.exp(-0.5)))
    assert with_tie.item() == pytest.approx((tie_only + strict_only.item()) / 2)


@settings(max_examples=80, deadline=None)
@given(batch=ranked_batches(), beta=st.floats(0.01, 2.0), normalize=st.sampled_from(["group", "pair"]))
def test_length_normalised_loss_matches_direct_per_pair_computation(batch, beta, normalize):
    policy, ref, ranks = batch
    counts = torch.arange(1, policy.numel() + 1, dtype=torch.float64).reshape(policy.shape) % 5 + 1
    expected = direct_grpo(policy, ref, ranks, beta, 0.0, "none", normalize, counts=counts)
    _check_against(expected, lambda: grpo_pairwise_loss(policy, ref, ranks, beta=beta, normalize=normalize,
                                                        token_counts=counts))


@st.composite
def annotated_batches(draw):
    """(policy, ref, annotator ranks (G, A, K)) with ties, unranked responses and absent annotators."""
    g, a, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(2, 5))
    ranks = [[[draw(st.integers(-1, 2)) for _ in range(k)] for _ in range(a)] for _ in range(g)]
    values = st.floats(-30, 0, allow_nan=False, width=32)
    policy = [[draw(values) for _ in range(k)] for _ in range(g)]
    ref = [[draw(values) for _ in range(k)] for _ in range(g)]
    return torch.tensor(policy, dtype=torch.float64), torch.tensor(ref, dtype=torch.float64), torch.tensor(ranks)


def direct_soft_targets(policy, ref, annotator_ranks, beta, normalize):
    scores, per_group = _scores(policy, ref, beta), []
    for g, annotators in enumerate(annotator_ranks.tolist()):
        terms = []
        for i, j in itertools.combinations(range(len(annotators[0])), 2):
            both = [a for a in annotators if a[i] >= 0 and a[j] >= 0]
            if not both:
                continue
            p = (sum(a[i] < a[j] for a in both) + 0.5 * sum(a[i] == a[j] for a in both)) / len(both)
            d = scores[g][i] - scores[g][j]
            log_sig = lambda x: -math.log1p(math.exp(-x))  # noqa: E731
            terms.append((1.0, -(p * log_sig(d) + (1 - p) * log_sig(-d))))
        per_group.append(terms)
    return _normalise(per_group, normalize)


@settings(max_examples=120, deadline=None)
@given(batch=annotated_batches(), beta=st.floats(0.01, 2.0), normalize=st.sampled_from(["group", "pair"]))
def test_annotator_soft_targets_match_direct_per_pair_computation(batch, beta, normalize):
    policy, ref, annotator_ranks = batch
    expected = direct_soft_targets(policy, ref, annotator_ranks, beta, normalize)
    consensus = annotator_ranks[:, 0]
    _check_against(expected, lambda: grpo_pairwise_loss(policy, ref, consensus, beta=beta, normalize=normalize,
                                                        annotator_ranks=annotator_ranks))


def _full_groups(g, k, seed=0):
    generator = torch.Generator().manual_seed(seed)
    policy = -torch.rand(g, k, generator=generator, dtype=torch.float64) * 20
    ref = -torch.rand(g, k, generator=generator, dtype=torch.float64) * 20
    ranks = torch.stack([torch.randperm(k, generator=generator) % 3 for _ in range(g)])
    ranks[:, 0], ranks[:, 1] = 0, 1  # every group holds a valid pair
    return policy, ref, ranks


@pytest.mark.parametrize("weighting", ["none", "quadratic", "lambda"])
def test_group_normalised_batch_loss_is_the_mean_of_its_groups_losses(weighting):
    policy, ref, ranks = _full_groups(4, 6)
    ranks[2, 3:] = -1  # groups of different sizes weigh the same
    singles = [grpo_pairwise_loss(policy[g : g + 1], ref[g : g + 1], ranks[g : g + 1], weighting=weighting)
               for g in range(4)]
    batch = grpo_pairwise_loss(policy, ref, ranks, weighting=weighting)
    assert batch.item() == pytest.approx(torch.stack(singles).mean().item(), rel=1e-12)
    pair = grpo_pairwise_loss(policy, ref, ranks, weighting=weighting, normalize="pair")
    assert pair.item() != pytest.approx(batch.item(), rel=1e-6)


def test_batch_of_four_equals_two_accumulated_batches_of_two():
    policy, ref, ranks = _full_groups(4, 5, seed=3)
    whole = policy.clone().requires_grad_(True)
    grpo_pairwise_loss(whole, ref, ranks, weighting="linear").backward()
    halves = policy.clone().requires_grad_(True)
    for part in (slice(0, 2), slice(2, 4)):  # what Trainer does with gradient_accumulation_steps=2
        (grpo_pairwise_loss(halves[part], ref[part], ranks[part], weighting="linear") / 2).backward()
    torch.testing.assert_close(whole.grad, halves.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [
    {"weighting": "quadratic"}, {"ties": "davidson"}, {"weighting": "lambda"}, {"normalize": "pair", "weighting": "log"},
    {"normalize": "pair", "ties": "davidson"}, {"loss": "plackett-luce"}, {"loss": "orpo", "weighting": "linear"},
    {"loss": "orpo", "normalize": "pair"},
], ids=lambda o: "-".join(map(str, o.values())))  # fmt: skip
def test_unequal_micro_batches_summed_with_the_window_denominator_give_the_whole_batch_loss(options):
    policy, ref, ranks = _full_groups(5, 4, seed=5)
    ranks[4] = torch.tensor([0, 0, -1, -1]) if options.get("ties") else torch.tensor([0, 1, 1, -1])
    counts = torch.arange(1, 21, dtype=torch.float64).reshape(5, 4)
    kind, settings_ = options.get("loss", "grpo"), {k: v for k, v in options.items() if k != "loss"}

    def loss(part: slice, logps: torch.Tensor, window=(None, None)) -> torch.Tensor:
        if kind == "plackett-luce":
            return plackett_luce_loss(logps[part], ref[part], ranks[part], window=window[0])
        if kind == "orpo":
            return orpo_ranked_loss(logps[part], counts[part], ranks[part], window=window[0], nll_window=window[1],
                                    **settings_)
        return grpo_pairwise_loss(logps[part], ref[part], ranks[part], window=window[0], **settings_)

    everything = slice(0, 5)
    whole = policy.clone().requires_grad_(True)
    loss(everything, whole).backward()
    parts = (slice(0, 1), slice(1, 5))  # 1 group + 4 groups: a plain mean of the two means would differ
    window = torch.tensor([window_denominator(ranks[p], **options) for p in parts], dtype=torch.float64).sum(dim=0)
    packed = policy.clone().requires_grad_(True)
    total = sum(loss(part, packed, window) for part in parts)
    total.backward()
    assert total.item() == pytest.approx(loss(everything, policy).item(), rel=1e-12)
    torch.testing.assert_close(whole.grad, packed.grad, rtol=1e-12, atol=1e-12)


def test_the_group_window_counts_groups_with_a_pair_and_tied_only_groups_under_davidson():
    ranks = torch.tensor([[0, 1, 2], [0, 0, -1]])
    assert (groups_with_pairs(ranks), groups_with_pairs(ranks, "davidson")) == (1, 2)


def test_soft_targets_count_the_groups_some_annotator_ranked_a_pair_of():
    annotators = torch.tensor([[[0, 1, -1], [-1, -1, -1]], [[0, -1, -1], [-1, 0, -1]]])  # group 1: no shared pair
    assert groups_with_pairs(torch.tensor([[0, 1, -1], [0, 1, -1]]), annotator_ranks=annotators) == 1


def test_lambda_weights_under_pair_normalisation_have_no_window_before_the_forward_pass():
    assert not window_normalizable("grpo", "pair", "lambda") and not window_normalizable("orpo", "pair", "lambda")
    assert window_normalizable("orpo", "group", "lambda") and window_normalizable("plackett-luce", "pair", "lambda")
    with pytest.raises(ValueError, match="needs the current scores"):
        window_denominator(torch.tensor([[0, 1]]), normalize="pair", weighting="lambda")


def test_unknown_normalisation_and_ties_are_rejected():
    args = (torch.zeros(1, 2), torch.zeros(1, 2), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="^normalize:"):
        grpo_pairwise_loss(*args, normalize="batch")
    with pytest.raises(ValueError, match="^ties:"):
        grpo_pairwise_loss(*args, ties="breslow")


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
    per_group = [[] for _ in range(policy.size(0))]
    for g, i, j, gap in _pairs(ranks):
        w = WEIGHT_OF_GAP[weighting](gap)
        per_group[g].append((w, -F.logsigmoid(odds[g, i] - odds[g, j]).item()))
    odds_ratio = _normalise(per_group, "group")
    if odds_ratio is None:
        with pytest.raises(NoValidPairsError):
            orpo_ranked_loss(policy, counts, ranks, beta=beta, weighting=weighting)
        return
    top = ranks == 0
    nll = -(mean[top]).mean().item() if top.any() else 0.0
    loss = orpo_ranked_loss(policy, counts, ranks, beta=beta, weighting=weighting)
    assert loss.item() == pytest.approx(nll + beta * odds_ratio, rel=1e-9, abs=1e-9)


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
