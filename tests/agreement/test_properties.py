"""The vectorised measures against direct, textbook computations on random rankings (hypothesis)."""

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ranking_app.ranking import ranks_to_tiers, tau_b_batch, tiers_to_ranks
from ranking_app.review import agreement


@st.composite
def ranking(draw, n):
    """Random ranks with ties and unranked responses (at least 2 ranked), as tiers."""
    ranks = draw(st.lists(st.one_of(st.none(), st.integers(0, n)), min_size=n, max_size=n))
    if sum(r is not None for r in ranks) < 2:
        ranks[0], ranks[1] = 0, 1
    return ranks_to_tiers(ranks)


@st.composite
def prompt_rankings(draw, min_m=2, max_m=5):
    n = draw(st.integers(2, 7))
    m = draw(st.integers(min_m, max_m))
    return n, [draw(ranking(n)) for _ in range(m)]


def both_ranked(a_tiers, b_ranks, n):
    """Direct: the two sides' ranks (lower is better) on the responses both ranked (unranked excluded)."""
    a = tiers_to_ranks(a_tiers, n)
    kept = [i for i in range(n) if a[i] is not None and b_ranks[i] is not None]
    return [a[i] for i in kept], [b_ranks[i] for i in kept]


def direct_w(rankings, n):
    """Textbook W on the responses every annotator ranked, each ranking as scipy's average ranks."""
    m = len(rankings)
    ranks = [tiers_to_ranks(t, n) for t in rankings]
    common = [i for i in range(n) if all(r[i] is not None for r in ranks)]
    k = len(common)
    if k < 2:
        return None
    rows = [stats.rankdata([r[i] for i in common], method="average") for r in ranks]
    rank_sums = [sum(row[i] for row in rows) for i in range(k)]
    mean = sum(rank_sums) / k
    s = sum((r - mean) ** 2 for r in rank_sums)
    ties = 0
    for row in rows:
        for value in set(row.tolist()):
            t = row.tolist().count(value)
            ties += t**3 - t
    denominator = m**2 * (k**3 - k) - m * ties
    return None if denominator == 0 else 12 * s / denominator


def direct_borda_points(tiers, n):
    """One annotator's normalised tie-aware Borda points, None where it gave none."""
    ranked_here = [p for tier in tiers for p in tier]
    k = len(ranked_here)
    points = [None] * n
    if k < 2:
        return points
    tier_of = {p: t for t, tier in enumerate(tiers) for p in tier}
    for i in ranked_here:
        below = sum(tier_of[j] > tier_of[i] for j in ranked_here)
        tied = sum(tier_of[j] == tier_of[i] for j in ranked_here) - 1
        points[i] = (below + tied / 2) / (k - 1)
    return points


def others_consensus_ranks(rankings: dict, user, n):
    """The Borda consensus of everyone but ``user`` as ranks (lower is better), None where none compared."""
    columns = [direct_borda_points(t, n) for u, t in rankings.items() if u != user]
    means = [[c[i] for c in columns if c[i] is not None] for i in range(n)]
    return [round(-sum(v) / len(v), 9) if v else None for v in means]  # equal means tie exactly


@settings(max_examples=150, deadline=None)
@given(prompt_rankings())
def test_kendall_w_equals_the_direct_formula(data):
    n, rankings = data
    expected = direct_w(rankings, n)
    got = agreement.kendall_w(rankings, n)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-9)
        assert 0.0 <= got <= 1.0


@settings(max_examples=150, deadline=None)
@given(prompt_rankings(min_m=2, max_m=2))
def test_vectorised_tau_b_equals_scipy(data):
    n, (a, b) = data
    x, y = both_ranked(a, tiers_to_ranks(b, n), n)
    expected = stats.kendalltau(x, y, variant="b").statistic if len(x) >= 2 else float("nan")
    got = tau_b_batch(np.asarray(x, dtype=float)[None], np.asarray(y, dtype=float)[None])[0] if x else float("nan")
    if math.isnan(expected):
        assert math.isnan(got) and agreement.tau_b(a, b, n) is None
    else:
        assert got == pytest.approx(expected, abs=1e-9)
        assert agreement.tau_b(a, b, n) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(prompt_rankings())
