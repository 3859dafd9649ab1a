"""Is this data ready? The annotators' agreement of a ranked data set, before a run (numpy only).

Ranked-preference training assumes consistent rankings; with highly noisy, inconsistent rankings
it learns noise. ``data_readiness`` reports three figures over the records' annotations and warns,
naming the figure, when one passes its threshold (docs/training.md, "Is this data ready?"):

* Krippendorff's alpha (ordinal; unit = one response of one prompt, value = its tier from each
  annotator, an unranked response missing; as on the agreement page) below ``ALPHA_MIN`` = 0.667,
  Krippendorff's lowest level for tentative conclusions;
* the share of contested pairs above ``CONTESTED_MAX`` = 0.3: consensus pairs that two or more
  annotators ranked and did not all order the same way;
* the share of prompts ranked by one annotator only above ``SINGLE_MAX`` = 0.5: no agreement can
  be measured on them (alpha and the contested share skip them).
"""

from __future__ import annotations

import math

import numpy as np

ALPHA_MIN = 0.667
CONTESTED_MAX = 0.3
SINGLE_MAX = 0.5
THRESHOLDS = {"krippendorff_alpha_min": ALPHA_MIN, "contested_pair_share_max": CONTESTED_MAX,
              "single_annotator_share_max": SINGLE_MAX}  # fmt: skip


def _value_counts(annotator_ranks: list[list[int]]) -> np.ndarray:
    """Units (responses) x tiers: how many annotators put each response in each tier (unranked: none)."""
    dense = np.asarray(annotator_ranks, dtype=np.int64).reshape(len(annotator_ranks), -1)
    counts = np.zeros((dense.shape[1], int(dense.max(initial=0)) + 1), dtype=np.int64)
    annotator, position = np.nonzero(dense >= 0)
    np.add.at(counts, (position, dense[annotator, position]), 1)
    return counts


def krippendorff_alpha(records: list[dict]) -> float | None:
    """Ordinal Krippendorff's alpha over every record with two or more annotators (None if undefined)."""
    import krippendorff

    blocks = [_value_counts(r["annotator_ranks"]) for r in records if len(r.get("annotator_ranks") or []) >= 2]
    if not blocks:
        return None
    width = max(b.shape[1] for b in blocks)
    counts = np.concatenate([np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks]).astype(float)
    counts = counts[counts.sum(axis=1) >= 2]
    if width < 2 or not len(counts) or np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(krippendorff.alpha(value_counts=counts, level_of_measurement="ordinal"))
    return value if math.isfinite(value) else None


def contested_pairs(record: dict) -> tuple[int, int]:
    """(contested, judged): consensus pairs ranked by two or more annotators, and those not unanimous."""
    ranks, annotators = record["ranks"], record.get("annotator_ranks") or []
    contested = judged = 0
    for i, rank_i in enumerate(ranks):
        for j, rank_j in enumerate(ranks):
            if not (0 <= rank_i < rank_j):
                continue
            votes = {np.sign(a[j] - a[i]) for a in annotators if a[i] >= 0 and a[j] >= 0}
            voters = sum(1 for a in annotators if a[i] >= 0 and a[j] >= 0)
            if voters >= 2:
                judged += 1
                contested += votes != {1}
    return contested, judged


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def data_readiness(records: list[dict]) -> dict:
    """The three agreement figures of ``records`` (engine-normalised: ``ranks``, ``annotator_ranks``),
    their thresholds and one warning per figure past its threshold."""
    contested = judged = 0
    for record in records:
        c, j = contested_pairs(record)
        contested, judged = contested + c, judged + j
    annotated = [r for r in records if r.get("annotator_ranks")]
    single = sum(1 for r in annotated if len(r["annotator_ranks"]) == 1)
    figures = {
        "n_prompts": len(records), "krippendorff_alpha": krippendorff_alpha(records),
        "contested_pair_share": _share(contested, judged), "n_contested_pairs": contested, "n_judged_pairs": judged,
        "single_annotator_share": _share(single, len(annotated)), "n_single_annotator": single,
        "thresholds": THRESHOLDS,
    }  # fmt: skip
    figures["warnings"] = readiness_warnings(figures)
    return figures


def _dense(rankings) -> list[int]:
    """Exchange rankings (ints, None unranked) as dense tiers 0..t-1, -1 unranked."""
    order = sorted({r for r in rankings if r is not None})
    return [order.index(r) if r is not None else -1 for r in rankings]


def exchange_readiness(raw_records: list[dict]) -> dict:
    """``data_readiness`` of exchange-format records (``rankings``, ``annotations``) as an export writes them."""
    return data_readiness([
        {"ranks": _dense(r.get("rankings") or [None] * len(r["responses"])),
         "annotator_ranks": [_dense(a["rankings"]) for a in r.get("annotations") or []]}
        for r in raw_records
    ])  # fmt: skip


def readiness_warnings(figures: dict) -> list[str]:
    """One sentence per figure past its threshold, naming the figure, its value and the threshold."""
    warnings = []
    alpha, contested, single = (figures.get(k) for k in ("krippendorff_alpha", "contested_pair_share",
                                                          "single_annotator_share"))
    if alpha is not None and alpha < ALPHA_MIN:
        warnings.append(f"Krippendorff's alpha {alpha:.3f} is below {ALPHA_MIN}: the annotators' rankings are "
                        "inconsistent, and training on them may learn noise")
    if contested is not None and contested > CONTESTED_MAX:
        warnings.append(f"contested pairs {contested:.0%} of the pairs two or more annotators ranked is above "
                        f"{CONTESTED_MAX:.0%}: the annotators often order the same two responses differently")
    if single is not None and single > SINGLE_MAX:
        warnings.append(f"prompts with one annotator {single:.0%} is above {SINGLE_MAX:.0%}: agreement cannot be "
                        "measured on most prompts")
    return warnings


def readiness_lines(figures: dict) -> list[str]:
    """The report ``train`` prints before a run: the figures, then each warning."""
    def fmt(value, percent=False):
        return "n/a" if value is None else f"{value:.0%}" if percent else f"{value:.3f}"

    lines = [f"data agreement: Krippendorff's alpha {fmt(figures['krippendorff_alpha'])}, contested pairs "
             f"{fmt(figures['contested_pair_share'], True)} of {figures['n_judged_pairs']}, prompts with one annotator "
             f"{fmt(figures['single_annotator_share'], True)} of {figures['n_prompts']}"]
    return lines + [f"warning: {text}" for text in figures["warnings"]]
