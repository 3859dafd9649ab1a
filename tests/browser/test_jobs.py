"""A real browser launches a training job from the form on a real stack (Redis, rundramatiq worker,
runserver, tiny model) and watches the progress bar move and the evaluation table appear."""

import re

import pytest

from tests.browser.conftest import login
from tests.integration.stack import REPO, Stack

SCREENSHOTS = REPO / "var" / "screenshots"
EPOCHS = 30  # over the train prompts left after the validation split (10% by prompt id, the default)
# records every value the progress bar shows (htmx swaps the element every 2 s)
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  const bar = document.querySelector('#job-live .progress');
  if (!bar) return;
  const value = Number(bar.getAttribute('aria-valuenow'));
  const seen = window.__progress;
  if (!seen.length || seen[seen.length - 1] !== value) seen.push(value);
}).observe(document, {subtree: true, childList: true, attributes: true});
"""

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("browser-stack"))
    try:
        yield stack.start(n_prompts=24)
    finally:
        stack.stop()


@pytest.fixture
def stack_page(browser, stack):
    context = browser.new_context(base_url=stack.url, viewport={"width": 1280, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, "boss")
    yield page
    context.close()


def test_launch_from_the_form_then_watch_progress_and_evaluation(stack_page):
    page = stack_page
    page.goto("/jobs/new/?project=vowels")
    assert page.locator("#id_preset").input_value() == "cpu-smoke"
    # the GPU preset fills the form through htmx, then back to the CPU preset
    page.select_option("#id_preset", "gpu-qlora")
    page.click("text=Apply preset")
    page.wait_for_function("document.querySelector('#id_quantization').value === '4bit'")
    page.select_option("#id_preset", "cpu-smoke")
    page.click("text=Apply preset")
    page.wait_for_function("document.querySelector('#id_quantization').value === 'none'")
    # a bad value comes back as an error next to its field
    page.fill("#id_beta", "-1")
    page.uncheck("#id_validated_only")
    page.click("#launch-button")
    expect_text = page.locator('[data-field="beta"] .field-error')
    assert "must be a number in (0, 100]" in expect_text.inner_text()
    page.fill("#id_beta", "0.1")
    page.uncheck("#id_validated_only")
    page.fill("#id_num_train_epochs", str(EPOCHS))  # about 16 train prompts / 3 = 6 steps per epoch
    page.fill("#id_per_device_train_batch_size", "3")
    page.fill("#id_max_length", "96")
    page.fill("#id_max_prompt_length", "48")
    page.fill("#id_logging_steps", "1")
    page.fill("#id_save_steps", "60")
    page.context.add_init_script(RECORD_PROGRESS)
    page.click("#launch-button")
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))

    page.wait_for_selector("#job-status:text('succeeded')", timeout=300_000)
    total = int(page.locator("#job-live .progress").get_attribute("aria-valuemax"))
    assert total % EPOCHS == 0 and total >= 5 * EPOCHS, total
    seen = page.evaluate("window.__progress")
    # the bar moved: it started empty, showed at least one step in between, and ended full
    assert seen[0] == 0 and seen[-1] == total, seen
    assert any(0 < value < total for value in seen), seen
    assert seen == sorted(seen), seen
    page.wait_for_function("Number(document.querySelector('#job-charts').dataset.points || 0) > 0", timeout=30_000)
    table = page.locator("#eval-table")
    table.wait_for(timeout=30_000)
    assert table.get_attribute("data-scoring") == "sum_logp"  # the verdict's scoring by default
    outcome = page.locator("#verdict-outcome").inner_text()
    assert outcome in ("Better than base", "No detectable change", "Worse than base")
    assert re.fullmatch(r"[01]\.\d{3} \[[01]\.\d{3}, [01]\.\d{3}\]", page.locator("#verdict-base").inner_text())
    accuracy = table.locator('tr[data-metric="accuracy"] td')
    figure = r"[01]\.\d{3}( \[[01]\.\d{3}, [01]\.\d{3}\])?"
    assert re.fullmatch(r"[01]\.\d{3}", accuracy.nth(0).inner_text())  # chance
    assert re.fullmatch(figure, accuracy.nth(3).inner_text())  # base, with its interval
    assert re.fullmatch(figure, accuracy.nth(4).inner_text())  # tuned
    assert re.fullmatch(r"[+-]\d\.\d{3}( \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\])?", accuracy.nth(5).inner_text())
    assert accuracy.nth(6).inner_text() in ("significant", "not significant")
    assert page.locator("#chart-kl").is_visible() and page.locator("#strata-table").is_visible()
    assert re.search(r"Adapter kept: step \d+ of " + str(total), page.locator("#kept-step").inner_text())
    # validation loss at its evaluations (the cpu-smoke preset: eval_steps 0.5, so half-way and at the end),
    # drawn by the chart's last poll
    page.wait_for_function("Chart.getChart('chart-loss').data.datasets[1].data.length >= 2", timeout=15_000)
    assert page.locator("#adapter-link").is_visible()
    assert f"step {total}/{total}" in page.locator("#log-tail").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "training_job.png"), full_page=True)
    job_id = page.url.rstrip("/").rsplit("/", 1)[1]
    # the jobs table refreshes itself (htmx swaps its tbody every 3 s) and keeps showing the job
    page.goto("/jobs/")
    page.wait_for_event("requestfinished", predicate=lambda r: r.url.endswith("/jobs/"), timeout=10_000)
    row = page.locator(f'#job-rows tr[data-job="{job_id}"]')
    assert "succeeded" in row.inner_text() and f"step {total} / {total}" in row.inner_text()
