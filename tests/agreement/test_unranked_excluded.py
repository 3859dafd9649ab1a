"""One meaning of "unranked" in the agreement figures: excluded, not a tier. A response an annotator left
unranked is neither below nor above anything in Kendall's W, tau-b, the leave-one-out agreement or the
agreement with gold (it used to be read as one shared bottom tier, which made an annotator who ranked
only their top two disagree with one who ranked the same top two and then the rest)."""

import pytest

from ranking_app.review.agreement import PromptData, kendall_w, project_figures, tau_b, tau_b_matrix

TOP_TWO = [[0], [1]]  # 0 best, 1 next; 2 and 3 left unranked
ALL_FOUR = [[0], [1], [2], [3]]


def test_tau_b_counts_only_the_responses_both_ranked():
    assert tau_b(TOP_TWO, ALL_FOUR, 4) == pytest.approx(1.0)
    assert tau_b([[1], [0]], ALL_FOUR, 4) == pytest.approx(-1.0)
    assert tau_b_matrix({"a": TOP_TWO, "b": ALL_FOUR}, 4)["a"]["b"] == pytest.approx(1.0)


def test_tau_b_is_undefined_with_fewer_than_two_responses_ranked_by_both():
    assert tau_b([[0], [1]], [[2], [3]], 4) is None
    assert tau_b([[0], [1]], [[1], [2], [3]], 4) is None


def test_kendall_w_is_computed_on_the_responses_every_annotator_ranked():
    assert kendall_w([TOP_TWO, ALL_FOUR], 4) == pytest.approx(1.0)
    assert kendall_w([TOP_TWO, [[1], [0], [2], [3]]], 4) == pytest.approx(0.0)
    assert kendall_w([[[0], [1]], [[2], [3]]], 4) is None  # no two responses ranked by both


def test_leave_one_out_and_gold_agreement_ignore_what_an_annotator_left_unranked():
    prompt = PromptData(1, 4, {"partial": TOP_TWO, "b": ALL_FOUR, "c": ALL_FOUR}, gold=ALL_FOUR)
    figures = project_figures([prompt])
    assert figures.annotators["partial"].agreement == pytest.approx(1.0)
    assert figures.annotators["partial"].gold_agreement == pytest.approx(1.0)
    assert figures.prompts[1].kendall_w == pytest.approx(1.0)
    assert figures.prompts[1].consensus == [[0], [1], [2], [3]]
