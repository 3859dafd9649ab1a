"""The rank widget's helpers: card names, display order, context, and parsing its POST."""

from types import SimpleNamespace

import pytest

from ranking_app.cards import card_label, display_order
from ranking_app.rank_widget import build_rank_widget, tiers_from_post
from ranking_app.ranking import RankingError


def test_card_labels_go_past_z():
    assert [card_label(i) for i in (0, 1, 25, 26, 27, 51, 52)] == ["A", "B", "Z", "AA", "AB", "AZ", "BA"]


def test_display_order_is_a_stable_permutation_per_annotator_and_prompt():
    items = list(range(50))
    first = display_order(items, annotator_id=7, prompt_id=3)
    assert first == display_order(items, annotator_id=7, prompt_id=3)
    assert sorted(first) == items and first != items
    assert first != display_order(items, annotator_id=8, prompt_id=3)
    assert first != display_order(items, annotator_id=7, prompt_id=4)


def test_tiers_from_post_normalises_and_keeps_unranked():
    data = {"rank_0": "3", "rank_1": "", "rank_2": "1", "rank_3": "3"}
    assert tiers_from_post(data, 4) == [[2], [0, 3]]
    assert tiers_from_post({}, 3) == []


@pytest.mark.parametrize("value", ["0", "5", "-1", "two", "1.5"])
def test_tiers_from_post_names_each_bad_field(value):
    with pytest.raises(RankingError) as info:
        tiers_from_post({"rank_0": "1", "rank_2": value}, 4)
    assert info.value.errors == [f"rank_2: tier must be a number from 1 to 4 (got {value!r})"]


def test_the_tiers_field_is_the_ranking_itself_and_wins_over_rank_fields():
    assert tiers_from_post({"tiers": "[[2], [0, 3]]"}, 4) == [[2], [0, 3]]
    # rank.js disables the selects; a stale rank_ value next to the tiers field is not read
    assert tiers_from_post({"tiers": "[[1]]", "rank_0": "1"}, 4) == [[1]]
    assert tiers_from_post({"tiers": "", "rank_0": "1"}, 4) == [[0]]  # empty field: the no-JS form


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("[[0], [1", "tiers: not a JSON list of tiers"),
        ("{\"a\": 1}", "tiers: tiers must be a list of lists of response positions"),
        ("[[0.0], [1]]", "tiers: tier entries must be integers (got 0.0)"),
        ("[[true]]", "tiers: tier entries must be integers (got True)"),
        ("[[0], [4]]", "tiers: response position 4 is out of range 0..3"),
        ("[[0], [0]]", "tiers: response position 0 appears more than once"),
        ("[[\u0663]]", "tiers: not a JSON list of tiers"),  # a non-ASCII digit is no JSON number
        ('[["3"]]', "tiers: tier entries must be integers (got '3')"),
        ("[[[0]]]", "tiers: not a JSON list of tiers ([0][0]: nested deeper than 2 levels)"),
    ],
)
def test_a_bad_tiers_field_is_named(raw, problem):
    with pytest.raises(RankingError) as info:
        tiers_from_post({"tiers": raw}, 4)
    assert info.value.errors[0].startswith(problem)


def test_widget_context_groups_cards_into_tiers_in_display_order():
    responses = [SimpleNamespace(position=p, text=f"r{p}") for p in (3, 0, 2, 1)]
    widget = build_rank_widget(
        responses=responses, tiers=[[2], [], [0, 3]], allow_ties=True, allow_partial=True,
        action="/x/", version=4,
    )
    assert [c.label for c in widget.cards] == ["A", "B", "C", "D"]
    assert [[c.position for c in t.cards] for t in widget.tiers] == [[2], [3, 0]]
    assert [t.name for t in widget.tiers] == ["Best", "2"]
    assert [c.position for c in widget.unranked] == [1]
    assert widget.cards[0].tier == 2 and widget.cards[3].tier is None
    assert list(widget.tier_choices) == [1, 2, 3, 4]
