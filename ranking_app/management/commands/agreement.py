"""python manage.py agreement --project SLUG [--json] [--refresh] [--include-models]"""

import json

from django.core.management.base import BaseCommand, CommandError

from ranking_app.models import Project
from ranking_app.review.agreement_store import agreement_current, agreement_payload, agreement_refresh


class Command(BaseCommand):
    help = "Print a project's agreement figures (Krippendorff's alpha, Kendall's W, statuses, annotators)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--json", action="store_true", help="Print the same JSON as /api/projects/<slug>/agreement/.")
        parser.add_argument("--refresh", action="store_true", help="Recompute even if the cached figures are current.")
        parser.add_argument("--include-models", action="store_true",
                            help="Count model annotators as people (in W, consensus, alpha and the annotator table).")

    def handle(self, *args, **options):
        slug = options["project"]
        found = Project.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--project: no project with slug {slug!r}")
        if options["refresh"]:
            agreement_refresh(project=found)
        payload = agreement_payload(project=found, include_models=options["include_models"])
        if options["json"]:
            self.stdout.write(_dumps(payload))
            return
        self._print_table(found, payload)
        self._print_models(payload)

    def _print_table(self, project, payload) -> None:
        summary = agreement_current(project=project, with_items=False).summary
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        self.stdout.write(f"Project {project.slug}: {summary['n_prompts']} prompts")
        self.stdout.write(f"  Krippendorff's alpha (ordinal): {fmt(payload['krippendorff_alpha'])}")
        self.stdout.write(
            f"  mean Kendall's W: {fmt(payload['mean_kendall_w'])} over {summary['n_with_w']} prompts "
            f"(threshold {project.agreement_threshold}, target {project.target_annotators} rankings)"
        )
        self.stdout.write("  statuses: " + ", ".join(f"{k} {v}" for k, v in payload["status_counts"].items()))
        for a in summary["annotators"]:
            self.stdout.write(
                f"  {a['annotator']:<20} agreement {fmt(a['agreement'])}  submitted {a['count']}  "
                f"skip rate {a['skip_rate']:.0%}  gold {fmt(a['gold_agreement'])}"
            )


    def _print_models(self, payload) -> None:
        for row in payload["model_annotators"]:
            accuracy = (row["metrics"] or {}).get("pairwise_accuracy") or {}
            self.stdout.write(
                f"  {row['annotator']:<20} (model) agreement with the people {_fmt(row['agreement'])} over "
                f"{row['n_compared']} prompts, pairwise accuracy {_fmt(accuracy.get('value'))} "
                f"[{_fmt(accuracy.get('low'))}, {_fmt(accuracy.get('high'))}], "
                f"alpha {_fmt(row['alpha_without'])} -> {_fmt(row['alpha_with'])} with it"
            )


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _dumps(payload) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False)
