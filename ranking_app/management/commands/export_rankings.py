"""python manage.py export_rankings --project SLUG --format json|jsonl|pairs|hf --output PATH [--all] [--round N] [--include-models]"""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ranking_app.exchange.exports import FORMATS, export_create, export_path
from ranking_app.models import Project


class Command(BaseCommand):
    help = (
        "Export a project (validated prompts only, unless --all) as an immutable snapshot under EXPORT_DIR "
        "and copy it to --output. Formats: exchange json/jsonl, pairs JSONL, hf (datasets DatasetDict directory)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--output", required=True, help="file to write (a directory for --format hf)")
        parser.add_argument("--all", action="store_true", help="export every prompt, not only validated ones")
        parser.add_argument("--force", action="store_true", help="replace --output if it exists")
        parser.add_argument("--round", type=int, default=None, help="only the prompts of this round of the preference loop")
        parser.add_argument("--include-models", action="store_true",
                            help="add model annotators' rankings to each record's annotations (the consensus stays the people's)")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug {options['project']!r}")
        output = Path(options["output"])
        if output.exists() and not options["force"]:
            raise CommandError(f"{output} already exists (use --force to replace it)")
        snapshot = export_create(project=project, format=options["format"], validated_only=not options["all"],
                                 round_number=options["round"], include_models=options["include_models"])
        source = export_path(snapshot)
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.is_dir():
            shutil.rmtree(output)
        elif output.exists():
            output.unlink()
        if source.is_dir():
            shutil.copytree(source, output)
        else:
            shutil.copyfile(source, output)
        counts = ", ".join(f"{key} {value}" for key, value in snapshot.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"exported {project.slug} as {snapshot.format} to {output} ({counts}); sha256 {snapshot.sha256}")
        )
        self.stdout.write(f"snapshot #{snapshot.pk}: {source}")
