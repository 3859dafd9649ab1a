"""The generation form: which prompts, how many responses from the base model and from a tuned adapter.

Its defaults start a job that works on any project with prompts: every prompt asked again as a new
round, two responses from the project's newest finished training job and two from its base model
(four from the base model, the tiny local one unless another is named, while no job has finished).
"""

from __future__ import annotations

from django import forms

from ranking_app.form_fields import AsciiFloatField, AsciiIntegerField, AsciiModelChoiceField
from ranking_app.models import Project

from ..models import TrainingJob
from ..presets import tiny_model_path
from .services import PROMPT_SET_LABELS, PROMPT_SETS, SAMPLING_DEFAULTS, CandidateSource


class GenerationForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all(), to_field_name="slug", empty_label=None)
    prompt_set = forms.ChoiceField(
        choices=[(name, PROMPT_SET_LABELS[name]) for name in PROMPT_SETS], initial=PROMPT_SETS[0],
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
        finished = TrainingJob.objects.filter(
            kind=TrainingJob.Kind.TRAIN, status=TrainingJob.Status.SUCCEEDED
        ).exclude(adapter_dir="").select_related("project")
        self.fields["adapter_job"].queryset = finished
        self.fields["adapter_job"].label_from_instance = lambda job: f"#{job.pk} {job.name} ({job.project.slug})"
        if not self.is_bound:
            self._preselect_tuned(finished)

    def _preselect_tuned(self, finished) -> None:
        """The project's newest finished job samples half the responses; without one, the base model all four."""
        slug = self.initial.get("project") or getattr(Project.objects.order_by("name").first(), "slug", None)
        newest = finished.filter(project__slug=slug).order_by("-finished_at", "-pk").first()
        self.initial.update({"project": slug, "adapter_job": newest.pk if newest else None,
                             "base_count": 2 if newest else 4, "adapter_count": 2})  # fmt: skip

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
