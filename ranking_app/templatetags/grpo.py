"""Filters of every page: `{% load grpo %}`.

The one place for how figures look: ``figure`` (a number with fixed decimals, a dash when there
is none), ``dash`` (a dash for a missing value) and ``tau_class`` (the colour band of a tau-b).
"""

import math

from django import template
from django.template.defaultfilters import floatformat
from django.utils.safestring import mark_safe

from ..markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    """Sanitized Markdown (raw HTML is never rendered)."""
    return mark_safe(render_markdown(text))  # noqa: S308 - nh3 has sanitized it


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


DASH = "–"
TAU_LOW = 0.5  # tau-b below this (but not negative) is shown as weak agreement


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and not math.isfinite(value))


@register.filter
def dash(value):
    """The value, or a dash when it is missing (None or empty)."""
    return DASH if _missing(value) else value


@register.filter
def figure(value, digits: int = 3) -> str:
    """A figure with ``digits`` decimals (``{{ w|figure }}``, ``{{ tau|figure:2 }}``); a dash when missing."""
    return DASH if _missing(value) else floatformat(value, digits)


@register.filter
def tau_class(value) -> str:
    """CSS class of a tau-b cell: ``neg`` below 0, ``low`` below ``TAU_LOW``, none otherwise."""
    if _missing(value):
        return ""
    if value < 0:
        return "neg"
    return "low" if value < TAU_LOW else ""
