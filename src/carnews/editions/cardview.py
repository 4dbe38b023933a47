"""The story card as readers see it: its sections in order, with their headings, and the
labels of its badges.

Pure: a stored :class:`~carnews.explain.card.Card` in, what the templates print out. The
email, the text email, the archive page and the feeds all read a card through here, so
they show the same headings in the same order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from carnews.explain.card import Card

log = logging.getLogger("carnews.render")

SOURCE_KIND_LABELS = {
    "peer-reviewed journal": "Peer-reviewed journal",
    "preprint": "Preprint: not yet checked by other scientists",
    "press release": "Press release: the company's own account",
    "trial registry": "Trial registry",
    "regulator": "Medicines regulator",
    "news site": "News site",
    "patient organisation": "Patient organisation",
}
NO_SIDE_EFFECTS = "The report does not describe side effects."


@dataclass(frozen=True)
class CardSection:
    """One heading of the card and what it says: a sentence or two, or a list."""

    title: str
    text: str = ""
    items: tuple[str, ...] = ()


def card_sections(card: Card) -> tuple[CardSection, ...]:
    """The card's sections in the order every artefact shows them; empty ones left out.

    A card with no side-effects section is one whose source says nothing about safety,
    and the reader is told so rather than left to guess.
    """
    sections = (
        CardSection("What was tested", card.what_was_tested),
        CardSection("Who took part", card.who_took_part),
        CardSection("What happened", card.what_happened),
        CardSection("Side effects", card.side_effects or NO_SIDE_EFFECTS),
        CardSection("What we don't know yet", items=tuple(u for u in card.unknowns if u)),
        CardSection("What it means for you", card.what_it_means),
    )
    return tuple(s for s in sections if s.text.strip() or s.items)


def stored_card(*stored: Mapping[str, Any] | None) -> Card | None:
    """The first of ``stored`` that is a card (an edition's own copy, then the story's);
    None when there is none, so an older story renders from its summary."""
    for value in stored:
        if not value:
            continue
        try:
            return Card.from_dict(dict(value))
        except TypeError:  # a card stored without a section it needs: not shown half
            log.warning("a stored card without all its sections was left out: %r",
                        sorted(value))  # fmt: skip
    return None


def source_kind_label(value: str | None) -> str:
    """The source-kind badge: what a reader should know about where the story comes from."""
    return SOURCE_KIND_LABELS.get(value or "", (value or "").capitalize())
