import pytest
from hypothesis import given
from hypothesis import strategies as st

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
