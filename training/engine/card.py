"""The held-out evaluation table of an adapter's model card (``README.md`` in the adapter folder)."""

from __future__ import annotations

from pathlib import Path

from .verdict import verdict_sentence

SECTION = "## Held-out evaluation"
METRICS = (
    ("pairwise_accuracy", "pairwise accuracy"),
    ("accuracy", "top-1 accuracy"),
    ("ndcg", "nDCG"),
    ("mrr", "MRR"),
    ("kendall_tau", "Kendall tau-b"),
)

SCORING_WORDS = {"sum_logp": "summed response log-probability", "mean_logp": "mean response log-probability"}


def evaluation_table(result: dict) -> str:
    """Markdown: the tuned model's metrics next to the base model's (``evaluate_model`` with an adapter)."""
    base = result.get("base") or {}
    lines = [
        SECTION,
        "",
        f"Split `{result.get('split', 'test')}`: {result.get('n_prompts')} prompts, {result.get('n_pairs')} valid pairs "
        f"ranked by {SCORING_WORDS.get(result.get('scoring'), 'mean response log-probability')} and compared with the "
        "human rankings.",
        "",
        *([f"Verdict: {verdict_sentence(result['verdict'])}.", ""] if result.get("verdict") else []),
        "| metric | base model | with this adapter |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {label} | {_cell(base.get(key))} | {_cell(result.get(key))} |" for key, label in METRICS]
    return "\n".join(lines) + "\n"


def card_add_evaluation(adapter_dir: str | Path, result: dict) -> None:
    """Put the evaluation table into the adapter's model card, replacing an earlier one."""
    card = Path(adapter_dir) / "README.md"
    if not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    kept = text.split(SECTION)[0].rstrip("\n")
    card.write_text(f"{kept}\n\n{evaluation_table(result)}", encoding="utf-8")


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
