"""Long prompts keep their chat template; the cut and a prompt/response token mismatch are reported."""

from __future__ import annotations

import logging

import pytest

from training.engine.data import tokenize_group
from training.engine.modeling import build_byte_tokenizer
from training.engine.truncation import fit_prompt

SYSTEM_TEMPLATE = (
    "<s>[system] Answer kindly.\n"
    "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant] {% endif %}"
)


def _decode(tokenizer, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=False)


@pytest.fixture
def chat_tokenizer():
    tokenizer = build_byte_tokenizer()
    tokenizer.chat_template = SYSTEM_TEMPLATE
    return tokenizer


def test_long_prompt_keeps_system_prompt_role_headers_and_both_ends_of_the_content(chat_tokenizer, caplog):
    content = "INSTRUCTION " + "filler " * 60 + "LATEST QUESTION?"
    record = {"id": "rec-7", "prompt": content, "responses": ["Yes.", "No."], "ranks": [0, 1]}
    with caplog.at_level(logging.WARNING, logger="training.engine.truncation"):
        group = tokenize_group(record, chat_tokenizer, max_length=140, max_prompt_length=100)
    text = _decode(chat_tokenizer, group["prompt_ids"])
    assert len(group["prompt_ids"]) == 100
    assert text.startswith("<s>[system] Answer kindly.\n[user] INSTRUCTION")
    assert text.endswith("LATEST QUESTION?\n[assistant] ")
    assert "record rec-7: prompt of" in caplog.text and "dropped from the middle" in caplog.text
    assert all(len(group["prompt_ids"]) + len(r) <= 140 for r in group["response_ids"])


def test_without_a_chat_template_the_bos_token_stays(caplog):
    tokenizer = build_byte_tokenizer()
    record = {"id": "plain", "prompt": "abcdefghij" * 5, "responses": ["x" * 30, "y"], "ranks": [0, 1]}
    group = tokenize_group(record, tokenizer, max_length=30, max_prompt_length=10)
    assert group["prompt_ids"][0] == tokenizer.bos_token_id and len(group["prompt_ids"]) == 10
    assert _decode(tokenizer, group["prompt_ids"][1:]) == "abc" + "bcdefghij"[-6:]
    assert [len(r) for r in group["response_ids"]] == [20, 2]  # responses cut at the end (y + </s>)


def test_template_longer_than_the_budget_falls_back_to_the_last_tokens(caplog):
    with caplog.at_level(logging.WARNING, logger="training.engine.truncation"):
        kept = fit_prompt(list(range(20)), list(range(8)) + [18, 19], 6, "r1")
    assert kept == list(range(14, 20)) and "chat template alone takes 10" in caplog.text


def test_warns_when_the_prompt_tokens_are_not_a_prefix_of_prompt_plus_response(caplog):
    tokenizer = build_byte_tokenizer()
    tokenizer.chat_template = ("{% for m in messages %}{% if m.role == 'user' %}Q: {{ m.content }}{% else %}"
                               "\nA:{{ m.content }}{% endif %}{% endfor %}{% if add_generation_prompt %}\nA: {% endif %}")
    record = {"id": "odd", "prompt": "hi", "responses": ["yo", "ok"], "ranks": [0, 1]}
    with caplog.at_level(logging.WARNING, logger="training.engine.truncation"):
        group = tokenize_group(record, tokenizer, max_length=64, max_prompt_length=32)
    assert "record odd: the tokenized prompt" in caplog.text and "not a prefix" in caplog.text
    assert _decode(tokenizer, group["response_ids"][0]) == "yo"
