"""Each measure against published worked examples."""

import pytest

from ranking_app.ranking import ranks_to_tiers
from ranking_app.review.agreement import PromptData, alpha_from_prompts, kendall_w, project_figures

# The `anxiety` data of R's irr package (Gamer et al.): 20 subjects rated 1-6 by 3 raters, with
# many ties. Published: irr::kendall(anxiety, correct=TRUE) -> Wt = 0.54;
# DescTools::KendallW(anxiety, TRUE) -> 0.5396569 (chi-squared 30.76, df 19).
ANXIETY = [
    [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
]

# Siegel & Castellan (1988), Nonparametric Statistics for the Behavioral Sciences, 2nd ed., the
# vacation-attributes example (3 judges rank 8 attributes); published W = 0.656
# (DescTools reproduces it: 0.6560847, Friedman chi-squared 13.778, df 7).
SIEGEL_CASTELLAN = [
    [5, 6, 7, 1, 2, 4, 3, 8],
    [1, 7, 6, 2, 3, 5, 4, 8],
    [4, 5, 1, 3, 2, 7, 6, 8],
]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, missing data. Published: nominal 0.743, ordinal 0.815, interval 0.849.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_kendall_w_with_tied_ranks_matches_the_published_anxiety_example():
    w = kendall_w([ranks_to_tiers(r) for r in ANXIETY], 20)
    assert w == pytest.approx(0.5396569, abs=1e-7)
    # The chi-squared statistic the same sources publish: m (n - 1) W.
    assert 3 * 19 * w == pytest.approx(30.76, abs=0.005)


def test_kendall_w_matches_siegel_and_castellan_without_ties():
    assert kendall_w([ranks_to_tiers(r) for r in SIEGEL_CASTELLAN], 8) == pytest.approx(0.6560847, abs=1e-7)
    assert 3 * 7 * kendall_w([ranks_to_tiers(r) for r in SIEGEL_CASTELLAN], 8) == pytest.approx(13.778, abs=5e-4)


def test_tie_correction_changes_w_on_tied_data():
    """Without the correction the anxiety W would be lower (irr reports 0.54 only when corrected)."""

    from ranking_app.ranking import dense_matrix, unranked_at_bottom
    from ranking_app.review.agreement import midranks

    dense = dense_matrix([ranks_to_tiers(r) for r in ANXIETY], 20)
    rank_sums = midranks(unranked_at_bottom(dense)).sum(axis=0)
    s = ((rank_sums - 3 * 21 / 2) ** 2).sum()
    uncorrected = 12 * s / (9 * (20**3 - 20))
    assert uncorrected < 0.5396569 - 0.01


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_alpha_matches_krippendorff_2011(level, published):
    """One prompt of 12 responses: each response is a unit, each observer's value its tier."""
    prompt = PromptData(1, 12, {f"obs{i}": ranks_to_tiers(r) for i, r in enumerate(K2011)})
    assert alpha_from_prompts([prompt], level) == pytest.approx(published, abs=5e-4)


def test_project_alpha_is_the_ordinal_alpha():
    prompt = PromptData(1, 12, {f"obs{i}": ranks_to_tiers(r) for i, r in enumerate(K2011)})
    assert project_figures([prompt]).krippendorff_alpha == pytest.approx(0.815, abs=5e-4)
