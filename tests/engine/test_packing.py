"""Prefix sharing: one packed row per group gives the loss and LoRA gradients of one row per response."""

from __future__ import annotations

import pytest
import torch

from training.engine.data import GroupCollator
from training.engine.losses import grpo_pairwise_loss
from training.engine.modeling import add_lora_adapter, load_base_model
from training.engine.packing import (
    PrefixSharingCollator,
    batch_response_logps,
    packed_length,
    packing_pays_off,
    prefix_sharing_mask,
    resolve_prefix_sharing,
)
from training.engine.trainer import RankedGRPOTrainer


def _groups() -> list[dict]:
    generator = torch.Generator().manual_seed(0)

    def ids(n):
        return torch.randint(3, 200, (n,), generator=generator).tolist()

    return [
        {"prompt_ids": ids(9), "response_ids": [ids(4), ids(7), ids(1)], "ranks": [0, 1, 2], "ref_logps": [-3.0, -5.0, -1.0]},
        {"prompt_ids": ids(3), "response_ids": [ids(6), ids(2)], "ranks": [1, 0], "ref_logps": [-4.0, -2.0]},
        {"prompt_ids": ids(14), "response_ids": [ids(5), ids(5), ids(3), ids(8)], "ranks": [0, 0, 1, -1],
         "ref_logps": [-6.0, -6.5, -3.0, -9.0]},
    ]  # fmt: skip


@pytest.fixture
def lora_model(tiny_model_dir):
    torch.manual_seed(0)
    model = add_lora_adapter(load_base_model(tiny_model_dir), r=4, alpha=8, dropout=0.0, target_modules="all-linear",
                             quantized=False)
    with torch.no_grad():  # lora_B starts at zero; give both factors values so every LoRA weight gets a gradient
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.normal_(0, 0.05)
    return model


def _loss_and_grads(model, collator) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    batch = collator(_groups())
    logps = batch_response_logps(model, batch)
    policy = RankedGRPOTrainer._to_grid(logps.float(), batch)
    loss = grpo_pairwise_loss(policy, batch["ref_logps"], batch["ranks"], beta=0.5)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), logps.detach(), grads


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_shared_and_unshared_paths_give_the_same_logps_loss_and_lora_gradients(lora_model, attention):
    lora_model.get_base_model().set_attn_implementation(attention)
    assert lora_model.config._attn_implementation == attention
    loss_u, logps_u, grads_u = _loss_and_grads(lora_model, GroupCollator(pad_token_id=0))
    loss_s, logps_s, grads_s = _loss_and_grads(lora_model, PrefixSharingCollator(pad_token_id=0))
    torch.testing.assert_close(logps_s, logps_u, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss_s, loss_u, rtol=1e-5, atol=0)
    assert grads_u and grads_u.keys() == grads_s.keys()
    for name, grad in grads_u.items():
        assert grad.abs().sum() > 0, name
        relative = (grads_s[name] - grad).norm() / grad.norm()
        assert relative < 1e-5, (name, relative.item())


def test_packed_row_encodes_the_prompt_once():
    groups = _groups()
    batch = PrefixSharingCollator(pad_token_id=0)(groups)
    assert batch["input_ids"].shape == (3, max(packed_length(g) for g in groups))
    assert packed_length(groups[2]) == 13 + (6 + 6 + 4 + 9)  # prompt[:-1], then [last prompt token] + response
    scored = (batch["response_index"] >= 0).sum().item()
    assert scored == sum(len(r) for g in groups for r in g["response_ids"])  # every response token, once


def test_mask_lets_a_response_see_the_prompt_and_itself_but_not_a_sibling():
    segments = torch.tensor([[0, 0, 1, 1, 2, 2, -1]])
    allowed = prefix_sharing_mask(segments)[0, 0]
    assert allowed[1, :2].tolist() == [True, True] and not allowed[0, 1]
    assert allowed[3, :4].tolist() == [True, True, True, True]
    assert allowed[5].tolist() == [True, True, False, False, True, True, False]
    assert allowed[6].tolist() == [False] * 6 + [True]  # padding sees only itself (no NaN rows)


def test_prefix_sharing_on_with_flash_attention_is_refused(lora_model):
    lora_model.config._attn_implementation = "flash_attention_2"
    with pytest.raises(ValueError, match="prefix_sharing"):
        resolve_prefix_sharing("on", lora_model)
    assert resolve_prefix_sharing("auto", lora_model) is False


def test_auto_packs_long_prompts_but_not_short_prompts_with_many_responses_on_a_narrow_model():
    from transformers import LlamaConfig

    narrow = LlamaConfig(vocab_size=259, hidden_size=128, intermediate_size=320, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)
    wide = LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=2,
                       num_attention_heads=32)
    long_prompt = [{"prompt_ids": [5] * 384, "response_ids": [[6] * 64] * 8}]
    short_prompt = [{"prompt_ids": [5] * 24, "response_ids": [[6] * 48] * 8}]
    assert packing_pays_off(long_prompt, narrow) and packing_pays_off(long_prompt, wide)
    assert not packing_pays_off(short_prompt, narrow)  # one 415-token row's attention outweighs 7 x 24 tokens
    assert packing_pays_off(short_prompt, wide)  # linear layers dominate a wide model
