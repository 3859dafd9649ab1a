"""LoRA gradients on the 4-bit model equal those on the same weights dequantized to fp32.

The reference model holds exactly the dequantized 4-bit weights, so the quantization error itself
cancels; what remains is fp32 rounding of another kernel order. The tolerance is therefore stated
against the quantization error: gradients must agree 100x more closely than the nf4 weights agree
with the original ones (~10% relative here). A gradient path silently dropped by a kernel without
backward (bitsandbytes' CPU ``gemv_4bit``) gives errors of ~100%.
"""

from __future__ import annotations

import pytest
import torch

from training.engine.modeling import add_lora_adapter, load_base_model

bnb = pytest.importorskip("bitsandbytes")


def _with_lora(model, quantized: bool):
    model = add_lora_adapter(model, r=4, alpha=8, dropout=0.0, target_modules="all-linear", quantized=quantized)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        for name, param in sorted(model.named_parameters()):
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
    return model


def _quantized_and_dequantized(model_dir: str):
    quantized = load_base_model(model_dir, quantization="4bit")
    dequantized = load_base_model(model_dir)
    original, errors = dict(dequantized.named_modules()), []
    with torch.no_grad():
        for name, module in quantized.named_modules():
            if isinstance(module, bnb.nn.Linear4bit):
                weight = bnb.functional.dequantize_4bit(module.weight.data, module.weight.quant_state).float()
                errors.append(((weight - original[name].weight).norm() / original[name].weight.norm()).item())
                original[name].weight.copy_(weight)
    return _with_lora(quantized, True), _with_lora(dequantized, False), max(errors)


def _lora_grads(model, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
    model.eval()
    with torch.no_grad():  # as the reference pass does before training
        model(input_ids=input_ids)
    model.train()
    model.zero_grad()
    logits = model(input_ids=input_ids).logits[:, -1].float()
    (-torch.log_softmax(logits, dim=-1)[:, 7].mean()).backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("tokens", [1, 12], ids=["one-token-gemv", "multi-token-matmul"])
def test_lora_gradients_on_4bit_weights_equal_the_dequantized_fp32_model(tiny_model_dir, tokens):
    quantized, dequantized, quantization_error = _quantized_and_dequantized(tiny_model_dir)
    assert 0.01 < quantization_error < 0.5
    input_ids = torch.randint(3, 200, (2, tokens), generator=torch.Generator().manual_seed(tokens))
    got, expected = _lora_grads(quantized, input_ids), _lora_grads(dequantized, input_ids)
    assert got.keys() == expected.keys() and len(got) > 0
    tolerance = quantization_error / 100
    for name, grad in expected.items():
        relative = ((got[name] - grad).norm() / grad.norm()).item()
        assert relative < tolerance, (name, relative, tolerance)
