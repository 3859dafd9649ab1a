"""Token budget: micro-batches of whole groups filled by tokens processed (padding included).

Groups are sorted by row length so neighbours pad little, then cut into micro-batches whose
``rows x longest row`` stays within ``max_tokens_per_batch``. A group is never split; a group over
the budget on its own forms a micro-batch alone (with a warning). The micro-batches are fixed once;
each epoch visits them in a new seeded order. The loss of a micro-batch is the weighted mean over its
pairs, whatever rows the groups were packed into.
"""

from __future__ import annotations

import logging

import torch
from torch.utils.data import Sampler

from .packing import packed_length, unpacked_length

logger = logging.getLogger(__name__)


def group_rows(group: dict, prefix_sharing: bool) -> tuple[int, int]:
    """(rows, row length) of a group as the collator lays it out."""
    if prefix_sharing:
        return 1, packed_length(group)
    return len(group["response_ids"]), unpacked_length(group)


def batch_tokens(groups: list[dict], prefix_sharing: bool) -> tuple[int, int]:
    """(tokens processed including padding, real tokens) of one micro-batch."""
    shapes = [group_rows(g, prefix_sharing) for g in groups]
    processed = sum(rows for rows, _ in shapes) * max(length for _, length in shapes)
    if prefix_sharing:
        real = sum(length for _, length in shapes)
    else:
        real = sum(len(g["prompt_ids"]) + len(r) for g in groups for r in g["response_ids"])
    return processed, real


def token_budget_batches(groups: list[dict], max_tokens: int, prefix_sharing: bool) -> list[list[int]]:
    """Indices of ``groups`` cut into micro-batches of at most ``max_tokens`` processed tokens each."""
    shapes = [group_rows(g, prefix_sharing) for g in groups]
    order = sorted(range(len(groups)), key=lambda i: (shapes[i][1], i))
    batches: list[list[int]] = []
    current, rows = [], 0
    for index in order:
        group_rows_, length = shapes[index]
        if current and (rows + group_rows_) * length > max_tokens:
            batches.append(current)
            current, rows = [], 0
        current.append(index)
        rows += group_rows_
    if current:
        batches.append(current)
    for batch in batches:
        tokens = shapes[batch[0]][0] * shapes[batch[0]][1]
        if len(batch) == 1 and tokens > max_tokens:
            group_id = groups[batch[0]].get("id", batch[0])
            logger.warning("group %s: %d tokens exceed max_tokens_per_batch=%d; it trains alone", group_id, tokens,
                           max_tokens)
    return batches


def padding_share(groups: list[dict], batches: list[list[int]], prefix_sharing: bool) -> float:
    """Fraction of the processed tokens that are padding, over all micro-batches."""
    totals = [batch_tokens([groups[i] for i in batch], prefix_sharing) for batch in batches]
    processed = sum(p for p, _ in totals)
    return 1 - sum(r for _, r in totals) / processed if processed else 0.0


class EpochOrder(Sampler[int]):
    """Indices 0..n-1, in a new seeded order each epoch (seed + epoch) when ``shuffle``."""

    def __init__(self, n: int, *, seed: int = 0, shuffle: bool = True):
        self.n, self.seed, self.shuffle, self.epoch = n, seed, shuffle, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        if not self.shuffle:
            return iter(range(self.n))
        return iter(torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed + self.epoch)).tolist())


class TokenBudgetBatchSampler(Sampler[list[int]]):
    """Yields the fixed micro-batches in the order of its ``sampler`` (an ``EpochOrder``), new each epoch.

    Built like torch's ``BatchSampler`` (a ``sampler`` with ``set_epoch`` inside): under DDP, accelerate
    wraps it in a ``BatchSamplerShard``, and ``DataLoaderShard.set_epoch`` reaches the epoch through
    ``batch_sampler.batch_sampler.sampler``, so every process reshuffles each epoch in the same order.
    """

    batch_size = None  # variable-size batches (accelerate's BatchSamplerShard then shards them as lists)

    def __init__(self, batches: list[list[int]], *, seed: int = 0, shuffle: bool = True):
        self.batches = batches
        self.sampler = EpochOrder(len(batches), seed=seed, shuffle=shuffle)

    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        for index in self.sampler:
            yield list(self.batches[index])
