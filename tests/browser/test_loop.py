"""The loop's generate -> rank step in a real browser on a freshly seeded demo.

The admin starts a generation job from the form's defaults without changing a field (base-only:
no training job has finished; the tiny local model), a real worker thread runs it with the real
engine, and a labeler finds the new round's prompts in the queue (after the demo's few prompts
nobody has ranked yet), blind (no model names), and ranks one with the keyboard.
"""

import pytest
from dramatiq import Worker

from ranking_app.management.commands.seed_demo import demo_project_ensure, demo_users_ensure
from ranking_app.models import Prompt, Ranking
from tests.browser.conftest import login
from tests.training.conftest import wait_for
from training.engine import make_tiny_model
from training.models import TrainingJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    make_tiny_model(models / "tiny-llama", hidden_size=32, num_hidden_layers=1)
    return models


@pytest.fixture
def demo(settings, models_dir, tmp_path, broker):
    settings.MODELS_DIR = models_dir
    settings.TRAINING_DIR, settings.EXPORT_DIR = tmp_path / "training", tmp_path / "exports"
    settings.TRAINING_HEARTBEAT_SECONDS = 0.2
    demo_users_ensure()
    demo_project_ensure()
    worker = Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield
    worker.stop()


def test_generate_from_the_defaults_then_rank_the_new_round_as_a_labeler(page, live_server, demo):
    login(page, "admin", "admin-demo")
    page.goto("/jobs/generate/?project=demo")
    assert page.locator("#id_prompt_set").input_value() == "all"
    assert page.locator("#id_adapter_job").input_value() == ""  # nothing trained yet: base only
    assert page.locator("#id_base_count").input_value() == "4"
    page.fill("#id_max_new_tokens", "8")  # the one change: short samples keep 64 prompts x 4 quick on a busy CPU
    page.locator("#generate-button").click()
    page.wait_for_url("**/jobs/*/")
    page.goto("about:blank")  # the job page polls; the worker gets the database to itself
    job = TrainingJob.objects.get(kind="generate")
    wait_for(lambda: TrainingJob.objects.get(pk=job.pk).status not in ("queued", "running"), timeout=300)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_detail
    new_round = Prompt.objects.filter(round=job.round)
    assert new_round.count() == 64 and new_round.filter(responses__isnull=False).distinct().count() >= 60

    page.context.clear_cookies()
    login(page, "labeler4", "labeler4-demo")
    page.goto("/label/demo/")
    page.wait_for_selector("#rank.rank-js")
    for _ in range(5):  # the 4 demo prompts nobody ranked yet tie with the new round (fewest rankings, then oldest)
        prompt = Prompt.objects.get(pk=int(page.locator("#labeling-panel").get_attribute("data-prompt-id")))
        if prompt.round_id == job.round_id:
            break
        rank_with_keys(page, prompt)
    assert prompt.round_id == job.round_id and prompt.external_id.endswith("@r1")
    shown = page.locator("#labeling-panel").inner_text()
    assert "base model" not in shown and "tiny" not in shown  # blind: nothing says which model wrote what
    n = rank_with_keys(page, prompt)
    ranking = Ranking.objects.get(prompt=prompt, annotator__username="labeler4")
    assert ranking.status == "submitted" and len(ranking.tiers) == n and ranking.keystrokes == n + 1


def rank_with_keys(page, prompt) -> int:
    """Type 1..K (a strict order) and Enter; wait for the next prompt. Returns K."""
    n = page.locator("#rank .rank-card").count()
    assert n == prompt.responses.count() >= 2
    page.wait_for_function("document.activeElement && document.activeElement.dataset.label === 'A'")
    for key in [str(i + 1) for i in range(n)] + ["Enter"]:
        page.keyboard.press(key)
    page.wait_for_function(
        "id => { const p = document.querySelector('#labeling-panel'); return p && p.dataset.promptId !== String(id); }",
        arg=prompt.pk,
    )
    return n
