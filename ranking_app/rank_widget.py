"""The reusable rank widget: display order, template context and the POST it sends back.

The widget (``templates/ranking_app/labeling/_rank_widget.html`` + ``static/js/rank.js``) shows
responses as cards that are dragged (or moved with keys) into ordered tiers and an unranked
tray. With JavaScript it posts the ranking itself, tiers of positions, in the field ``tiers``;
without JavaScript it is a plain form: one ``<select name="rank_<position>">`` per response holding
a tier number (1 = best) or nothing (unranked), read into the same tiers at once:

    context = build_rank_widget(responses=shown, tiers=stored, allow_ties=..., allow_partial=...,
                                action=url, version=ranking_version)
    {% include "ranking_app/labeling/_rank_widget.html" with widget=context %}
    tiers = tiers_from_post(request.POST, n_responses)   # canonical positions, best first

``<position>`` is always the canonical response position; only the order of the cards on
screen is shuffled (see ``ranking_app.cards.display_order``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from . import safe_json
from .cards import card_label
from .ranking import RankingError, Tiers, ranks_to_tiers, tiers_errors, tiers_to_ranks
from .safe_json import whole_number

FIELD_PREFIX = "rank_"  # the no-JS form: one tier number per response
TIERS_FIELD = "tiers"  # rank.js: the ranking itself


@dataclass
class RankCard:
    position: int
    label: str
    text: str
    tier: int | None  # 1-based tier number, None when unranked
    source: str = ""


@dataclass
class RankTier:
    number: int
    cards: list[RankCard]

    @property
    def name(self) -> str:
        return "Best" if self.number == 1 else str(self.number)


@dataclass
class RankWidget:
    uid: str
    action: str
    version: int
    cards: list[RankCard]
    tiers: list[RankTier]
    unranked: list[RankCard]
    allow_ties: bool
    allow_partial: bool
    autosave_url: str = ""
    submit_label: str = "Submit ranking"
    draft_button: bool = False
    hx_target: str = ""
    extra_template: str = ""
    keyboard: bool = True
    autofocus: bool = False
    errors: list[str] = field(default_factory=list)
    show_sources: bool = False

    @property
    def tier_choices(self) -> range:
        return range(1, len(self.cards) + 1)


def build_rank_widget(
    *,
    responses: Sequence,
    tiers: Tiers,
    allow_ties: bool,
    allow_partial: bool,
    action: str,
    version: int,
    uid: str = "rank",
    **options,
) -> RankWidget:
    """Template context for ``_rank_widget.html``.

    ``responses`` are objects with ``position`` and ``text`` (and optionally ``source``), in the
    order to show them; ``tiers`` are stored tiers of canonical positions, best first. Options:
    ``autosave_url`` (drafts are POSTed there after each change), ``submit_label``,
    ``draft_button`` (a "Save draft" button for the no-JS form), ``hx_target`` (submit through
    htmx and swap that element), ``extra_template`` (included inside the form, before the
    buttons, with the page's context), ``keyboard`` (page-wide shortcuts; one widget per page),
    ``autofocus`` (focus the first card on load), ``errors`` and ``show_sources``.
    """
    cards = rank_cards(responses, tiers)
    n_tiers = max((c.tier for c in cards if c.tier is not None), default=0)
    tier_rows = [RankTier(number=n, cards=[c for c in cards if c.tier == n]) for n in range(1, n_tiers + 1)]
    return RankWidget(
        uid=uid,
        action=action,
        version=version,
        cards=cards,
        tiers=tier_rows,
        unranked=[c for c in cards if c.tier is None],
        allow_ties=allow_ties,
        allow_partial=allow_partial,
        **options,
    )


def rank_cards(responses: Sequence, tiers: Tiers) -> list[RankCard]:
    """One card per response, in the given order, labelled A, B, ... with its 1-based tier."""
    ranks = tiers_to_ranks(tiers, len(responses))
    return [
        RankCard(
            position=r.position,
            label=card_label(i),
            text=r.text,
            tier=None if ranks[r.position] is None else ranks[r.position] + 1,
            source=getattr(r, "source", ""),
        )
        for i, r in enumerate(responses)
    ]


def tiers_from_post(data: Mapping, n_responses: int) -> Tiers:
    """The posted ranking as tiers of canonical positions, best first.

    rank.js posts the ranking itself in the field ``tiers`` (JSON, ``[[2], [0, 3], [1]]``); the form
    without JavaScript posts ``rank_<position>`` tier numbers (from 1, empty = unranked), read here
    into the same tiers. Only the field's shape is read here; the project's rules are checked once,
    by ``ranking.validate_tiers`` when the ranking is stored. Raises ``RankingError`` naming each bad field.
    """
    raw = str(data.get(TIERS_FIELD, "") or "").strip()
    if raw:
        return _tiers_field(raw, n_responses)
    return _tiers_from_rank_fields(data, n_responses)


def _tiers_field(raw: str, n_responses: int) -> Tiers:
    try:
        tiers = safe_json.loads(raw, max_depth=2)
    except ValueError as exc:  # JSONDecodeError and JsonInputError alike
        raise RankingError([f"{TIERS_FIELD}: not a JSON list of tiers ({exc})"]) from None
    errors = tiers_errors(tiers, n_responses)
    if errors:
        raise RankingError([f"{TIERS_FIELD}: {error}" for error in errors])
    return tiers


def _tiers_from_rank_fields(data: Mapping, n_responses: int) -> Tiers:
    ranks: list[int | None] = []
    errors = []
    for position in range(n_responses):
        raw = str(data.get(f"{FIELD_PREFIX}{position}", "") or "").strip()
        if raw == "":
            ranks.append(None)
            continue
        value = whole_number(raw, n_responses)  # ASCII digits only: "٣" is not 3
        if value is None or value < 1:
            errors.append(f"{FIELD_PREFIX}{position}: tier must be a number from 1 to {n_responses} (got {raw!r})")
        ranks.append(value)
    if errors:
        raise RankingError(errors)
    return ranks_to_tiers(ranks)
