"""python manage.py import_rankings PATH --project SLUG [--create] [--source NAME] [--format F] [--overwrite]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ranking_app.exchange.formats import FORMATS, ImportOptions
from ranking_app.exchange.imports import import_file
from ranking_app.exchange.jsonl import ExchangeError


class Command(BaseCommand):
    help = (
        "Import prompts, responses and rankings from a JSON array or JSONL file in the exchange format "
        "(docs/exchange.md), or from Label Studio, Argilla, UltraFeedback, TRL pairs or OpenAssistant trees "
        "(--format). Atomic: a file with any bad record changes nothing. Idempotent by record id."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSON array or JSONL file")
        parser.add_argument("--project", required=True, help="slug of the target project")
        parser.add_argument("--create", action="store_true", help="create the project if it does not exist")
        parser.add_argument(
            "--source", default="import", help="username the top-level `rankings` are stored under (default: import)"
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="replace rankings people made or changed in the app when the file's differ (each is reported); "
            "without it such records are refused",
        )
        parser.add_argument("--no-ties", action="store_true", help="with --create: the new project disallows ties")
        parser.add_argument(
            "--no-partial", action="store_true", help="with --create: the new project disallows partial rankings"
        )

        parser.add_argument(
            "--target-annotators",
            type=int,
            default=1,
            help="with --create: submitted rankings wanted per prompt before it can be validated (default 1)",
        )

        parser.add_argument(
            "--format", choices=FORMATS, default="auto", help="the file's format (default auto: sniffed from the records)"
        )
        parser.add_argument("--label-config", type=Path, help="label-studio: the project's labeling config (XML)")
        parser.add_argument("--buckets", help="label-studio: Ranker bucket names best first, comma-separated")
        parser.add_argument(
            "--score", default="overall", help="ultrafeedback: overall, fine-grained or an aspect (default overall)"
        )

    def handle(self, *args, **options):
        try:
            report = import_file(
                file=options["path"],
                slug=options["project"],
                create=options["create"],
                source=options["source"],
                allow_ties=not options["no_ties"],
                allow_partial=not options["no_partial"],
                target_annotators=options["target_annotators"],
                format=options["format"],
                options=_import_options(options),
                overwrite=options["overwrite"],
            )
        except ExchangeError as error:
            lines = "\n".join(f"  {line}" for line in error.errors)
            raise CommandError(f"import failed, nothing was changed ({len(error.errors)} problem(s)):\n{lines}") from None
        self.stdout.write(self.style.SUCCESS(f"imported into {options['project']}: {report}"))


def _import_options(options: dict) -> ImportOptions:
    config = options["label_config"]
    try:
        label_config = config.read_text(encoding="utf-8") if config else None
    except OSError as error:
        raise CommandError(f"--label-config: cannot read {config} ({error.strerror})") from None
    return ImportOptions.from_text(label_config=label_config, buckets=options["buckets"], score=options["score"])
