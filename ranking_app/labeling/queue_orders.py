"""Where labelers go next: the order of a project's shared pool of open prompts.

``Project.queue_order`` picks one (the labeling queue in ``assignments`` applies it; the leases,
targets and locking stay the same for every order, so no order can push a prompt past its target):

* ``default``: fewest submitted rankings first (then oldest), so coverage grows evenly.
* ``disagreement``: prompts whose submitted rankings disagree most (lowest Kendall's W) come
  first, so their extra annotators arrive before new prompts get any; prompts with fewer than two
  rankings (no W yet) follow in the default order.
* ``model_uncertainty``: prompts where the latest tuned model of the project is least sure (the
  smallest gap between its two best response scores, from the newest evaluation that scored the
  prompt) come first; prompts no tuned model has scored follow in the default order. The training
  app supplies these keys (``training.uncertainty``, registered by ``order_keys_register`` when the
  app is ready): ranking_app never reaches into training.
* ``random``: a fixed random order per project (a hash of project and prompt ids), the same for
  every labeler, so that leases still spread over the pool.
"""

from __future__ import annotations

import hashlib
import math

from ..models import Project
from ..review.agreement_store import agreement_current

POOL_SIZE = 100


def pool_limit(project: Project) -> int | None:
    """How many open prompts (in default order) the pool is chosen from: all of them for orders
    that rank the whole project."""
    return POOL_SIZE if project.queue_order == Project.QueueOrder.DEFAULT else None


def ordered_pool(project: Project, ids: list[int]) -> list[int]:
    """``ids`` (open prompts, default order) in the project's queue order, at most ``POOL_SIZE``."""
    key = ORDER_KEYS.get(project.queue_order)
    if key is None:
        return ids[:POOL_SIZE]
    values = key(project, ids)
    position = {pk: i for i, pk in enumerate(ids)}
    return sorted(ids, key=lambda pk: (values.get(pk, math.inf), position[pk]))[:POOL_SIZE]


def disagreement_keys(project: Project, ids: list[int]) -> dict[int, float]:
    """Kendall's W of each prompt with two or more submitted rankings (lower: more disagreement)."""
    wanted = set(ids)
    items = agreement_current(project=project, with_queue=False).items
    return {
        item["prompt_id"]: item["kendall_w"]
        for item in items
        if item["prompt_id"] in wanted and item["kendall_w"] is not None and item["n_annotators"] >= 2
    }


def random_keys(project: Project, ids: list[int]) -> dict[int, float]:
    def draw(pk: int) -> float:
        digest = hashlib.sha256(f"{project.pk}:{project.created_at.timestamp()}:{pk}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    return {pk: draw(pk) for pk in ids}


# order -> the function giving each prompt's sort key (lower first); an order without one (the
# default, or model_uncertainty while no app supplies it) keeps the default order.
ORDER_KEYS = {
    Project.QueueOrder.DISAGREEMENT: disagreement_keys,
    Project.QueueOrder.RANDOM: random_keys,
}


def order_keys_register(order: str, keys) -> None:
    """Let another app supply the keys of ``order`` (``keys(project, ids) -> {prompt id: key}``)."""
    ORDER_KEYS[order] = keys
