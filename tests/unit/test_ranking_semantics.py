import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ranking_app import ranking
from ranking_app.ranking import (
    RankingError,
    RankingRules,
    normalize_ranks,
    pair_weight,
    ranking_pairs,
    ranks_to_tiers,
    tiers_to_ranks,
    validate_ranks,
    validate_tiers,
)

rank_lists = st.lists(st.one_of(st.none(), st.integers(-5, 20)), min_size=0, max_size=12)


def test_normalize_makes_dense_tiers_and_keeps_unranked():
    assert normalize_ranks([1, 3, 3, None]) == [0, 1, 1, None]
    assert normalize_ranks([0, 1, 2, 3]) == [0, 1, 2, 3]
    assert normalize_ranks([10, -2, 10]) == [1, 0, 1]


def test_tiers_form_of_the_architecture_example():
    assert ranks_to_tiers([1, 2, 0, 1]) == [[2], [0, 3], [1]]
    assert tiers_to_ranks([[2], [0, 3], [1]], 4) == [1, 2, 0, 1]


def test_pairs_skip_ties_and_unranked_and_carry_the_gap():
    assert sorted(ranking_pairs([0, 1, 1, None, 2])) == [(0, 1, 1), (0, 2, 1), (0, 4, 2), (1, 4, 1), (2, 4, 1)]


@given(rank_lists)
def test_normalize_is_idempotent(ranks):
    assert normalize_ranks(normalize_ranks(ranks)) == normalize_ranks(ranks)


@given(rank_lists)
def test_tiers_round_trip(ranks):
    assert tiers_to_ranks(ranks_to_tiers(ranks), len(ranks)) == normalize_ranks(ranks)


@given(rank_lists)
def test_pair_count_equals_cross_tier_ranked_pairs(ranks):
    ranked = [r for r in ranks if r is not None]
    expected = sum(1 for a in ranked for b in ranked if a < b)
    assert len(ranking_pairs(ranks)) == expected


@pytest.mark.parametrize(
    ("weighting", "gap", "expected"),
    [("none", 3, 1.0), ("linear", 3, 3.0), ("quadratic", 3, 9.0), ("log", 1, 0.6931471805599453)],
)
def test_pair_weights(weighting, gap, expected):
    assert pair_weight(gap, weighting) == pytest.approx(expected)


def test_unknown_weighting_is_named_in_the_error():
    with pytest.raises(ValueError, match="weighting"):
        pair_weight(1, "cubic")


def test_validation_lists_every_rule_broken():
    strict = RankingRules(allow_ties=False, allow_partial=False)
    with pytest.raises(RankingError) as exc:
        validate_ranks([0, 0, None], 3, strict)
    assert "partial" in str(exc.value) and "ties" in str(exc.value)


def test_length_mismatch_and_bad_types_are_rejected():
    with pytest.raises(RankingError, match="3 entries but there are 4"):
        validate_ranks([0, 1, 2], 4)
    with pytest.raises(RankingError, match="integers or null"):
        validate_ranks([0, "1", 2], 3)
    with pytest.raises(RankingError, match="integers or null"):
        validate_ranks([0, True, 2], 3)


def test_submitted_ranking_needs_two_ranked_responses_but_a_draft_does_not():
    with pytest.raises(RankingError, match="at least 2"):
        validate_ranks([0, None, None], 3)
    assert validate_ranks([0, None, None], 3, submitted=False) == [0, None, None]


def test_tiers_validation_catches_duplicates_and_out_of_range():
    with pytest.raises(RankingError, match="more than once"):
        validate_tiers([[0], [0, 1]], 3)
    with pytest.raises(RankingError, match="out of range"):
        validate_tiers([[0], [5]], 3)
    assert validate_tiers([[2, 0], [], [1]], 3) == [[0, 2], [1]]


# ---------------------------------------------------------------------------- arrays, pairs, tau-b, split
def test_arrays_spell_unranked_as_the_one_code():
    assert ranking.dense_array([[2], [0, 3]], 5).tolist() == [1, -1, 0, 1, -1]
    assert ranking.dense_matrix([[[1], [0]], []], 2).tolist() == [[1, 0], [-1, -1]]
    assert ranking.ranks_array([3, None, 3, 7]).tolist() == [0, ranking.UNRANKED_CODE, 0, 1]
    assert ranking.unranked_at_bottom(np.array([[0, -1, 1], [-1, 0, -1]])).tolist() == [[0, 2, 1], [1, 0, 1]]


def test_dense_matrix_names_a_position_outside_the_responses():
    with pytest.raises(RankingError, match="position 3 is out of range 0..2"):
        ranking.dense_matrix([[[0], [3]]], 3)
    with pytest.raises(RankingError, match="position -1"):
        ranking.dense_array([[-1]], 3)


@given(rank_lists)
def test_arrays_and_lists_agree(ranks):
    expected = [ranking.UNRANKED_CODE if r is None else r for r in normalize_ranks(ranks)]
    assert ranking.ranks_array(ranks).tolist() == expected
    assert ranking.dense_array(ranks_to_tiers(ranks), len(ranks)).tolist() == expected


@given(rank_lists)
def test_a_valid_pair_exists_exactly_when_some_pair_is_made(ranks):
    assert ranking.has_valid_pair(ranks) == bool(ranking_pairs(ranks))


def test_weighted_pairs_carry_gap_and_weight():
    assert ranking.weighted_pairs([0, None, 2], "quadratic") == [(0, 2, 1, 1.0)]
    assert ranking.weighted_pairs([0, 1, 3], "linear") == [(0, 1, 1, 1.0), (0, 2, 2, 2.0), (1, 2, 1, 1.0)]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans()), min_size=2, max_size=8))
def test_tau_b_batch_equals_scipy_scalar_with_and_without_mask(rows):
    x, y, keep = (np.array(column) for column in zip(*rows, strict=True))
    whole = ranking.tau_b_batch(x[None], y[None])[0]
    masked = ranking.tau_b_batch(x[None], y[None], keep[None])[0]
    for got, expected in ((whole, ranking.tau_b(x, y)), (masked, ranking.tau_b(x[keep], y[keep]))):
        assert (expected is None) == math.isnan(got)
        if expected is not None:
            assert got == pytest.approx(expected, abs=1e-12)


def test_tau_b_is_undefined_when_a_side_is_constant():
    assert ranking.tau_b([1, 1, 1], [0, 1, 2]) is None
    assert ranking.tau_b([0, 1, 2], [2, 1, 0]) == pytest.approx(-1.0)


def test_split_is_stable_per_id_and_about_a_fifth_test():
    ids = [f"id-{i}" for i in range(2000)]
    splits = [ranking.split_for(i) for i in ids]
    assert splits == [ranking.split_for(i) for i in ids]
    assert 0.17 < splits.count("test") / len(ids) < 0.23
    assert {ranking.split_for(i, 0) for i in ids} == {"train"}
    assert {ranking.split_for(i, 100) for i in ids} == {"test"}
