"""The demo content in data/demo/: varied prompts, four answers each whose quality shows in learnable features
(directness, no filler), not in length."""

import collections
import itertools
import re
from pathlib import Path

import pytest
from scipy.stats import spearmanr

from ranking_app.exchange.jsonl import clean_records, read_exchange_file
from ranking_app.ranking import RankingRules, canonical_tiers, ranks_to_tiers, tiers_errors
from ranking_app.review.agreement import kendall_w

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
QUALITIES = ("best", "good", "mediocre", "poor")


@pytest.fixture(scope="module")
def records():
    return read_exchange_file(DEMO_DIR / "prompts.jsonl")


@pytest.fixture(scope="module")
def by_quality(records):
    """Per prompt id: the answers best first (from answer_quality.jsonl)."""
    quality = {row["id"]: row["quality"] for row in read_exchange_file(DEMO_DIR / "answer_quality.jsonl")}
    return {r["id"]: [r["responses"][quality[r["id"]].index(q)] for q in QUALITIES] for r in records}


def test_the_file_is_valid_exchange_data_with_at_least_60_varied_prompts(records):
    clean_records(records, rules=RankingRules(allow_ties=True, allow_partial=True))
    categories = collections.Counter(r["metadata"]["category"] for r in records)

    assert len(records) >= 60 and len({r["prompt"] for r in records}) == len(records)
    assert set(categories) >= {"coding", "math", "science", "writing", "advice", "summary", "safety"}
    assert all(count >= 6 for count in categories.values())
    assert all(len(r["responses"]) == 4 and len(set(r["responses"])) == 4 for r in records)


def test_split_holds_enough_test_prompts_for_a_paired_bootstrap(records):
    splits = [r["split"] for r in records]

    assert 0.25 <= splits.count("test") / len(splits) <= 0.35 and set(splits) == {"train", "test"}
    assert sum(r["split"] == "test" and len(r["annotations"]) == 3 for r in records) >= 16


def test_answer_quality_shows_in_directness_not_in_length(records, by_quality):
    # The learnable quality: the best answer starts with the answer; the others open with filler
    # (a polite preamble, hedging, chatty exclamations and emoji) that gets heavier as quality drops.
    emoji = re.compile("[\U0001F300-\U0001FAFF]")
    shortest = longest = 0
    for pid, (best, good, mediocre, poor) in by_quality.items():
        assert "!" not in best and not emoji.search(best), pid
        assert "!" in good[:70] and not emoji.search(good), pid
        assert not emoji.search(mediocre) and emoji.search(poor[:40]) and "!!" in poor, pid
        lengths = sorted(map(len, (best, good, mediocre, poor)))
        shortest += len(best) == lengths[0]
        longest += len(best) == lengths[-1]
    assert shortest >= len(by_quality) / 4 and longest >= len(by_quality) / 4


def test_length_does_not_predict_quality(by_quality):
    # Spearman of length with the quality order, per prompt, averaged: the old demo's was -1.
    rhos = [spearmanr([len(t) for t in answers], range(4)).statistic for answers in by_quality.values()]

    assert -0.3 <= sum(rhos) / len(rhos) <= 0.3


def test_best_answer_positions_are_shuffled(records, by_quality):
    positions = collections.Counter(r["responses"].index(by_quality[r["id"]][0]) for r in records)

    assert set(positions) == {0, 1, 2, 3} and max(positions.values()) < len(records) / 2


def test_simulated_rankings_are_well_formed_mostly_agree_and_leave_work(records, by_quality):
    best = {r["id"]: r["responses"].index(by_quality[r["id"]][0]) for r in records}
    all_tiers, low_w = [], 0
    counts = collections.Counter(len(r["annotations"]) for r in records)
    for r in records:
        tiers = [canonical_tiers(ranks_to_tiers(a["rankings"])) for a in r["annotations"]]
        all_tiers += [(r["id"], t) for t in tiers]
        low_w += len(tiers) == 3 and kendall_w(tiers, 4) < 0.6

    assert counts[3] == len(records) - 10  # ten prompts left for the labeling queue
    assert all(tiers_errors(t, 4) == [] for _, t in all_tiers)
    assert any(any(len(tier) > 1 for tier in t) for _, t in all_tiers)  # ties
    assert any(sum(map(len, t)) < 4 for _, t in all_tiers)  # partial
    assert sum(t[0] == [best[pid]] for pid, t in all_tiers) / len(all_tiers) > 0.85
    assert 4 <= low_w <= 8  # contested prompts for the review queue
    assert all(20_000 <= a["time_spent_ms"] <= 120_000 for r in records for a in r["annotations"])


def test_gold_rankings_put_the_best_answer_first(records, by_quality):
    responses = {r["id"]: r["responses"] for r in records}
    gold = read_exchange_file(DEMO_DIR / "gold.jsonl")

    assert gold
    for row in gold:
        assert responses[row["id"]][row["rankings"].index(0)] == by_quality[row["id"]][0]


def test_guidelines_cover_the_criteria_ties_and_unranked():
    guidelines = (DEMO_DIR / "guidelines.md").read_text(encoding="utf-8")
    for phrase in ("Safety", "Correctness", "Helpfulness", "concision", "Ties", "Unranked", "declines politely"):
        assert phrase in guidelines


def test_texts_are_not_hard_wrapped(records):
    # The app renders single newlines as line breaks, so a paragraph must be one line: two prose
    # lines in a row only occur as the explicit short breaks of poems and sign-offs.
    block = re.compile(r"\s*(?:[-*+] |\d+\. |\||#|>|```)")
    for r in records:
        for text in (r["prompt"], *r["responses"]):
            in_code = False
            for prev, line in itertools.pairwise(text.split("\n")):
                in_code = in_code != prev.strip().startswith("```")
                prose = prev.strip() and line.strip() and not block.match(prev) and not block.match(line)
                assert in_code or not prose or len(prev) < 60, f"{r['id']}: wrapped line {prev!r}"
