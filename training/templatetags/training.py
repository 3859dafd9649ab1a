"""Filters of the job pages: `{% load training %}`."""

from datetime import timedelta
from pathlib import PurePath

from django import template

register = template.Library()


@register.filter
def duration_short(value: timedelta | None) -> str:
    """1h 02m, 3m 05s, 42s."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@register.filter
def short_model(name: str) -> str:
    """A local model folder shows as its last two parts; a hub id as is."""
    parts = PurePath(name or "").parts
    return "/".join(parts[-2:]) if name and name.startswith("/") else name


@register.filter
def basename(path: str) -> str:
    return PurePath(path or "").name


@register.filter
def change_class(change) -> str:
    """All evaluation metrics are higher-is-better."""
    if change is None:
        return ""
    if change > 1e-9:
        return "better"
    if change < -1e-9:
        return "worse"
    return "same"


@register.filter
def signed(value) -> str:
    return "" if value is None else f"{value:+.3f}"


@register.filter
def interval(row, side: str) -> str:
    """"[0.512, 0.734]" from row[side + "_low"] / row[side + "_high"] ("change_ci": a paired change's own
    "low" / "high", as a verdict stores them); "" when there is none."""
    prefix = "" if side == "change_ci" else f"{side}_"
    low, high = (row or {}).get(f"{prefix}low"), (row or {}).get(f"{prefix}high")
    if low is None or high is None:
        return ""
    return f"[{low:+.3f}, {high:+.3f}]" if side.startswith("change") else f"[{low:.3f}, {high:.3f}]"


METRIC_NAMES = {
    "accuracy": "top-1 accuracy", "ndcg": "nDCG", "mrr": "MRR", "kendall_tau": "Kendall tau-b",
    "pairwise_accuracy": "pairwise accuracy", "adjacent_pair_accuracy": "adjacent-tier pair accuracy",
}  # fmt: skip


@register.filter
def metric_label(key: str | None) -> str:
    """The words of an evaluation metric's key (the verdict's ``metric``)."""
    return METRIC_NAMES.get(key or "pairwise_accuracy", key or "")


@register.filter
def percent(value) -> str:
    """0.125 -> "12.5%"; "–" when unknown."""
    return "–" if value is None else f"{100 * value:.1f}%"


@register.filter
def fields_with_errors(form) -> list:
    """The bound fields of ``form`` that carry an error, in the form's order (for a summary at its top)."""
    return [field for field in form if field.errors]
