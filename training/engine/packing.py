"""Prefix sharing: each group becomes one packed row that encodes its prompt once.

Row layout: ``prompt[:-1]``, then for each response a *segment* ``[prompt[-1]] + response``. The last
prompt token is repeated at the head of every segment (at the same position id), so each response's
first token is predicted from a hidden state that saw exactly the prompt, as in the unpacked row. A
4-D attention mask lets the shared prompt attend causally to itself and each segment attend to the
shared prompt and causally to itself only; position ids of a segment continue from the prompt, so
every response sees exactly what it saw unpacked. Cost: P - 1 + sum(len(response) + 1) tokens per
group instead of K * (P + mean response length).

The mask is a plain 4-D tensor that transformers hands to SDPA (or eager attention) as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data import GroupCollator, group_grid_tensors
from .modeling import response_logps

ATTENTION_WITH_4D_MASK = ("sdpa", "eager")
PADDING, SHARED = -1, 0


def packed_length(group: dict) -> int:
    """Tokens of a group's packed row."""
    prompt = len(group["prompt_ids"])
    head = 1 if prompt else 0
    return max(prompt - 1, 0) + sum(head + len(r) for r in group["response_ids"])


def unpacked_length(group: dict) -> int:
    """Length of the longest unpacked row (prompt + response) of a group."""
    return len(group["prompt_ids"]) + max(len(r) for r in group["response_ids"])


def _pack_one(group: dict, first_response: int) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """ids, position ids, segment ids (0 shared, s + 1 segment s), shift labels and response index per token."""
    prompt = group["prompt_ids"]
    shared, head = prompt[:-1], prompt[-1:]
    ids, positions = list(shared), list(range(len(shared)))
    segments, labels, owner = [SHARED] * len(shared), [-100] * len(shared), [-1] * len(shared)
    for slot, response in enumerate(group["response_ids"]):
        segment = head + response
        ids += segment
        positions += range(len(shared), len(shared) + len(segment))
        segments += [slot + 1] * len(segment)
        labels += segment[1:] + [-100]
        owner += [first_response + slot] * (len(segment) - 1) + [-1]
    return ids, positions, segments, labels, owner


def prefix_sharing_mask(segments: torch.Tensor) -> torch.Tensor:
    """Boolean (G, 1, T, T) from segment ids (G, T): True where query q may attend to key k.

    Causal; a key in the shared prompt (0) is visible to every query, a segment's key only to its own
    segment; padding (-1) sees only itself (a fully masked query row would give NaN in SDPA).
    """
    index = torch.arange(segments.size(1), device=segments.device)
    causal = index.view(1, -1, 1) >= index.view(1, 1, -1)
    query, key = segments.unsqueeze(2), segments.unsqueeze(1)
    visible = ((key == SHARED) | (key == query)) & (key != PADDING) & (query != PADDING)
    itself = torch.eye(segments.size(1), dtype=torch.bool, device=segments.device).unsqueeze(0)
    return ((causal & visible) | itself).unsqueeze(1)


@dataclass
class PrefixSharingCollator:
    """Batches whole groups as packed rows (one per group), right-padded.

    Returns ``input_ids``/``position_ids``/``segment_ids``/``shift_labels``/``response_index`` (G, T)
    (``shift_labels[t]`` is the token predicted at t, ``response_index[t]`` the response it belongs
    to, -1 elsewhere), and like ``GroupCollator`` ``group_index``/``slot_index`` (N,) plus
    ``ranks``/``token_counts``/``ref_logps`` (G, K). The 4-D mask is built on the device.
    """

    pad_token_id: int

    def __call__(self, groups: list[dict]) -> dict[str, torch.Tensor]:
        packed, group_index, slot_index, first = [], [], [], 0
        for g_index, group in enumerate(groups):
            packed.append(_pack_one(group, first))
            k = len(group["response_ids"])
            group_index += [g_index] * k
            slot_index += range(k)
            first += k
        length = max(len(p[0]) for p in packed)
        fills = (self.pad_token_id, 0, PADDING, -100, -1)
        names = ("input_ids", "position_ids", "segment_ids", "shift_labels", "response_index")
        batch = {name: torch.full((len(groups), length), fill, dtype=torch.long) for name, fill in zip(names, fills, strict=True)}
        for row, columns in enumerate(packed):
            for name, values in zip(names, columns, strict=True):
                batch[name][row, : len(values)] = torch.tensor(values, dtype=torch.long)
        batch["group_index"] = torch.tensor(group_index, dtype=torch.long)
        batch["slot_index"] = torch.tensor(slot_index, dtype=torch.long)
        batch.update(group_grid_tensors(groups))
        return batch


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """0 where allowed, the dtype's most negative value elsewhere (what eager and SDPA attention add)."""
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)


