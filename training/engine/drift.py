"""Watching the policy drift from the reference while it trains (docs/training.md, "Drift monitoring").

Each step (averaged over a logging interval, like the loss): the implicit reward
beta * (log pi - log pi_ref) of the best and of the worst tier, and the mean token log-prob of the
best-tier responses under the policy and under the reference. Likelihood displacement shows as the
policy's curve falling while the reward margin grows. Every ``eval_steps`` a KL estimate: completions
of held-out prompts sampled from the policy, and the mean over samples of
sum_t (log pi(y_t) - log pi_ref(y_t)), a Monte-Carlo estimate of KL(pi || pi_ref) per completion,
with its standard error (sample standard deviation / sqrt(samples)). The completions are sampled from
the policy itself: temperature 1, top_p 1, top_k off, no repetition penalty (``KL_SAMPLING``, passed
explicitly, never the model's generation_config). The estimates' share of the run's time is logged;
an estimate that would take that share past ``KL_TIME_BUDGET`` is skipped (never the first).
"""

from __future__ import annotations

import logging
import math
import time

import torch
from transformers import TrainerCallback

from .modeling import response_logps
from .sampling import SamplingParameters, sample_hf_batch

logger = logging.getLogger(__name__)

DRIFT_KEYS = ("reward_best", "reward_worst", "logp_best_policy", "logp_best_reference", "kl", "kl_se")
KL_MAX_NEW_TOKENS = 64
KL_SAMPLING = SamplingParameters(temperature=1.0, top_p=1.0, top_k=0, repetition_penalty=1.0,
                                 max_new_tokens=KL_MAX_NEW_TOKENS)
KL_TIME_BUDGET = 0.10  # at most this share of the run's time goes to KL estimates


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
def estimate_kl(model, prompts: list[list[int]], samples: int, seed: int, pad_token_id: int,
                eos_token_id=None) -> dict[str, float]:
    """Over ``samples`` completions (``prompts`` in turn, sampled in one batch from ``model`` with
    ``KL_SAMPLING``) of summed log pi - log pi_ref (the adapter switched off): ``kl`` (the mean), ``kl_se``
    (its standard error; 0 from one sample) and ``kl_length_share`` (completions cut by max_new_tokens).
    The training random state is left untouched."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chosen = [prompts[index % len(prompts)] for index in range(samples)]
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        sampled = sample_hf_batch(model, chosen, KL_SAMPLING, pad_token_id=pad_token_id,
                                  eos_token_id=eos_token_id if eos_token_id is not None else pad_token_id)
    values = _log_ratios(model, chosen, [s.tokens for s in sampled], pad_token_id, device)
    model.train(was_training)
    se = values.std(unbiased=True).item() / math.sqrt(samples) if samples > 1 else 0.0
    return {"kl": values.mean().item(), "kl_se": se,
            "kl_length_share": sum(s.finish_reason == "length" for s in sampled) / samples}


def _log_ratios(model, prompts: list[list[int]], completions: list[list[int]], pad_token_id: int,
                device) -> torch.Tensor:
    """(samples,) summed log pi - log pi_ref of each completion after its prompt (right-padded batch)."""
    rows = [p + c for p, c in zip(prompts, completions, strict=True)]
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long, device=device)
    mask, completion = torch.zeros_like(input_ids), torch.zeros_like(input_ids)
    for row, (prompt, tokens) in enumerate(zip(prompts, rows, strict=True)):
        input_ids[row, : len(tokens)] = torch.tensor(tokens, device=device)
        mask[row, : len(tokens)] = 1
        completion[row, len(prompt) : len(tokens)] = 1
    policy = response_logps(model, input_ids, mask, completion)
    with model.disable_adapter():
        reference = response_logps(model, input_ids, mask, completion)
    return (policy - reference).double().cpu()


class KLCallback(TrainerCallback):
    """Every ``kl_interval`` steps, puts ``estimate_kl``'s figures in ``metrics`` (logged at that step) while
    the estimates' share of the run's time (``time_share``) stays within ``KL_TIME_BUDGET``."""

    def __init__(self, prompts: list[list[int]], samples: int, eval_steps: float | None, seed: int,
                 pad_token_id: int, metrics: dict, eos_token_id=None):
        self.prompts, self.samples, self.eval_steps, self.seed = prompts, samples, eval_steps, seed
        self.pad_token_id, self.eos_token_id, self.metrics = pad_token_id, eos_token_id, metrics
        self.every = 1
        self.started = time.perf_counter()
        self.seconds, self.estimates, self.skipped = 0.0, 0, 0

    @property
    def time_share(self) -> float:
        return self.seconds / max(time.perf_counter() - self.started, 1e-9)

    def on_train_begin(self, args, state, control, **kwargs):
        self.every = kl_interval(self.eval_steps, state.max_steps)
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if not (self.samples and self.prompts and state.global_step % self.every == 0):
            return control
        if self.estimates and self.time_share > KL_TIME_BUDGET:
            self.skipped += 1
            logger.info("KL estimate at step %d skipped: estimates took %.0f%% of the run", state.global_step,
                        100 * self.time_share)
            return control
        began = time.perf_counter()
        figures = estimate_kl(model, self.prompts, self.samples, self.seed + state.global_step, self.pad_token_id,
                              self.eos_token_id)
        self.seconds += time.perf_counter() - began
        self.estimates += 1
        self.metrics.update({"kl": figures["kl"], "kl_se": figures["kl_se"], "kl_time_share": self.time_share})
        control.should_log = True
        return control

    def summary(self) -> dict:
        """What the run reports about its KL estimates."""
        return {"kl_estimates": self.estimates, "kl_estimates_skipped": self.skipped,
                "kl_time_share": self.time_share if self.estimates else 0.0, "kl_sampling": KL_SAMPLING.record()}
