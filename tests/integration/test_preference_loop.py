"""The preference loop end to end on a real stack (Redis, a `rundramatiq` worker process, runserver,
the real engine and tiny model): prompts only -> train -> generate round 1 from base + adapter ->
rank -> train on round 1 -> generate round 2 from the new adapter -> the timeline shows both rounds."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SMALL = {"num_train_epochs": 1, "per_device_train_batch_size": 3, "max_length": 96, "max_prompt_length": 48,
         "logging_steps": 1, "save_steps": 50}
SAMPLING = {"max_new_tokens": 8, "seed": 3}


def train(stack) -> dict:
    status, job = stack.api("POST", "/api/jobs/", {"project": "vowels", "preset": "cpu-smoke", "config": SMALL,
                                                 "validated_only": False})
    assert status == 201, job
    return stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", what="trained", timeout=300)


def generate(stack, body: dict) -> dict:
    status, job = stack.api("POST", "/api/jobs/generate/", {"project": "vowels", "sampling": SAMPLING, **body})
    assert status == 201, job
    return stack.wait_job(job["id"], lambda j: j["status"] == "succeeded", what="generated", timeout=300)


def prompts_of_round(stack, number: int) -> list[dict]:
    status, page = stack.api("GET", "/api/projects/vowels/prompts/?limit=500")
    assert status == 200, page
    rows = page["results"] if isinstance(page, dict) else page
    return [p for p in rows if p["external_id"].startswith("new-") and
            (p["external_id"].endswith(f"@r{number}") if number > 1 else "@r" not in p["external_id"])]


def test_prompts_only_to_a_second_round_from_the_tuned_adapter(stack):
    new = [{"id": f"new-{i}", "prompt": f"Write a word with many vowels, number {i}."} for i in range(4)]
    status, report = stack.api("POST", "/api/projects/vowels/import/", {"records": new})
    assert status in (200, 201), report

    first = train(stack)
    round1 = generate(stack, {"sources": [{"count": 2}, {"count": 2, "adapter_job": first["id"]}]})
    assert round1["round"] == 1
    fresh = prompts_of_round(stack, 1)
    assert len(fresh) == 4
    for prompt in fresh:
        status, detail = stack.api("GET", f"/api/prompts/{prompt['id']}/")
        assert status == 200 and len(detail["responses"]) == 4
        sources = sorted(r["source"] for r in detail["responses"])
        assert sources == ["base model tiny-llama"] * 2 + [f"job {first['id']} adapter"] * 2
        status, ranking = stack.api("POST", "/api/rankings/", {"prompt": prompt["id"], "rankings": [0, 1, 1, 2]})
        assert status == 201, ranking

    second = train(stack)
    assert second["round"] == 1
    round2 = generate(stack, {"prompt_set": "previous_round", "sources": [{"count": 3, "adapter_job": second["id"]}]})
    assert round2["round"] == 2 and len(prompts_of_round(stack, 2)) == 4

    status, rounds = stack.api("GET", "/api/jobs/rounds/vowels/")
    assert status == 200
    by_number = {r["round"]: r for r in rounds}
    assert by_number[1]["generation_job"]["id"] == round1["id"] and by_number[1]["prompts_ranked"] == 4
    assert [j["id"] for j in by_number[1]["training_jobs"]] == [second["id"]]
    assert by_number[1]["training_jobs"][0]["metrics"]["pairwise_accuracy"][1] is not None
    assert by_number[2]["generation_job"]["id"] == round2["id"] and by_number[2]["prompts_with_responses"] == 4
    assert [j["id"] for j in by_number[0]["training_jobs"]] == [first["id"]]
