"""What every adapter shares: the options, per-row error collection and rank helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ...ranking import Ranks
from ..jsonl import USERNAME_RE, ExchangeError, record_label


@dataclass(frozen=True)
class ImportOptions:
    """Choices a foreign format cannot carry: Label Studio's bucket order (from its labeling
    config or given by name) and which UltraFeedback score ranks the completions."""

    label_config: str | None = None
    buckets: tuple[str, ...] = ()
    score: str = "overall"

    @classmethod
    def from_text(cls, *, label_config: str | None = None, buckets: str = "", score: str = "") -> ImportOptions:
        """Options as a form or the command line gives them (``buckets`` comma-separated)."""
        names = tuple(name.strip() for name in (buckets or "").split(",") if name.strip())
        return cls(label_config=label_config or None, buckets=names, score=(score or "").strip() or "overall")


class RowError(ValueError):
    """One bad foreign row: ``field: reason``."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")


def convert_rows(rows: Sequence, convert: Callable[[dict], dict | None], row_id: Callable[[dict], object]) -> list[dict]:
    """``convert`` every row (None skips it); raise ``ExchangeError`` listing every bad row as
    ``record N (id X): field: reason``."""
    records, errors = [], []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(f"record {number}: record: expected a JSON object")
            continue
        try:
            record = convert(row)
        except RowError as error:
            errors.append(f"{record_label(number, row_id(row))}: {error}")
            continue
        if record is not None:
            records.append(record)
    if errors:
        raise ExchangeError(errors)
    return records


def dense_ranks(scores: Sequence[float | None], *, higher_is_better: bool) -> Ranks:
    """Scores -> ranks (0 = best); equal scores tie, ``None`` stays unranked."""
    order = sorted({s for s in scores if s is not None}, reverse=higher_is_better)
    tier = {score: index for index, score in enumerate(order)}
    return [None if s is None else tier[s] for s in scores]


def ordered_ranks(groups: Iterable[Iterable[int]], n: int) -> Ranks:
    """Groups of positions, best first -> per-position ranks (positions in no group: unranked)."""
    ranks: Ranks = [None] * n
    for tier, group in enumerate(groups):
        for position in group:
            if ranks[position] is not None:
                raise RowError("ranking", f"response {position} is placed more than once")
            ranks[position] = tier
    return ranks


def username(value: object, prefix: str) -> str:
    """A foreign user reference as a username: itself when it is one, else ``prefix-value``."""
    if isinstance(value, dict):
        value = value.get("email") or value.get("username") or value.get("id")
    text = str(value)
    return text if USERNAME_RE.match(text) and not text.isdigit() else f"{prefix}-{text}"


def text_of(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RowError(field, "must be a non-empty string")
    return value
