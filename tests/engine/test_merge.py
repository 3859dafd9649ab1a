"""``python -m training.engine merge``: the merged model loads with plain transformers and scores
held-out responses like base + adapter."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from training.engine.cli import main
from training.engine.modeling import add_lora_adapter
from training.engine.synthetic import vowel_ranked_records


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory) -> str:
    """A LoRA adapter with non-zero weights (a fresh one is the identity, which would prove nothing)."""
    torch.manual_seed(0)
    model = add_lora_adapter(AutoModelForCausalLM.from_pretrained(tiny_model_dir), r=4, alpha=8, dropout=0.0,
                             target_modules=["q_proj", "v_proj"], quantized=False)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(std=0.2)
    path = tmp_path_factory.mktemp("adapter") / "adapter"
    model.save_pretrained(path)
    return str(path)


@torch.no_grad()
def response_logps(model, tokenizer, records: list[dict]) -> torch.Tensor:
    """Summed log-prob of every response given its prompt, computed from the plain logits."""
    scores = []
    for record in records:
        n_prompt = len(tokenizer(record["prompt"]).input_ids)
        for response in record["responses"]:
            ids = tokenizer(record["prompt"] + response, return_tensors="pt").input_ids
            logps = model(input_ids=ids).logits[0, :-1].float().log_softmax(-1)
            token_logps = logps.gather(-1, ids[0, 1:, None])[:, 0]
            scores.append(token_logps[n_prompt - 1 :].sum())
    return torch.stack(scores)


def test_merged_model_scores_like_base_plus_adapter(tiny_model_dir, adapter_dir, tmp_path):
    output = tmp_path / "merged"
    held_out = [r for r in vowel_ranked_records(20, 4) if r["split"] == "test"]

    assert main(["merge", "--model", tiny_model_dir, "--adapter", adapter_dir, "--output", str(output)]) == 0

    assert not (output / "adapter_config.json").exists()
    tokenizer = AutoTokenizer.from_pretrained(output)
    merged = AutoModelForCausalLM.from_pretrained(output).eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    base_scores = response_logps(base, tokenizer, held_out)
    with_adapter = PeftModel.from_pretrained(base, adapter_dir).eval()
    expected = response_logps(with_adapter, tokenizer, held_out)
    got = response_logps(merged, tokenizer, held_out)
    assert held_out and torch.allclose(got, expected, atol=1e-4, rtol=0)
    assert (expected - base_scores).abs().max() > 1e-2  # the adapter changes the scores


def test_merge_refuses_a_non_empty_output_and_a_missing_adapter(tiny_model_dir, adapter_dir, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")

    assert main(["merge", "--model", tiny_model_dir, "--adapter", adapter_dir, "--output", str(taken)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["merge", "--model", tiny_model_dir, "--adapter", str(tmp_path), "--output", str(tmp_path / "m")]) == 2
    assert "no adapter_config.json" in capsys.readouterr().err
