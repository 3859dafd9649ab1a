"""The demo content: varied prompts, four answers each whose quality shows in learnable features."""

import collections
import itertools
import re

from ranking_app.demo_data import GUIDELINES, demo_annotations, demo_prompts
from ranking_app.demo_data.item import _continues, unwrap
from ranking_app.ranking import canonical_tiers, tiers_errors


def test_there_are_at_least_60_varied_prompts_with_unique_ids_and_texts():
    prompts = demo_prompts()

    assert len(prompts) >= 60
    assert len({p.external_id for p in prompts}) == len(prompts)
    assert len({p.item.prompt for p in prompts}) == len(prompts)
    categories = collections.Counter(p.item.category for p in prompts)
    assert set(categories) >= {"coding", "math", "science", "writing", "advice", "summary", "safety"}
    assert all(count >= 6 for count in categories.values())


def test_split_is_about_80_20_and_stable():
    splits = [p.split for p in demo_prompts()]

    assert 0.15 <= splits.count("test") / len(splits) <= 0.25
    assert splits == [p.split for p in demo_prompts()]


def test_answer_quality_correlates_with_surface_features_on_every_prompt():
    for prompt in demo_prompts():
        best, good, mediocre, poor = prompt.item.answers
        assert len(best) > len(good) > max(len(mediocre), len(poor)), prompt.external_id
        if prompt.item.category != "safety":  # there the poor answer complies, at some length
            assert len(mediocre) > len(poor), prompt.external_id
        assert "**In short:**" in best, prompt.external_id
        assert re.search(r"^(\s*[-*] |\s*\d+\. |```|\||> |\*\*)", best, re.M), f"{prompt.external_id}: unstructured"
        assert "**In short:**" not in good + mediocre + poor
        assert len(poor) < 100 and "\n" not in poor
        assert len(set(prompt.item.answers)) == 4


def test_code_questions_get_code_blocks_and_safety_answers_decline():
    prompts = demo_prompts()
    coding = [p for p in prompts if p.item.category == "coding"]
    safety = [p for p in prompts if p.item.category == "safety"]

    assert sum("```" in p.item.best for p in coding) >= len(coding) - 2
    for p in safety:  # decline, or (for someone in crisis) respond with care first
        assert re.search(r"\bcan'?t\b|not able|sorry", p.item.best.split("\n")[0]), p.external_id
        assert not re.search(r"\bcan'?t\b|not able|shouldn'?t", p.item.poor), p.external_id


def test_best_answer_positions_are_shuffled_and_responses_stay_aligned():
    prompts = demo_prompts()
    best_positions = collections.Counter(p.positions[0] for p in prompts)

    assert set(best_positions) == {0, 1, 2, 3}
    assert max(best_positions.values()) < len(prompts) / 2
    for p in prompts:
        assert p.responses[p.positions[0]] == p.item.best
        assert p.quality_of(p.positions[3]) == "poor"


def test_simulated_rankings_are_well_formed_and_mostly_agree():
    prompts = demo_prompts()
    plan = demo_annotations(prompts)
    best = {p.external_id: p.positions[0] for p in prompts}

    counts = collections.Counter(len(by_annotator) for by_annotator in plan.rankings.values())
    assert counts[3] >= len(prompts) - 10 and sum(v for k, v in counts.items() if k < 3) == 10
    all_tiers = [t for by_annotator in plan.rankings.values() for t in by_annotator.values()]
    for tiers in all_tiers:
        assert tiers_errors(tiers, 4) == [] and canonical_tiers(tiers) == tiers
    assert any(any(len(tier) > 1 for tier in t) for t in all_tiers)  # ties
    assert any(sum(map(len, t)) < 4 for t in all_tiers)  # partial
    top_right = sum(t[0] == [best[pid]] for pid, by in plan.rankings.items() for t in by.values())
    assert top_right / len(all_tiers) > 0.85
    assert 4 <= len(plan.contested) <= 8
    assert plan.gold and all(tiers[0] == [best[pid]] for pid, tiers in plan.gold.items())


def test_guidelines_cover_the_criteria_ties_and_unranked():
    for phrase in ("Safety", "Correctness", "Helpfulness", "concision", "Ties", "Unranked", "declines politely"):
        assert phrase in GUIDELINES


def test_source_wrapping_is_removed_but_code_lists_and_explicit_breaks_stay():
    text = "A long\nparagraph.\n\n- item that\n  wraps\n- next\n\n```bash\nls \\\n  -l\n```\nBest, \\\nSam\n\n> quoted\n> prose"

    assert unwrap(text) == (
        "A long paragraph.\n\n- item that wraps\n- next\n\n```bash\nls \\\n  -l\n```\nBest,\nSam\n\n> quoted prose"
    )


def test_stored_texts_have_no_source_wrapping_left():
    # Source wrapping leaves long lines (~90 characters) followed by a continuation line; the only
    # line breaks left inside a paragraph are the explicit ones of poems and sign-offs (short lines).
    for prompt in demo_prompts():
        for text in (prompt.item.prompt, *prompt.item.answers):
            lines, in_code = text.split("\n"), False
            for prev, line in itertools.pairwise(lines):
                in_code = in_code != prev.strip().startswith("```")
                if not in_code and _continues(prev, line.strip()):
                    assert len(prev) < 60, f"{prompt.external_id}: wrapped line {prev!r}"
