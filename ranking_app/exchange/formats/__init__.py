"""Other tools' formats: one module per format, holding its reader and its writer.

A reader is ``NAME``, ``mismatch(rows) -> reason | None`` (why the rows are not in its format,
None when they are) and ``convert(rows, options) -> records`` (exchange records, or
``ExchangeError`` listing every bad row): Label Studio, Argilla, UltraFeedback, TRL, OpenAssistant.
``to_exchange`` picks the reader (``auto`` sniffs the rows); the one import path
(``exchange.imports.import_file``) checks, limits and stores its records like any exchange file.
A writer is ``write(records, path) -> counts``, called by ``exchange.exports``: Label Studio,
TRL, ``pairs`` and ``hf`` (those two are written only). The exchange format itself, reader and
writer, is ``exchange.jsonl``.
"""

from __future__ import annotations

from ..jsonl import RECORD_KEYS, ExchangeError
from . import argilla, label_studio, oasst, trl, ultrafeedback
from .conversion import ImportOptions

ADAPTERS = {module.NAME: module for module in (label_studio, argilla, ultrafeedback, trl, oasst)}
FORMATS = ("auto", "exchange", *ADAPTERS)


def to_exchange(rows: list, format: str = "auto", options: ImportOptions | None = None) -> list:
    """The rows of a file in ``format`` as exchange records (unchanged for ``exchange``)."""
    options = options or ImportOptions()
    if format == "auto":
        format = sniff(rows)
    if format == "exchange":
        return rows
    if format not in ADAPTERS:
        raise ExchangeError([f"format: {format!r} is not one of {', '.join(FORMATS)}"])
    return ADAPTERS[format].convert(rows, options)


def sniff(rows: list) -> str:
    """The format of ``rows``, or ``ExchangeError`` naming every format tried and why it did not fit."""
    reasons = {"exchange": exchange_mismatch(rows)}
    if reasons["exchange"] is None:
        return "exchange"
    for name, module in ADAPTERS.items():
        reasons[name] = module.mismatch(rows)
        if reasons[name] is None:
            return name
    tried = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
    raise ExchangeError([f"format: not recognised (tried {tried}); choose one with --format"])


def exchange_mismatch(rows: list) -> str | None:
    first = next((row for row in rows if isinstance(row, dict)), None)
    if first is None:
        return None  # nothing to sniff: the exchange checks name what is wrong with each record
    if "prompt" in first and ("responses" in first or set(first) <= set(RECORD_KEYS)):
        return None  # with responses, or a prompt still waiting for them ({"id", "prompt"})
    return "records have no `prompt` and `responses`"


__all__ = ["FORMATS", "ImportOptions", "sniff", "to_exchange"]