def test_borda_consensus_orders_by_direct_points(data):
    # unranked excluded: each annotator scores only what they ranked, (below + tied / 2) / (k - 1), averaged
    # over the annotators who ranked the response with at least one other
    n, rankings = data
    others = others_consensus_ranks(dict(enumerate(rankings)), None, n)
    scores = [None if v is None else -v for v in others]
    ranks = tiers_to_ranks(agreement.borda_consensus(rankings, n), n)
    for i in range(n):
        assert (ranks[i] is None) == (scores[i] is None)
        for j in range(n):
            if scores[i] is not None and scores[j] is not None and scores[i] > scores[j]:
                assert ranks[i] < ranks[j]
            if scores[i] is not None and scores[i] == scores[j]:
                assert ranks[i] == ranks[j]


@settings(max_examples=60, deadline=None)
@given(st.lists(prompt_rankings(min_m=1, max_m=4), min_size=1, max_size=6))
def test_project_figures_match_per_prompt_and_direct_computations(prompts_data):
    users = ["u0", "u1", "u2", "u3"]
    prompts = [
        agreement.PromptData(pid, n, dict(zip(users, rankings, strict=False)), gold=rankings[0])
        for pid, (n, rankings) in enumerate(prompts_data)
    ]
    figures = agreement.project_figures(prompts)

    loo: dict[str, list[float]] = {u: [] for u in users}
    gold: dict[str, list[float]] = {u: [] for u in users}
    for prompt in prompts:
        fig = figures.prompts[prompt.prompt_id]
        expected_w = agreement.kendall_w(list(prompt.rankings.values()), prompt.n_responses)
        assert fig.kendall_w == (pytest.approx(expected_w) if expected_w is not None else None)
        assert fig.consensus == agreement.borda_consensus(list(prompt.rankings.values()), prompt.n_responses)
        n = prompt.n_responses
        for user, tiers in prompt.rankings.items():
            g = _direct_tau(*both_ranked(tiers, tiers_to_ranks(prompt.gold, n), n))
            if not math.isnan(g):
                gold[user].append(g)
            if len(prompt.rankings) < 2:
                continue
            tau = _direct_tau(*both_ranked(tiers, others_consensus_ranks(prompt.rankings, user, n), n))
            if not math.isnan(tau):
                loo[user].append(tau)
    for user, fig in figures.annotators.items():
        assert fig.n_compared == len(loo[user])
        if loo[user]:
            assert fig.agreement == pytest.approx(np.mean(loo[user]), abs=1e-9)
        else:
            assert fig.agreement is None
        assert fig.n_gold == len(gold[user])

    # Alpha: the package on a directly built reliability matrix (annotators x units).
    units = [(p, i) for p in prompts for i in range(p.n_responses)]
    matrix = [
        [
            np.nan if (r := tiers_to_ranks(p.rankings[u], p.n_responses)[i] if u in p.rankings else None) is None else r
            for p, i in units
        ]
        for u in users
    ]
    pairable = sum(sum(not np.isnan(row[k]) for row in matrix) >= 2 for k in range(len(units)))
    values = {v for row in matrix for v in row if not np.isnan(v)}
    if pairable == 0 or len(values) < 2:
        assert figures.krippendorff_alpha is None
        return
    try:
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal",
                                       value_domain=sorted(values))
    except ValueError:
        expected = float("nan")
    if math.isnan(expected):
        assert figures.krippendorff_alpha is None
    else:
        assert figures.krippendorff_alpha == pytest.approx(expected, abs=1e-9)


def _direct_tau(x, y) -> float:
    if len(x) < 2:
        return float("nan")
    return stats.kendalltau(x, y, variant="b").statistic
