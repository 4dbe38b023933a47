"""The disease catalogue subscribers choose from: the lexicon's diseases, by name.

A subscriber types "SLE", "Lupus" or "scleroderma"; the catalogue maps it to the one
name the curation stage tags stories with, so a reader's choice and a story's tags meet.
"""

from __future__ import annotations

from carnews.curate.classify import diseases_named
from carnews.curate.lexicon import Lexicon


def disease_names(lexicon: Lexicon) -> list[str]:
    """The normalised disease names, in lexicon order, for subscribers to choose from."""
    return [term.name for term in lexicon.diseases]


def normalise_disease(name: str, lexicon: Lexicon) -> str | None:
    """Map what a subscriber typed ("SLE", "Lupus", "scleroderma") to a disease name."""
    wanted = name.strip()
    for term in lexicon.diseases:
        if term.name.casefold() == wanted.casefold():
            return term.name
    # Short names like "RA" are only matched in context in running text, so a bare
    # name is also tried as a phrase.
    for phrase in (wanted, f"patients with {wanted}"):
        found = diseases_named(lexicon, phrase).most_common(1)
        if found:
            return found[0][0]
    return None
