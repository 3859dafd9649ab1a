"""Watching the policy drift from the reference while it trains (docs/training.md, "Drift monitoring").

Each step (averaged over a logging interval, like the loss): the implicit reward
beta * (log pi - log pi_ref) of the best and of the worst tier, and the mean token log-prob of the
best-tier responses under the policy and under the reference. Likelihood displacement shows as the
policy's curve falling while the reward margin grows. Every ``eval_steps`` a KL estimate: completions
of held-out prompts sampled from the policy, and the mean over samples of
sum_t (log pi(y_t) - log pi_ref(y_t)), a Monte-Carlo estimate of KL(pi || pi_ref) per completion.
"""

from __future__ import annotations

import math

import torch
from transformers import TrainerCallback

from .modeling import response_logps

DRIFT_KEYS = ("reward_best", "reward_worst", "logp_best_policy", "logp_best_reference", "kl")
KL_MAX_NEW_TOKENS = 64


def drift_totals(policy: torch.Tensor, ref: torch.Tensor, ranks: torch.Tensor, token_counts: torch.Tensor,
                 beta: float) -> torch.Tensor:
    """(6,) sums over a batch's (G, K) grid, to be summed across processes and read by ``drift_means``:
    best-tier reward and count, worst-tier reward and count, best-tier mean token log-prob under the
    policy and under the reference."""
    ranked = ranks >= 0
    worst = ranks.masked_fill(~ranked, -1).amax(dim=1, keepdim=True)
    best_mask, worst_mask = (ranks == 0) & ranked, (ranks == worst) & ranked
    rewards = beta * (policy - ref)
    counts = token_counts.clamp(min=1)
    return torch.stack([
        (rewards * best_mask).sum(), best_mask.sum(), (rewards * worst_mask).sum(), worst_mask.sum(),
        (policy / counts * best_mask).sum(), (ref / counts * best_mask).sum(),
    ]).float()  # fmt: skip


def drift_means(totals: torch.Tensor) -> dict[str, float]:
    """The logged figures from ``drift_totals`` (summed over processes)."""
    best, worst = max(totals[1].item(), 1.0), max(totals[3].item(), 1.0)
    return {
        "reward_best": totals[0].item() / best,
        "reward_worst": totals[2].item() / worst,
        "logp_best_policy": totals[4].item() / best,
        "logp_best_reference": totals[5].item() / best,
    }


def kl_interval(eval_steps: float | None, max_steps: int) -> int:
    """Steps between KL estimates: ``eval_steps`` (a fraction of the run when < 1), default 4 per run."""
    if eval_steps is None:
        return max(1, max_steps // 4)
    if eval_steps < 1:
        return max(1, math.ceil(eval_steps * max_steps))
    return int(eval_steps)


@torch.no_grad()
def estimate_kl(model, prompts: list[list[int]], samples: int, seed: int, pad_token_id: int) -> float:
    """Mean over ``samples`` completions (``prompts`` in turn, sampled from ``model`` at temperature 1,
    at most ``KL_MAX_NEW_TOKENS``) of their summed log pi - log pi_ref (the adapter switched off).
    The training random state is left untouched."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    values = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for index in range(samples):
            prompt = torch.tensor([prompts[index % len(prompts)]], device=device)
            sequence = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=True,
                                      top_k=0, top_p=1.0, temperature=1.0, max_new_tokens=KL_MAX_NEW_TOKENS,
                                      pad_token_id=pad_token_id)
            mask = torch.ones_like(sequence)
            completion = torch.zeros_like(sequence)
            completion[:, prompt.size(1) :] = 1
            policy = response_logps(model, sequence, mask, completion)
            with model.disable_adapter():
                reference = response_logps(model, sequence, mask, completion)
            values.append((policy - reference).item())
    model.train(was_training)
    return sum(values) / len(values)


class KLCallback(TrainerCallback):
    """Every ``kl_interval`` steps, appends ``estimate_kl`` to ``metrics["kl"]`` (logged with the next log)."""

    def __init__(self, prompts: list[list[int]], samples: int, eval_steps: float | None, seed: int,
                 pad_token_id: int, metrics: dict):
        self.prompts, self.samples, self.eval_steps, self.seed = prompts, samples, eval_steps, seed
        self.pad_token_id, self.metrics = pad_token_id, metrics
        self.every = 1

    def on_train_begin(self, args, state, control, **kwargs):
        self.every = kl_interval(self.eval_steps, state.max_steps)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.samples and self.prompts and state.global_step % self.every == 0:
            seed = self.seed + state.global_step
            self.metrics["kl"].append(estimate_kl(model, self.prompts, self.samples, seed, self.pad_token_id))
        return control
