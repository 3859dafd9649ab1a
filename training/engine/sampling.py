"""Sampling with explicit parameters, the same for transformers and vLLM, with each completion's finish reason.

Every sampler of the engine (candidate generation, the KL monitor) passes all of temperature, top_p,
top_k (0: off), repetition_penalty (1: off) and max_new_tokens, so neither a model's own
``generation_config.json`` (often top_k 50, a repetition penalty) nor a backend's defaults change
what is sampled; what is recorded is what ran. A completion finishes with "stop" (it produced an
end token) or "length" (it reached max_new_tokens). torch and transformers load on first use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class SamplingParameters:
    """Everything that decides the sampling distribution, recorded with what was sampled."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    max_new_tokens: int = 128

    def record(self) -> dict:
        return asdict(self)

    def vllm_kwargs(self) -> dict:
        """``vllm.SamplingParams`` arguments (vLLM's top_k -1, or 0 in recent versions, is off)."""
        return {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k if self.top_k > 0 else -1,
                "repetition_penalty": self.repetition_penalty, "max_tokens": self.max_new_tokens}


class Completion(NamedTuple):
    tokens: list[int]
    finish_reason: str  # "stop" or "length"


def generation_config(params: SamplingParameters, pad_token_id: int, eos_token_id, n: int = 1):
    """A transformers ``GenerationConfig`` holding every parameter: nothing left to the model's own defaults."""
    from transformers import GenerationConfig

    return GenerationConfig(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=params.top_k,
                            repetition_penalty=params.repetition_penalty, max_new_tokens=params.max_new_tokens,
                            min_new_tokens=0, num_beams=1, no_repeat_ngram_size=0, typical_p=1.0, min_p=0.0,
                            epsilon_cutoff=0.0, eta_cutoff=0.0, pad_token_id=pad_token_id,
                            eos_token_id=eos_token_id, use_cache=True, num_return_sequences=n)


def sample_hf(model, input_ids, params: SamplingParameters, *, n: int, pad_token_id: int,
              eos_token_id) -> list[Completion]:
    """``n`` completions of one prompt (``input_ids`` (1, T)) from a transformers model, with ``params`` only."""
    import torch

    config = generation_config(params, pad_token_id, eos_token_id, n)
    with torch.no_grad():
        out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config)
    stops = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id or [])
    return [completion(row.tolist(), stops) for row in out[:, input_ids.size(1) :]]


def sample_hf_batch(model, prompts: list[list[int]], params: SamplingParameters, *, pad_token_id: int,
                    eos_token_id) -> list[Completion]:
    """One completion per prompt of ``prompts`` (token lists of any lengths, left-padded into one batch)."""
    import torch

    device = next(model.parameters()).device
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long, device=device)
    attention_mask = torch.zeros_like(input_ids)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(prompt, device=device)
        attention_mask[row, width - len(prompt) :] = 1
    with torch.no_grad():
        out = model.generate(input_ids=input_ids, attention_mask=attention_mask,
                             generation_config=generation_config(params, pad_token_id, eos_token_id))
    stops = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id or [])
    return [completion(row.tolist(), stops) for row in out[:, width:]]


def completion(tokens: list[int], stops: set[int]) -> Completion:
    """Tokens up to and including the first end token ("stop"); without one, the row ran to max_new_tokens
    ("length": generate pads only rows that have finished)."""
    for index, token in enumerate(tokens):
        if token in stops:
            return Completion(tokens[: index + 1], "stop")
    return Completion(tokens, "length")
