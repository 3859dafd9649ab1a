"""The "Rank with a model" form: which model (a folder, a hub id, or a finished job's adapter), how it judges, which prompts."""

from __future__ import annotations

from django import forms

from ranking_app.models import Project
from training.engine.judge_settings import DEFAULT_TEMPLATE, DEFAULT_VERDICT

from ..models import TrainingJob
from ..presets import tiny_model_path


class JudgingForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.all(), to_field_name="slug", empty_label=None)
    round = forms.IntegerField(min_value=1, max_value=100000, required=False, label="round",
                               help_text="Only the prompts of this round; empty: every prompt with responses.")
    model = forms.CharField(max_length=500, required=False, label="model",
                            help_text="Hub id or folder: a reward model from train-reward, or a causal LM. "
                                      "Empty: the tuned job's base model, else the tiny local model.")
    adapter_job = forms.ModelChoiceField(queryset=TrainingJob.objects.none(), required=False, label="tuned model",
                                         help_text="A finished training job: its adapter goes on the model.")
    kind = forms.ChoiceField(choices=[("auto", "detect from the model"), ("reward", "reward model (score head)"),
                                      ("causal", "causal LM judge (verdict log-probability)")])
    verdict = forms.CharField(max_length=100, initial=DEFAULT_VERDICT, strip=False,
                              help_text="Causal judge: the text whose log-probability after the question scores a response.")
    template = forms.CharField(widget=forms.Textarea(attrs={"rows": 7}), initial=DEFAULT_TEMPLATE, strip=False,
                               help_text="Causal judge: the question, with {prompt} and {response}.")
    tie_epsilon = forms.FloatField(initial=0.0, min_value=0.0, max_value=1e6, label="tie epsilon",
                                   help_text="Scores within this of a tier's best score are tied.")
    max_length = forms.IntegerField(initial=512, min_value=16, max_value=131072, label="max length")
    batch_size = forms.IntegerField(initial=8, min_value=1, max_value=4096, label="batch size")

    FIELD_GROUPS = (
        ("Prompts", ("project", "round")),
        ("Model", ("model", "adapter_job", "kind")),
        ("Judging", ("verdict", "template", "tie_epsilon", "max_length", "batch_size")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter_job"].queryset = TrainingJob.objects.filter(
            kind=TrainingJob.Kind.TRAIN, status=TrainingJob.Status.SUCCEEDED
        ).exclude(adapter_dir="").select_related("project")
        self.fields["adapter_job"].label_from_instance = lambda job: f"#{job.pk} {job.name} ({job.project.slug})"

    def field_groups(self) -> list[tuple[str, list]]:
        return [(title, [self[name] for name in names]) for title, names in self.FIELD_GROUPS]

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("kind", "verdict", "template", "tie_epsilon", "max_length",
                                                          "batch_size")}  # fmt: skip

    def chosen_model(self) -> str:
        data = self.cleaned_data
        if data["model"] or data.get("adapter_job"):
            return data["model"]
        return tiny_model_path()

    def add_launch_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = "model" if name == "model_name_or_path" else name
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
