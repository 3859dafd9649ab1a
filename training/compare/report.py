"""A comparison as the JSON/CSV exports and ``manage.py compare`` give it: no internals, figures rounded."""

from __future__ import annotations

import json

from defusedcsv import csv  # the csv module, with cells like =cmd() escaped (formula injection)

from ranking_app.models import Project

from . import aggregates as cmp
from .selectors import Comparison

CSV_COLUMNS = (
    "prompt_id", "id", "split", "n_responses", "kendall_w", "status", "ambiguous", "tau_b", "top1_agree",
    "a_tau_vs_consensus", "b_tau_vs_consensus", "a_top1_correct", "b_top1_correct", "tau_change_vs_base",
    "worse_than_base",
)  # fmt: skip


def public_row(row: dict, *, digits: int = cmp.FIGURE_DIGITS) -> dict:
    """A row as exported (JSON/CSV): no internals, figures rounded like the page."""

    def rounded(value):
        return None if value is None else round(value, digits)

    return {
        "prompt_id": row["prompt_id"], "id": row["id"], "split": row["split"], "n_responses": row["n_responses"],
        "kendall_w": rounded(row["kendall_w"]), "status": row["status"], "ambiguous": row["ambiguous"],
        "tau_b": rounded(row["tau_b"]), "top1_agree": row["top1_agree"],
        "a_tau_vs_consensus": rounded(row["a_tau"]), "b_tau_vs_consensus": rounded(row["b_tau"]),
        "a_top1_correct": row["a_top1"], "b_top1_correct": row["b_top1"],
        "tau_change_vs_base": {k: rounded(v) for k, v in row["tau_change_vs_base"].items()},
        "worse_than_base": row["worse"],
    }  # fmt: skip


def comparison_payload(project: Project, comparison: Comparison) -> dict:
    """The comparison as the JSON export and ``manage.py compare --json`` give it."""
    return {
        "project": project.slug,
        "a": {"key": comparison.a.key, "label": comparison.a.label},
        "b": {"key": comparison.b.key, "label": comparison.b.label},
        "reference": "consensus",
        "scoring": comparison.scoring,
        "filters": comparison.filters,
        "n_compared": comparison.n_compared,
        "n_rows": len(comparison.rows),
        "aggregates": comparison.aggregates,
        "verdicts": {str(job_id): verdict for job_id, verdict in comparison.verdicts},  # as on the job page
    }


def comparison_json(project: Project, comparison: Comparison, out) -> None:
    """Write the figures and every row as JSON to ``out`` (a text file-like object)."""
    payload = {**comparison_payload(project, comparison), "rows": [public_row(r) for r in comparison.rows]}
    out.write(json.dumps(payload, indent=2, allow_nan=False))


def comparison_csv(project: Project, comparison: Comparison, out) -> None:
    """Write the rows as CSV to ``out`` (a text file-like object), after a line naming A and B."""
    writer = csv.writer(out)
    writer.writerow(["# a", comparison.a.key, "b", comparison.b.key, "reference", "consensus",
                     "scoring", comparison.scoring or ""])
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        public = public_row(row)
        public["tau_change_vs_base"] = json.dumps(public["tau_change_vs_base"], sort_keys=True)
        writer.writerow(["" if public[c] is None else public[c] for c in CSV_COLUMNS])


def comparison_filename(project: Project, comparison: Comparison, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{comparison.a.key}-vs-{comparison.b.key}")
    return f"{project.slug}-compare-{safe}.{suffix}"
