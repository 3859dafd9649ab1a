"""Compare two ranking sources of a project against the human consensus, as the comparison page does.

    python manage.py compare --project SLUG --a base:3 --b job:3 --json
    python manage.py compare --project SLUG --a consensus --b annotator:alice --ambiguous
    python manage.py compare --project SLUG --a base:3 --b job:3 --round 2

SOURCE is consensus, annotator:NAME, base:JOB_ID or job:JOB_ID (add :SPLIT for a split other than
test). The figures (rounded to 4 decimals) are exactly those of the page's aggregate table.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from ranking_app.models import Project
from training.compare import aggregates as cmp
from training.compare.report import comparison_payload, public_row
from training.compare.selectors import SORTS, comparison_build
from training.compare.sources import SCORING_FIELDS


class Command(BaseCommand):
    help = "Aggregate figures (and optionally per-prompt rows) of source A vs source B against the human consensus."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--a", required=True, help="Source A: consensus, annotator:NAME, base:JOB_ID, job:JOB_ID[:SPLIT].")
        parser.add_argument("--b", required=True, help="Source B (same forms as --a).")
        parser.add_argument("--ambiguous", action="store_true", help="Only prompts people disagree on.")
        parser.add_argument("--worse", action="store_true", help="Only prompts where a tuned model got worse than its base.")
        parser.add_argument("--round", type=int, default=None, help="Only the prompts of this loop round (its number).")
        parser.add_argument("--scoring", default=None, choices=tuple(SCORING_FIELDS),
                            help="What models rank responses by (default: implicit_reward for a tuned model, as the page).")
        parser.add_argument("--sort", default="disagreement", choices=SORTS, help="Row order (with --rows).")
        parser.add_argument("--rows", action="store_true", help="Also print the per-prompt rows.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project with slug {options['project']!r}")
        try:
            comparison = comparison_build(project, options["a"], options["b"], ambiguous=options["ambiguous"],
                                          worse=options["worse"], sort=options["sort"], round=options["round"],
                                          scoring=options["scoring"])  # fmt: skip
        except cmp.CompareError as exc:
            raise CommandError(str(exc)) from None
        payload = comparison_payload(project, comparison)
        if options["rows"]:
            payload["rows"] = [public_row(r) for r in comparison.rows]
        if options["json"]:
            self.stdout.write(json.dumps(payload, indent=2, allow_nan=False))
            return
        self._table(payload)

    def _table(self, payload: dict) -> None:
        agg = payload["aggregates"]
        self.stdout.write(f"A: {payload['a']['label']} ({payload['a']['key']})")
        self.stdout.write(f"B: {payload['b']['label']} ({payload['b']['key']})")
        self.stdout.write(f"{agg['n_prompts']} prompts vs the human consensus, models scored by "
                          f"{payload['scoring'] or '-'}, 95% bootstrap CI ({agg['n_boot']} resamples, seed {agg['seed']})")
        self.stdout.write(f"{'metric':<52} {'chance':>8} {'A':>8} {'B':>8} {'B - A':>8}  95% CI of B - A")
        for m in agg["metrics"] + agg["robustness"]:
            ci = f"[{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]" if m.get("ci_low") is not None else ""
            verdict = "" if "significant" not in m else " significant" if m["significant"] else " not significant"
            self.stdout.write(f"{m['label']:<52} {_fmt(m.get('chance')):>8} {_fmt(m['a']):>8} {_fmt(m['b']):>8} "
                              f"{_fmt(m['difference']):>8}  {ci}{verdict}")
        if agg.get("holm_note"):
            self.stdout.write(agg["holm_note"])
        for row in payload.get("rows", []):
            self.stdout.write(f"{row['id']}\ttau_b={_fmt(row['tau_b'])}\ttop1={row['top1_agree']}\tW={_fmt(row['kendall_w'])}")


def _fmt(value) -> str:
    return "-" if value is None else str(value)
