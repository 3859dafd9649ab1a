"""The engine's own ranking reader agrees with the web side's ranking core, pair for pair.

The engine (``training/engine``) cannot import Django, so it keeps a short copy of the ranking
rules: ``records.dense_tiers``/``has_valid_pair``/``is_held_out`` and the pair mask and weights in
``losses``. These tests hold that copy to ``ranking_app.ranking`` on random rankings with ties and
unranked responses, so the pairs a user exports are exactly the pairs the loss trains on.
"""

import math
import uuid

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ranking_app import ranking
from training.engine import config_fields, losses, metrics, records

# Ranks as users write them: any integers (ties when equal), None for unranked.
rank_lists = st.lists(st.one_of(st.none(), st.integers(-3, 6)), min_size=1, max_size=8)


def engine_pairs(ranks_tensor: torch.Tensor, weighting: str) -> list[list[tuple[int, int, float]]]:
    """(better, worse, weight) per group from the engine's (G, K, K) mask and weights."""
    mask = losses.valid_pair_mask(ranks_tensor)
    weights = losses.pair_weights(ranks_tensor, weighting, torch.float64)
    assert not weights[~mask].any(), "a weight outside the valid-pair mask"
    return [
        [(i, j, float(weights[g, i, j])) for i, j in torch.nonzero(mask[g]).tolist()]
        for g in range(ranks_tensor.size(0))
    ]


def padded(groups: list[list[int | None]]) -> torch.Tensor:
    """Groups of different sizes in one (G, K) tensor, as the collator pads them (-1)."""
    width = max(len(g) for g in groups)
    return torch.tensor([records.dense_tiers(g) + [records.UNRANKED] * (width - len(g)) for g in groups])


@settings(max_examples=200, deadline=None)
@given(st.lists(rank_lists, min_size=1, max_size=4), st.sampled_from(ranking.WEIGHTINGS))
def test_engine_pair_mask_and_weights_equal_the_exported_pairs(groups, weighting):
    got = engine_pairs(padded(groups), weighting)
    for ranks, engine_group in zip(groups, got, strict=True):
        web = ranking.weighted_pairs(ranks, weighting)
        assert [(i, j) for i, j, _ in engine_group] == [(i, j) for i, j, _, _ in web]
        assert [w for *_, w in engine_group] == pytest.approx([w for *_, w in web], rel=1e-12)


@given(rank_lists)
def test_engine_dense_tiers_and_valid_pair_equal_the_core(ranks):
    assert records.dense_tiers(ranks) == ranking.ranks_array(ranks).tolist()
    assert records.UNRANKED == ranking.UNRANKED_CODE
    assert records.has_valid_pair(records.dense_tiers(ranks)) == ranking.has_valid_pair(ranks)
    assert bool(losses.valid_pair_mask(padded([ranks])).any()) == ranking.has_valid_pair(ranks)


@settings(deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=8), st.data())
def test_engine_kendall_tau_equals_the_core_over_ranked_responses(scores, draw):
    ranks = draw.draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=len(scores), max_size=len(scores)))
    dense = ranking.ranks_array(ranks)
    ranked = dense != ranking.UNRANKED_CODE
    engine = metrics.kendall_tau_b(np.asarray(scores), dense)
    web = ranking.tau_b(np.asarray(scores)[ranked], -dense[ranked]) if ranked.sum() >= 2 else None
    assert (web is None) == math.isnan(engine)
    if web is not None:
        assert engine == pytest.approx(web, abs=1e-12)


def test_weighting_names_are_one_list():
    assert losses.WEIGHTINGS is config_fields.WEIGHTINGS
    assert config_fields.GAP_WEIGHTINGS == ranking.WEIGHTINGS and config_fields.WEIGHTINGS[:-1] == ranking.WEIGHTINGS


def test_every_weighting_name_is_accepted_by_both_and_others_by_neither():
    for weighting in ranking.WEIGHTINGS:
        ranking.pair_weight(2, weighting)
        losses.pair_weights(torch.tensor([[0, 2]]), weighting)
    with pytest.raises(ValueError, match="weighting"):
        ranking.pair_weight(2, "cubic")
    with pytest.raises(ValueError, match="weighting"):
        losses.pair_weights(torch.tensor([[0, 2]]), "cubic")


def test_web_and_engine_put_the_same_ids_in_test():
    ids = [f"rec-{i}" for i in range(3000)] + [str(uuid.UUID(int=i * 7919)) for i in range(3000)]
    web = [ranking.split_for(record_id) == "test" for record_id in ids]
    engine = [records.is_held_out(record_id) for record_id in ids]
    assert web == engine
    assert 0.17 < sum(web) / len(ids) < 0.23


@given(st.text(max_size=40), st.integers(0, 100))
def test_split_rules_agree_for_any_id_and_percent(record_id, percent):
    assert (ranking.split_for(record_id, percent) == "test") == records.is_held_out(record_id, percent)
