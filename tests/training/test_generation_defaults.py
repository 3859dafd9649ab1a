"""The loop from the defaults on a fresh demo: the generation form's prompt sets always exist, the
tuned model is preselected once a job has finished, and the launch form trains on chosen rounds."""

import pytest

from ranking_app.exchange.exports import export_path
from ranking_app.management.commands.seed_demo import demo_project_ensure, demo_users_ensure
from ranking_app.models import Project, Prompt, Ranking, Round
from training.engine import make_tiny_model
from training.forms import JobLaunchForm, launch_initial, parse_rounds
from training.generation.forms import GenerationForm
from training.generation.services import CandidateSource, generation_launch
from training.models import TrainingJob
from training.services.job_config import JobConfigError
from training.services.jobs import job_launch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    make_tiny_model(models / "tiny-llama", hidden_size=32, num_hidden_layers=1)
    return models


@pytest.fixture
def demo(settings, models_dir) -> Project:
    settings.MODELS_DIR = models_dir
    demo_users_ensure()
    demo_project_ensure()
    return Project.objects.get(slug="demo")


def default_post(form: GenerationForm) -> dict:
    """What the browser posts when the admin changes nothing."""
    values = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        values[name] = "" if value is None else value
    return values


def finished_job(project: Project, models_dir) -> TrainingJob:
    export = job_launch(project=project, config={"model_name_or_path": str(models_dir / "tiny-llama")},
                        preset="cpu-smoke").export  # fmt: skip
    return TrainingJob.objects.create(project=project, export=export, base_model=str(models_dir / "tiny-llama"),
                                      config={}, status="succeeded", adapter_dir="job-x/adapter", name="done")  # fmt: skip


def test_the_form_defaults_start_a_base_only_job_on_a_fresh_demo(demo, broker):
    form = GenerationForm(initial={"project": "demo"})
    assert form.initial["adapter_job"] is None and form.initial["base_count"] == 4
    posted = GenerationForm(default_post(form))
    assert posted.is_valid(), posted.errors
    job = generation_launch(project=demo, sources=posted.sources(), base_model=posted.chosen_base_model(),
                            sampling=posted.sampling(), prompt_set=posted.cleaned_data["prompt_set"])  # fmt: skip
    assert posted.cleaned_data["prompt_set"] == "all" and job.round.number == 1
    asked = Prompt.objects.filter(round=job.round)
    originals = Prompt.objects.filter(project=demo, round=None)
    assert asked.count() == originals.count() == job.data_summary["prompts"] == 64
    assert sorted(asked.values_list("external_id", flat=True)) == sorted(f"{p}@r1" for p in originals.values_list(
        "external_id", flat=True))  # fmt: skip
    assert job.base_model.endswith("tiny-llama") and job.config["sources"] == [{"count": 4, "adapter_job": None}]


def test_held_out_and_all_ask_each_prompt_once_however_many_rounds_asked_it(demo, broker, models_dir):
    tiny = str(models_dir / "tiny-llama")
    held_out = generation_launch(project=demo, sources=[CandidateSource(count=2)], base_model=tiny, prompt_set="held_out")
    assert held_out.data_summary["prompts"] == Prompt.objects.filter(project=demo, round=None, split="test").count() == 20
    assert set(Prompt.objects.filter(round=held_out.round).values_list("split", flat=True)) == {"test"}
    again = generation_launch(project=demo, sources=[CandidateSource(count=2)], base_model=tiny, prompt_set="all")
    assert again.round.number == 2 and again.data_summary["prompts"] == 64  # not 64 + 20: one copy per prompt
    empty = Project.objects.create(name="Empty", slug="empty")
    with pytest.raises(JobConfigError) as caught:
        generation_launch(project=empty, sources=[CandidateSource(count=2)], base_model=tiny, prompt_set="held_out")
    assert "no held-out" in caught.value.errors["prompt_set"][0]
    assert not Round.objects.filter(project=empty).exists()


