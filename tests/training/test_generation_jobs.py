"""Generation jobs: prompts without responses -> K candidates from the base model and/or a tuned
adapter, through the StubBroker and a real Worker thread with the real engine and tiny model."""

import json

import pytest

from ranking_app.exchange.imports import rankings_import
from ranking_app.models import Project, Prompt, Round
from training.engine import make_tiny_model
from training.generation.services import CandidateSource, generation_launch
from training.models import TrainingJob
from training.services.job_config import JobConfigError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return make_tiny_model(tmp_path_factory.mktemp("gen") / "tiny", hidden_size=32, num_hidden_layers=1)


@pytest.fixture
def prompts_only(db) -> Project:
    project = Project.objects.create(name="Loop", slug="loop", target_annotators=1)
    rankings_import(project=project, records=[{"id": f"q{i}", "prompt": f"Question {i}?"} for i in range(3)])
    return project


@pytest.fixture
def adapter_job(prompts_only, tiny, tmp_path, settings) -> TrainingJob:
    """A finished training job of the project with a real (random) LoRA adapter of the tiny model."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny), LoraConfig(r=2, target_modules="all-linear"))
    adapter = settings.TRAINING_DIR / "job-x" / "adapter"
    model.save_pretrained(adapter)
    from ranking_app.exchange.exports import export_create

    rankings_import(project=prompts_only, records=[{"id": "seed", "prompt": "s", "responses": ["a", "b"], "rankings": [0, 1]}])
    export = export_create(project=prompts_only, format="jsonl", validated_only=False)
    return TrainingJob.objects.create(project=prompts_only, export=export, base_model=tiny, config={}, status="succeeded",
                                      adapter_dir="job-x/adapter")


def run(broker, worker, job):
    broker.join("training")
    worker.join()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_detail
    return job


def test_base_model_fills_every_waiting_prompt_with_k_responses_in_a_new_round(prompts_only, tiny, broker, worker):
    job = generation_launch(project=prompts_only, sources=[CandidateSource(count=3)], base_model=tiny,
                            sampling={"max_new_tokens": 6, "seed": 1})
    assert job.kind == "generate" and job.round.number == 1 and job.data_summary == {"prompts": 3, "responses_per_prompt": 3}
    run(broker, worker, job)
    assert (job.step, job.total_steps) == (3, 3)
    for prompt in Prompt.objects.filter(project=prompts_only, round=job.round):
        responses = list(prompt.responses.order_by("position"))
        assert len(responses) == 3
        assert {r.source for r in responses} == {"base model tiny"}
        assert responses[0].metadata["seed"] == 1 and responses[0].metadata["max_new_tokens"] == 6


def test_a_mix_of_base_and_tuned_samples_the_previous_round_again(prompts_only, tiny, adapter_job, broker, worker):
    first = run(broker, worker, generation_launch(project=prompts_only, sources=[CandidateSource(count=2)],
                                                  base_model=tiny, sampling={"max_new_tokens": 4}))
    second = generation_launch(project=prompts_only, prompt_set="previous_round", sampling={"max_new_tokens": 4},
                               sources=[CandidateSource(count=2), CandidateSource(count=2, job=adapter_job)])
    assert second.round.number == 2 and second.base_model == tiny
    run(broker, worker, second)
    again = Prompt.objects.filter(round=second.round).order_by("external_id")
    assert [p.external_id for p in again] == ["q0@r2", "q1@r2", "q2@r2"]
    for prompt in again:
        sources = sorted(r.source for r in prompt.responses.all())
        assert sources == ["base model tiny"] * 2 + [f"job {adapter_job.pk} adapter"] * 2
    assert Round.objects.filter(project=prompts_only).count() == 2 and first.round.number == 1


def test_a_resumed_job_keeps_the_candidates_it_already_wrote(prompts_only, tiny, broker, settings):
    from dramatiq import Worker

    job = generation_launch(project=prompts_only, sources=[CandidateSource(count=2)], base_model=tiny,
                            sampling={"max_new_tokens": 4})
    output = settings.TRAINING_DIR / job.work_dir / "output"
    output.mkdir(parents=True)
    kept = {"id": "q1", "prompt": "Question 1?", "responses": ["kept one", "kept two"],
            "response_details": [{"source": "base model tiny", "metadata": {}}] * 2}
    (output / "candidates-0.jsonl").write_text(json.dumps(kept) + "\n" + '{"id": "q2", "prom', encoding="utf-8")
    worker = Worker(broker, worker_timeout=50, worker_threads=1)  # started only now: the files are in place
    worker.start()
    try:
        run(broker, worker, job)
    finally:
        worker.stop()
    texts = set(Prompt.objects.get(project=prompts_only, external_id="q1").responses.values_list("text", flat=True))
    assert texts == {"kept one", "kept two"}
    assert Prompt.objects.get(project=prompts_only, external_id="q2").responses.count() == 2


def test_bad_requests_name_the_problem_and_store_nothing(prompts_only, tiny, adapter_job):
    other = Project.objects.create(name="Other", slug="other")
    cases = [
        (dict(project=other, sources=[CandidateSource(count=2)], base_model=tiny), "prompt_set"),
        (dict(project=prompts_only, sources=[CandidateSource(count=1)], base_model=tiny), "sources"),
        (dict(project=other, sources=[CandidateSource(count=2, job=adapter_job)]), "sources"),
        (dict(project=prompts_only, sources=[CandidateSource(count=2)]), "base_model"),
        (dict(project=prompts_only, sources=[CandidateSource(count=2)], base_model=tiny, sampling={"top_p": 3}), "top_p"),
        (dict(project=prompts_only, sources=[CandidateSource(count=2)], base_model=tiny, prompt_set="previous_round"),
         "prompt_set"),
    ]
    for kwargs, field in cases:
        with pytest.raises(JobConfigError) as caught:
            generation_launch(**kwargs)
        assert field in caught.value.errors, (field, caught.value.errors)
    assert not TrainingJob.objects.filter(kind="generate").exists() and not Round.objects.exists()


def test_the_generation_page_launches_a_job(client, prompts_only, tiny, broker):
    from tests.conftest import make_user

    admin = make_user("boss", "admin")
    client.force_login(admin)
    page = client.get("/jobs/generate/?project=loop")
    assert page.status_code == 200 and b"Generate candidates" in page.content
    html = page.content.decode()
    fields = ["project", "prompt_set", "base_model", "base_count", "adapter_job", "adapter_count", "temperature",
              "top_p", "max_new_tokens", "seed"]  # fmt: skip
    assert [html.index(f'data-field="{name}"') for name in fields] == sorted(html.index(f'data-field="{name}"') for name in fields)
    assert all(f"<legend>{legend}</legend>" in html for legend in ("Prompts", "Models", "Sampling"))
    answer = client.post("/jobs/generate/", {
        "project": "loop", "prompt_set": "empty", "base_model": tiny, "base_count": 2, "adapter_count": 0,
        "temperature": 1.0, "top_p": 0.9, "max_new_tokens": 8, "seed": 0,
    })  # fmt: skip
    job = TrainingJob.objects.get(kind="generate")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/jobs/{job.pk}/")
    bad = client.post("/jobs/generate/", {"project": "loop", "prompt_set": "empty", "base_model": tiny, "base_count": 1,
                                          "adapter_count": 0, "temperature": 1, "top_p": 1, "max_new_tokens": 8, "seed": 0})
    assert bad.status_code == 200 and b"responses per prompt" in bad.content
    detail = client.get(f"/jobs/{job.pk}/")
    assert detail.status_code == 200 and b"Candidates for round 1" in detail.content


def test_the_api_launches_generation_and_the_timeline_shows_the_round(client, prompts_only, tiny, broker, worker):
    from tests.conftest import make_user

    client.force_login(make_user("boss", "admin"))
    bad = client.post("/api/jobs/generate/", {"project": "loop", "sources": [{"count": 1}]}, content_type="application/json")
    assert bad.status_code == 400 and "sources" in bad.json()
    nowhere = client.post("/api/jobs/generate/", {"project": "nope", "sources": [{"count": 1}]}, content_type="application/json")
    assert nowhere.status_code == 404 and nowhere.json() == {"project": ["no project 'nope'"]}
    answer = client.post("/api/jobs/generate/", {"project": "loop", "base_model": tiny, "sources": [{"count": 2}],
                                                 "sampling": {"max_new_tokens": 4}}, content_type="application/json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["kind"] == "generate" and answer.json()["round"] == 1
    run(broker, worker, TrainingJob.objects.get(pk=answer.json()["id"]))
    rounds = client.get("/api/jobs/rounds/loop/").json()
    assert rounds[-1] == {"round": 1, "prompts": 3, "prompts_with_responses": 3, "rankings": 0, "prompts_ranked": 0,
                          "generation_job": {"id": answer.json()["id"], "status": "succeeded"}, "training_jobs": []}
    page = client.get("/jobs/timeline/loop/", HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and b"Round 1" in page.content and page["Vary"].count("HX-Request") == 1
    assert b'hx-get="/jobs/timeline/loop/"' in client.get("/projects/loop/").content


def test_the_cli_writes_k_responses_per_prompt_that_import_rankings_accepts(tiny, tmp_path, prompts_only):
    from django.core.management import call_command

    from training.engine.cli import main

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a fruit.\nName a river.\n", encoding="utf-8")
    out = tmp_path / "candidates.jsonl"
    assert main(["generate", "--model", tiny, "--prompts", str(prompts), "--num-responses", "3",
                 "--max-new-tokens", "5", "--seed", "9", "--output", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [len(r["responses"]) for r in records] == [3, 3]
    assert records[0]["response_details"][0]["metadata"]["seed"] == 9
    call_command("import_rankings", str(out), "--project", "loop", verbosity=0)
    imported = Prompt.objects.filter(project=prompts_only, external_id=records[1]["id"]).get()
    assert [r.text for r in imported.responses.order_by("position")] == records[1]["responses"]
    assert imported.responses.first().source == f"base:{tiny.rstrip('/').rsplit('/', 1)[-1]}"
