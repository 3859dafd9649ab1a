"""The launch form: project, preset, and every user-facing hyperparameter of the engine with its help."""

from __future__ import annotations

from django import forms
from django.conf import settings

from ranking_app.form_fields import AsciiFloatField, AsciiIntegerField
from ranking_app.models import Project

from .launchers.commands import ACCELERATE_CONFIGS, launch_problem
from .presets import DEFAULT_PRESET, FIELD_GROUPS, presets
from .services.job_config import JobConfigError, config_build, config_field_help

BOOL_CHOICES = (("", "engine default"), ("true", "on"), ("false", "off"))
MAX_ROUND = 10_000


def parse_rounds(text: str) -> list[int] | None:
    """``"1, 3-4"`` -> ``[1, 3, 4]``; empty or ``all`` -> None (every round). ASCII digits only."""
    text = text.strip().lower()
    if text in ("", "all"):
        return None
    rounds: set[int] = set()
    for part in text.split(","):
        bounds = [b.strip() for b in part.split("-")]
        if len(bounds) > 2 or not all(b.isascii() and b.isdigit() and len(b) <= 5 for b in bounds):
            raise forms.ValidationError(f"{part.strip()!r} is not a round number or range (e.g. 1, 2-3); empty for all")
        low, high = int(bounds[0]), int(bounds[-1])
        if low > high or high > MAX_ROUND:
            raise forms.ValidationError(f"{part.strip()!r}: a range goes from low to high, rounds 0 to {MAX_ROUND}")
        rounds.update(range(low, high + 1))
    return sorted(rounds)


class JobLaunchForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all(), to_field_name="slug", empty_label=None)
    name = forms.CharField(required=False, max_length=200, help_text="Optional label for the jobs table.")
    preset = forms.ChoiceField(required=False, help_text="Fills every hyperparameter below; edit any of them after.")
    rounds = forms.CharField(
        required=False, max_length=200, label="rounds to train on",
        help_text="Empty: every round so far (the data accumulates). Else round numbers or ranges, e.g. 2 or 1-2; "
                  "0 is the data from before the loop.",
    )  # fmt: skip
    validated_only = forms.BooleanField(
        required=False, initial=True,
        help_text="Train only on validated prompts (agreement reached or adjudicated). Unticked: every prompt "
                  "with a consensus ranking.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [("", "custom")] + [(key, p["label"]) for key, p in presets().items()]
        self.help = config_field_help()
        for name, spec in self.help.items():
            self.fields[name] = _hyperparameter_field(name, spec)
        self.config: dict | None = None
        if settings.GRPO_LAUNCHER_GPUS > 0:  # the launcher has GPUs: offer processes and a multi-GPU config
            self.fields.update(_gpu_fields(settings.GRPO_LAUNCHER_GPUS))

    @property
    def launch(self) -> dict:
        """Launch settings (training/launchers): one process per GPU asked for."""
        gpus = self.cleaned_data.get("num_gpus") or 0
        if not gpus:
            return {}
        return {"num_gpus": gpus, "num_processes": gpus, "accelerate_config": self.cleaned_data.get("accelerate_config")}

    def field_groups(self):
        """(title, [bound fields]) in the order the page shows them."""
        shown = set()
        for title, names in FIELD_GROUPS:
            bound = [self[name] for name in names if name in self.fields]
            shown.update(names)
            yield title, bound
        rest = [self[name] for name in self.help if name not in shown]
        if rest:
            yield "Other", rest
        if "num_gpus" in self.fields:
            yield f"GPUs ({settings.GRPO_LAUNCHER} launcher)", [self["num_gpus"], self["accelerate_config"]]

    def clean_rounds(self) -> list[int] | None:
        return parse_rounds(self.cleaned_data.get("rounds") or "")

    def clean(self):
        """The engine's rules on every hyperparameter at once; a field whose input did not parse keeps its own error."""
        cleaned = super().clean()
        values = {name: cleaned[name] for name in self.help if cleaned.get(name) is not None}
        project = cleaned.get("project")
        if values.get("pair_targets") == "annotators" and project is not None and project.target_annotators < 2:
            self.add_error("pair_targets", "annotators: this project collects one ranking per prompt; "
                                           "soft targets need several annotators per prompt")
            return cleaned
        try:
            config = config_build(values=values)
        except JobConfigError as exc:
            self.add_config_errors(exc)
        else:
            self.config = None if self.errors else config
        if self.config is not None and self.launch.get("num_processes", 0) > 1:
            problem = launch_problem(self.launch["accelerate_config"], self.config)
            if problem:
                self.add_error("accelerate_config", problem)
                self.config = None
        return cleaned

    def add_config_errors(self, exc: JobConfigError) -> None:
        for name, messages in exc.errors.items():
            if name in self.errors:
                continue  # its input was refused already; the engine saw the default instead
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def launch_initial(*, project: Project | None = None, preset: str | None = None, clone=None) -> dict:
    """Initial values: a clone's config, else the preset's (the CPU smoke preset by default)."""
    initial: dict = {"validated_only": True}
    if project is not None:
        initial["project"] = project.slug
    if clone is not None:  # fields added to the engine after the clone ran start at their defaults
        initial.update({name: spec["default"] for name, spec in config_field_help().items() if spec["default"] is not None})
        initial.update(clone.config, project=clone.project.slug, name=f"copy of {clone.name or clone.pk}",
                       preset=clone.preset, validated_only=clone.export.filters.get("validated_only", True),
                       rounds=_rounds_text(clone.export.filters))
        return _form_values(initial)
    preset = preset if preset in presets() else DEFAULT_PRESET
    # a select a preset leaves out shows the engine's default, not its first choice (e.g. primary_metric)
    initial.update({name: spec["default"] for name, spec in config_field_help().items()
                    if spec.get("choices") and spec["default"] is not None})
    initial.update(presets()[preset]["config"], preset=preset)  # keys the engine no longer has are ignored by the form
    return _form_values(initial)


def _rounds_text(filters: dict) -> str:
    rounds = filters.get("rounds") or ([filters["round"]] if filters.get("round") else [])
    return ", ".join(str(n) for n in rounds)


def _form_values(initial: dict) -> dict:
    return {key: ("true" if value else "false") if isinstance(value, bool) and key != "validated_only" else value
            for key, value in initial.items()}


def _hyperparameter_field(name: str, spec: dict) -> forms.Field:
    kind, label = spec.get("type", "str"), name.replace("_", " ")
    help_text = spec.get("help", "") + (f" Range: {spec['bounds']}." if spec.get("bounds") else "")
    common = {"label": label, "help_text": help_text, "required": name == "model_name_or_path"}
    if spec.get("choices"):  # left empty (a client that omits it): the engine's default
        return forms.TypedChoiceField(choices=[(c, c) for c in spec["choices"]], empty_value=None, **common)
    if kind.startswith("bool"):
        return forms.TypedChoiceField(choices=BOOL_CHOICES, coerce=lambda v: v == "true", empty_value=None,
                                      **{**common, "required": False})
    expected = {"expected": spec["bounds"]} if spec.get("bounds") else {}
    if kind.startswith("int"):
        return AsciiIntegerField(**expected, **common)
    if kind.startswith("float"):
        return AsciiFloatField(**expected, **common)
    return forms.CharField(max_length=500, **common)


def _gpu_fields(most: int) -> dict:
    return {
        "num_gpus": forms.IntegerField(
            required=False, min_value=0, max_value=most, initial=0,
            help_text=f"GPUs for this job, one training process each (0 to {most}; 0 = the launcher's default)."),
        "accelerate_config": forms.ChoiceField(
            required=False, initial="ddp", choices=[(name, text) for name, (_, text) in ACCELERATE_CONFIGS.items()],
            help_text="How more than one GPU share the work (docs/scaling.md says when to use which)."),
    }  # fmt: skip