def test_a_finished_job_is_preselected_with_two_base_responses(demo, broker, models_dir, settings, tmp_path):
    settings.TRAINING_DIR, settings.EXPORT_DIR = tmp_path / "training", tmp_path / "exports"
    job = finished_job(demo, models_dir)
    form = GenerationForm(initial={"project": "demo"})
    assert (form.initial["adapter_job"], form.initial["base_count"], form.initial["adapter_count"]) == (job.pk, 2, 2)
    posted = GenerationForm(default_post(form))
    assert posted.is_valid(), posted.errors
    assert [s.job for s in posted.sources()] == [None, job] and posted.chosen_base_model() == ""


def test_the_launch_form_trains_on_the_chosen_rounds(demo, broker, models_dir, settings, tmp_path):
    settings.TRAINING_DIR, settings.EXPORT_DIR = tmp_path / "training", tmp_path / "exports"
    tiny = str(models_dir / "tiny-llama")
    round1 = generation_launch(project=demo, sources=[CandidateSource(count=2)], base_model=tiny, prompt_set="all").round
    assert launch_initial(project=demo).get("rounds") is None  # the default: every round
    form = JobLaunchForm({**launch_initial(project=demo), "rounds": "0"})
    assert form.is_valid(), form.errors
    job = job_launch(project=demo, config=form.config, rounds=form.cleaned_data["rounds"], validated_only=False)
    assert job.export.filters == {"validated_only": False, "rounds": [0]} and job.round is None
    exported = export_path(job.export).read_text(encoding="utf-8")
    assert "@r1" not in exported and "demo-" in exported
    with pytest.raises(JobConfigError) as caught:
        job_launch(project=demo, config=form.config, rounds=[1])  # round 1 has no responses ranked yet
    assert "(rounds 1)" in caught.value.errors["validated_only"][0]
    with pytest.raises(JobConfigError) as caught:
        job_launch(project=demo, config=form.config, rounds=[0, 7])
    assert caught.value.errors["rounds"] == ["demo has no round 7 (rounds: 0, 1)"]
    every = job_launch(project=demo, config=form.config, validated_only=False)
    assert every.round == round1 and "rounds" not in every.export.filters
    assert Ranking.objects.filter(prompt__round=round1).count() == 0


@pytest.mark.parametrize(("text", "rounds"), [("", None), ("all", None), ("2", [2]), ("0, 2-3", [0, 2, 3]), ("1,1", [1])])
def test_rounds_text_parses(text, rounds):
    assert parse_rounds(text) == rounds


@pytest.mark.parametrize("text", ["x", "3-1", "1-2-3", "²", "-1", "1,,2", "99999"])
def test_bad_rounds_text_names_the_problem(text, db):
    form = JobLaunchForm({**launch_initial(), "rounds": text})
    assert not form.is_valid() and "rounds" in form.errors


def test_the_timeline_header_names_the_metrics_as_people_read_them(demo, client, broker, models_dir):
    from tests.conftest import make_user

    generation_launch(project=demo, sources=[CandidateSource(count=2)], base_model=str(models_dir / "tiny-llama"),
                      prompt_set="all")
    client.force_login(make_user("boss", "admin"))
    html = client.get("/jobs/timeline/demo/").content.decode()
    assert "Pairwise accuracy (base → tuned)" in html and "pairwiseaccuracy" not in html


def test_empty_samples_are_left_out_and_counted_instead_of_failing_the_job():
    from training.generation.run import usable_records

    detail = {"source": "base model tiny", "metadata": {}}
    records = [
        {"id": "a", "prompt": "A?", "responses": ["x", "", "y"], "response_details": [detail] * 3},
        {"id": "b", "prompt": "B?", "responses": [" ", "z"], "response_details": [detail] * 2},
    ]
    kept, left_out = usable_records(records)
    assert [(r["id"], r["responses"]) for r in kept] == [("a", ["x", "y"])] and len(kept[0]["response_details"]) == 2
    assert left_out == {"empty_responses_left_out": 2, "prompts_left_without_candidates": 1}
