"""The generation form: which prompts, how many responses from the base model and from a tuned adapter."""

from __future__ import annotations

from django import forms

from ranking_app.form_fields import AsciiFloatField, AsciiIntegerField, AsciiModelChoiceField
from ranking_app.models import Project

from ..models import TrainingJob
from ..presets import tiny_model_path
from .services import PROMPT_SETS, SAMPLING_DEFAULTS, CandidateSource


class GenerationForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all(), to_field_name="slug", empty_label=None)
    prompt_set = forms.ChoiceField(
        choices=[(PROMPT_SETS[0], "prompts still waiting for responses"),
                 (PROMPT_SETS[1], "the latest round's prompts, asked again")],
        help_text="Each generation job opens the project's next round.",
    )  # fmt: skip
    base_model = forms.CharField(max_length=500, required=False,
                                 help_text="Hub id or local folder; left empty, the tuned job's base model.")
    base_count = AsciiIntegerField(min_value=0, max_value=64, initial=2, label="responses from the base model")
    adapter_job = AsciiModelChoiceField(
        queryset=TrainingJob.objects.none(), required=False, label="tuned model",
        help_text="A finished training job of the project; its adapter samples the responses below.",
    )
    adapter_count = AsciiIntegerField(min_value=0, max_value=64, initial=2, label="responses from the tuned model")
    temperature = AsciiFloatField(initial=SAMPLING_DEFAULTS["temperature"])
    top_p = AsciiFloatField(initial=SAMPLING_DEFAULTS["top_p"], label="top p")
    max_new_tokens = AsciiIntegerField(initial=SAMPLING_DEFAULTS["max_new_tokens"], label="max new tokens")
    seed = AsciiIntegerField(initial=SAMPLING_DEFAULTS["seed"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter_job"].queryset = TrainingJob.objects.filter(
            kind=TrainingJob.Kind.TRAIN, status=TrainingJob.Status.SUCCEEDED
        ).exclude(adapter_dir="").select_related("project")
        self.fields["adapter_job"].label_from_instance = lambda job: f"#{job.pk} {job.name} ({job.project.slug})"

    FIELD_GROUPS = (
        ("Prompts", ("project", "prompt_set")),
        ("Models", ("base_model", "base_count", "adapter_job", "adapter_count")),
        ("Sampling", ("temperature", "top_p", "max_new_tokens", "seed")),
    )

    def field_groups(self) -> list[tuple[str, list]]:
        """``(title, bound fields)`` per group, in the order the page shows them (as the launch form's)."""
        return [(title, [self[name] for name in names]) for title, names in self.FIELD_GROUPS]

    def sources(self) -> list[CandidateSource]:
        data = self.cleaned_data
        sources = [CandidateSource(count=data["base_count"])] if data["base_count"] else []
        if data.get("adapter_job") and data["adapter_count"]:
            sources.append(CandidateSource(count=data["adapter_count"], job=data["adapter_job"]))
        return sources

    def sampling(self) -> dict:
        return {name: self.cleaned_data[name] for name in SAMPLING_DEFAULTS}

    def chosen_base_model(self) -> str:
        data = self.cleaned_data
        if data["base_model"] or data.get("adapter_job"):
            return data["base_model"]
        return tiny_model_path()

    def add_launch_errors(self, errors: dict[str, list[str]]) -> None:
        names = {"sources": "base_count"}
        for name, messages in errors.items():
            for message in messages:
                field = names.get(name, name)
                self.add_error(field if field in self.fields else None, message)
