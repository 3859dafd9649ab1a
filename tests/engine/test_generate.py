"""Candidate generation: K seeded samples per prompt, written as importable exchange records."""

from __future__ import annotations

import json
import shutil

import pytest

from training.engine.generate import GenerationSettings, clean_text, generate_candidates, read_prompts
from training.engine.records import DataError
from training.engine.sampling import completion


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text('{"id": "q1", "prompt": "Name a colour."}\n{"prompt": "Count to three."}\n', encoding="utf-8")
    return read_prompts(path)


def test_k_responses_per_prompt_with_their_source_and_sampling_metadata(tiny_model_dir, prompts):
    settings = GenerationSettings(model=tiny_model_dir, num_responses=3, max_new_tokens=8, seed=7, source="base")
    records = generate_candidates(prompts, settings)
    assert [r["id"] for r in records] == ["q1", prompts[1]["id"]] and prompts[1]["id"].startswith("p-")
    for record in records:
        assert len(record["responses"]) == 3 and all(isinstance(t, str) for t in record["responses"])
        details = record["response_details"]
        assert [d["source"] for d in details] == ["base"] * 3
        metadata = dict(details[0]["metadata"])
        assert metadata.pop("finish_reason") in ("stop", "length")
        assert metadata == {"model": tiny_model_dir, "adapter": None, "temperature": 1.0, "top_p": 1.0, "top_k": 0,
                            "repetition_penalty": 1.0, "max_new_tokens": 8, "seed": 7}


def test_responses_do_not_depend_on_the_model_generation_config(tiny_model_dir, prompts, tmp_path):
    # a checkpoint shipping top_k / a repetition penalty in generation_config.json samples as recorded all the same
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    (other / "generation_config.json").write_text(json.dumps({"top_k": 2, "repetition_penalty": 30.0,
                                                              "temperature": 0.2, "do_sample": True}))
    settings = dict(num_responses=3, max_new_tokens=12, seed=5, source="base")
    plain = generate_candidates(prompts, GenerationSettings(model=tiny_model_dir, **settings))
    configured = generate_candidates(prompts, GenerationSettings(model=str(other), **settings))
    assert [r["responses"] for r in plain] == [r["responses"] for r in configured]


def test_finish_reason_is_stop_at_an_end_token_and_length_otherwise():
    assert completion([5, 2, 0, 0], {2}) == ([5, 2], "stop")
    assert completion([5, 6, 7], {2}) == ([5, 6, 7], "length")
    assert GenerationSettings(model="m", top_k=50, repetition_penalty=1.3).sampling().vllm_kwargs() == {
        "temperature": 1.0, "top_p": 1.0, "top_k": 50, "repetition_penalty": 1.3, "max_tokens": 128}
    assert GenerationSettings(model="m").sampling().vllm_kwargs()["top_k"] == -1


def test_the_same_seed_gives_the_same_responses_whatever_the_order_and_batching(tiny_model_dir, prompts):
    base = GenerationSettings(model=tiny_model_dir, num_responses=4, max_new_tokens=8, seed=3, batch_size=4)
    first = generate_candidates(prompts, base)
    again = generate_candidates(list(reversed(prompts)), base)
    assert first[0]["responses"] == again[1]["responses"] and first[1]["responses"] == again[0]["responses"]
    other = generate_candidates(prompts, GenerationSettings(model=tiny_model_dir, num_responses=4, max_new_tokens=8, seed=4))
    assert other[0]["responses"] != first[0]["responses"]


def test_settings_report_every_problem_at_once(tiny_model_dir, prompts):
    bad = GenerationSettings(model=tiny_model_dir, num_responses=0, temperature=0, top_p=2, seed=-1)
    assert set(bad.errors()) == {"num_responses", "temperature", "top_p", "seed"}
    with pytest.raises(ValueError, match="num_responses: must be an integer in 1..64"):
        generate_candidates(prompts, bad)


def test_prompt_files_are_checked_and_text_files_work(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "prompt": ""}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="record 1: prompt"):
        read_prompts(bad)
    text = tmp_path / "prompts.txt"
    text.write_text("first\n\nsecond\n", encoding="utf-8")
    assert [p["prompt"] for p in read_prompts(text)] == ["first", "second"]


def test_generated_text_is_cleaned_of_control_characters():
    assert clean_text("a\x00b\x07c\nd\te\ud800  ") == "abc\nd\te?"
