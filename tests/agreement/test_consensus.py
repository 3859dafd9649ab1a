"""Tie-aware Borda consensus on hand-made cases."""

from ranking_app.review.agreement import borda_consensus


def test_unanimous_rankings_give_the_same_consensus():
    assert borda_consensus([[[2], [0], [1]], [[2], [0], [1]]], 3) == [[2], [0], [1]]


def test_a_tie_in_one_ranking_is_broken_by_the_others():
    # A: 0 and 1 tied first; B and C: 1 before 0. Points favour 1.
    rankings = [[[0, 1], [2]], [[1], [0], [2]], [[1], [0], [2]]]
    assert borda_consensus(rankings, 3) == [[1], [0], [2]]


def test_equal_points_give_a_tie_in_the_consensus():
    # Two annotators exactly opposed on 0 vs 1, both put 2 last.
    assert borda_consensus([[[0], [1], [2]], [[1], [0], [2]]], 3) == [[0, 1], [2]]


def test_tied_rankings_keep_the_tie():
    assert borda_consensus([[[0, 1], [2, 3]], [[0, 1], [2, 3]]], 4) == [[0, 1], [2, 3]]


def test_unranked_is_excluded_not_a_bottom_tier_and_never_ranked_stays_unranked():
    # Response 3 is unranked by everyone: it stays out of the consensus.
    # A ranks 0 > 1 and leaves 2 out; B ranks 2 > 0 > 1. Scores over the annotators who ranked each:
    # 0: (1 + 0.5) / 2, 1: 0, 2: 1 (B only). Read as a bottom tier, A's silence would have put 2 below 0.
    rankings = [[[0], [1]], [[2], [0], [1]]]
    assert borda_consensus(rankings, 4) == [[2], [0], [1]]
    # A ranks 0 > 1 only, B ranks 1 > 0 > 2: 0 and 1 score 0.75 and 0.5, 2 scores 0
    assert borda_consensus([[[0], [1]], [[1], [0], [2]]], 4) == [[0], [1], [2]]


def test_an_annotator_who_ranked_one_response_compares_nothing():
    assert borda_consensus([[[1]], [[0], [2]]], 3) == [[0], [2]]


def test_half_points_for_ties_decide_the_order():
    # A: 0 > {1, 2};  B: {0, 1} > 2;  points (n - midrank): 0: 2 + 1.5, 1: 0.5 + 1.5, 2: 0.5 + 0
    assert borda_consensus([[[0], [1, 2]], [[0, 1], [2]]], 3) == [[0], [1], [2]]


def test_no_rankings_no_consensus():
    assert borda_consensus([], 4) == []