def packed_response_logps(model, batch: dict) -> torch.Tensor:
    """(N,) summed log-prob of every response of a ``PrefixSharingCollator`` batch."""
    outputs = model(input_ids=batch["input_ids"], attention_mask=_attention_mask(model, batch["segment_ids"]),
                    position_ids=batch["position_ids"], shift_labels=batch["shift_labels"], fused_lm_head=True,
                    use_cache=False)
    owner = batch["response_index"].reshape(-1)
    scored = owner >= 0
    per_token = outputs.log_probs.reshape(-1)[scored]
    return per_token.new_zeros(batch["group_index"].numel()).index_add(0, owner[scored], per_token)


def _attention_mask(model, segments: torch.Tensor) -> torch.Tensor:
    """Boolean 4-D mask for SDPA (any query dtype, autocast included); additive for eager attention."""
    inner = model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
    allowed = prefix_sharing_mask(segments)
    if getattr(inner.config, "_attn_implementation", None) == "sdpa":
        return allowed
    return additive_mask(allowed, inner.get_input_embeddings().weight.dtype)


def resolve_prefix_sharing(setting: str, model, groups: list[dict] | None = None) -> bool:
    """Whether to pack: "on"/"off" as given ("on" with an attention that cannot take a 4-D mask is an
    error); "auto" packs with SDPA or eager attention when the FLOP estimate says it pays off on ``groups``."""
    implementation = getattr(model.config, "_attn_implementation", None) or "eager"
    supported = implementation in ATTENTION_WITH_4D_MASK
    if setting == "on" and not supported:
        raise ValueError(f"prefix_sharing: 'on' needs attention that takes a 4-D mask ({', '.join(ATTENTION_WITH_4D_MASK)}); "
                         f"the model uses {implementation!r}")
    if setting != "auto":
        return setting == "on"
    return supported and (not groups or packing_pays_off(groups, model.config))


def packing_pays_off(groups: list[dict], config) -> bool:
    """True when packed rows cost fewer FLOPs than one row per response over ``groups``.

    Packing saves the (K - 1) repeated prompts but makes one long row whose attention, computed over
    all T x T query/key pairs whatever the mask, grows with T squared: on short prompts with many
    responses and a narrow model the quadratic term can outweigh the saving.
    """
    hidden, layers = config.hidden_size, config.num_hidden_layers
    kv = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    per_token = 2 * layers * (2 * hidden * hidden + 2 * hidden * kv * head_dim + 3 * hidden * config.intermediate_size)
    per_token += 2 * config.vocab_size * hidden

    def cost(tokens: int) -> float:
        return tokens * per_token + 4 * layers * hidden * tokens**2

    packed = sum(cost(packed_length(g)) for g in groups)
    unpacked = sum(cost(len(g["prompt_ids"]) + len(r)) for g in groups for r in g["response_ids"])
    return packed < unpacked


def batch_response_logps(model, batch: dict) -> torch.Tensor:
    """(N,) summed response log-probs of a batch from either collator (packed or one row per response)."""
    if "segment_ids" in batch:
        return packed_response_logps(model, batch)
    return response_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])


def make_collator(prefix_sharing: bool, pad_token_id: int):
    """The packed collator when prefix sharing is on, else one row per response."""
    return (PrefixSharingCollator if prefix_sharing else GroupCollator)(pad_token_id=pad_token_id)
