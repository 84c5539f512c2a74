"""KPI cards: a figure, its change against the previous period, coloured by what is good news."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.components.formatting import Kind, format_delta, format_value

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    """One card: ``keys`` are the KPI figures it adds up (one, or e.g. refunds + disputes).

    ``higher_is_better`` decides the delta's colour: green for good news, red for bad, grey
    when neither (``None``).
    """

    label: str
    keys: tuple[str, ...]
    kind: Kind
    higher_is_better: bool | None
    help: str
    pending: str | None = None  # why the figure is not available yet

    def value(self, figures: Mapping[str, Any]) -> int | float | None:
        values = [figures.get(k) for k in self.keys]
        if any(v is None for v in values):
            return None
        return values[0] if len(values) == 1 else sum(values)

    @property
    def delta_color(self) -> str:
        if self.higher_is_better is None:
            return "off"
        return "normal" if self.higher_is_better else "inverse"


@dataclass(frozen=True)
class CardText:
    label: str
    value: str
    delta: str | None
    delta_color: str
    help: str


def card_text(card: Card, current: Mapping[str, Any], previous: Mapping[str, Any], currency: str) -> CardText:
    """What a card shows for these figures (pure, for tests)."""
    value = card.value(current)
    delta = None if card.pending else format_delta(value, card.value(previous), card.kind)
    help_text = card.help if not card.pending else f"{card.help} {card.pending}"
    return CardText(card.label, format_value(value, card.kind, currency), delta, card.delta_color, help_text)


def draw_cards(cards: Sequence[Card], current: Mapping[str, Any], previous: Mapping[str, Any], currency: str,
               per_row: int = 4) -> None:
    """Cards in rows of ``per_row`` equal columns, each with its change against the previous period."""
    import streamlit as st

    for start in range(0, len(cards), per_row):
        row = cards[start:start + per_row]
        columns = st.columns(per_row, gap="small")
        for column, card in zip(columns, row):
            text = card_text(card, current, previous, currency)
            compared = text.delta is not None
            unchanged = compared and text.delta.lstrip("+-").startswith("0.0")
            # Every card keeps a delta line, so that the cards of a row stay aligned.
            column.metric(
                text.label,
                text.value,
                delta=(text.delta.lstrip("+-") if unchanged else text.delta) if compared else "—",
                delta_color=text.delta_color if compared and not unchanged else "off",
                delta_arrow="auto" if compared and not unchanged else "off",
                help=text.help,
                border=True,
                delta_description=None if compared else ("not available yet" if card.pending else "no comparison"),
            )
