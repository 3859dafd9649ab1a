"""python manage.py judge --project SLUG --model M [--adapter A] [--round R] [--kind K] ...

Rank every prompt's responses with a model and store them as a model annotator's rankings
(docs/judging.md). Runs in this process; the web's "Rank with a model" queues the same work.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ranking_app.annotators import model_annotator_name
from ranking_app.models import Project
from ranking_app.review.agreement_store import agreement_payload
from training.engine.judge_settings import DEFAULT_VERDICT, JUDGE_KINDS, JudgeSettings
from training.judging.services import judge_settings_errors
from training.services.job_config import JobConfigError
from training.services.jobs import check_base_model

from ...judging.selectors import judged_prompts, round_exists


class Command(BaseCommand):
    help = "Rank a project's responses with a reward model or a causal LM judge, stored as a model annotator."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--model", required=True, help="Hub id or folder: a reward model (train-reward) or a causal LM.")
        parser.add_argument("--adapter", help="Folder of a LoRA adapter to put on the model.")
        parser.add_argument("--round", type=int, help="Only the prompts of this round.")
        parser.add_argument("--kind", choices=JUDGE_KINDS, default="auto", help="reward, causal or auto (from the model).")
        parser.add_argument("--verdict", default=DEFAULT_VERDICT, help="Causal judge: the scored verdict text.")
        parser.add_argument("--template-file", help="Causal judge: a text file with the question ({prompt}, {response}).")
        parser.add_argument("--tie-epsilon", type=float, default=0.0, help="Scores within this of a tier's best are tied.")
        parser.add_argument("--max-length", type=int, default=512, help="Maximum tokens per scored row.")
        parser.add_argument("--batch-size", type=int, default=8, help="Rows per forward pass.")
        parser.add_argument("--annotator", help="Name of the model annotator (default: model:<model>[+<adapter>]).")

    def handle(self, *args, **options):
        from training.judging.run import judge_project

        project = self._project(options["project"])
        settings = self._settings(options)
        round_number = options["round"]
        if round_number is not None and not round_exists(project=project, round_number=round_number):
            raise CommandError(f"--round: {project.slug} has no round {round_number}")
        if not judged_prompts(project=project, round_number=round_number):
            raise CommandError("no prompt with two responses or more to rank")
        name = options["annotator"] or model_annotator_name(options["model"], options["adapter"])
        try:
            result = judge_project(project=project, settings=settings, annotator_name=name, round_number=round_number,
                                   progress=self._progress)  # fmt: skip
        except (ValueError, OSError) as error:  # the model or annotator name cannot be used
            raise CommandError(str(error).splitlines()[0]) from None
        self.stdout.write(f"{result['annotator']} ({result['kind']} judge) ranked {result['prompts']} prompts: "
                          f"{result['stored']} stored, {result['unchanged']} unchanged")
        self._print_agreement(project, result["annotator"])

    def _project(self, slug: str) -> Project:
        found = Project.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"--project: no project with slug {slug!r}")
        return found

    def _settings(self, options) -> JudgeSettings:
        values = {"kind": options["kind"], "verdict": options["verdict"], "tie_epsilon": options["tie_epsilon"],
                  "max_length": options["max_length"], "batch_size": options["batch_size"]}
        if options["template_file"]:
            try:
                values["template"] = Path(options["template_file"]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"--template-file: cannot read it ({error})") from None
        errors = judge_settings_errors(values)
        if errors:
            raise CommandError("; ".join(f"--{name.replace('_', '-')}: {' '.join(m)}" for name, m in errors.items()))
        try:
            check_base_model(options["model"])
        except JobConfigError as error:
            raise CommandError(f"--model: {' '.join(error.errors['model_name_or_path'])}") from None
        return JudgeSettings(model=options["model"], adapter=options["adapter"], **values)

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(f"\r{done}/{total} prompts", ending="")
        if done == total:
            self.stderr.write("")

    def _print_agreement(self, project: Project, annotator: str) -> None:
        for row in agreement_payload(project=project)["model_annotators"]:
            if row["annotator"] == annotator:
                accuracy = (row["metrics"] or {}).get("pairwise_accuracy") or {}
                self.stdout.write(f"  agreement with the people's consensus (tau-b): {_fmt(row['agreement'])} over "
                                  f"{row['n_compared']} prompts; pairwise accuracy {_fmt(accuracy.get('value'))} "
                                  f"[{_fmt(accuracy.get('low'))}, {_fmt(accuracy.get('high'))}]; alpha "
                                  f"{_fmt(row['alpha_without'])} without it, {_fmt(row['alpha_with'])} with it")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
