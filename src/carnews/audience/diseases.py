"""The disease catalogue subscribers choose from: the lexicon's diseases, by name.

A subscriber types "SLE", "Lupus" or "scleroderma"; the catalogue maps it to the one
name the curation stage tags stories with, so a reader's choice and a story's tags meet.
Each disease also has a slug, the path of its own feeds and archive page (/diseases/lupus/).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from carnews.curate.classify import diseases_named
from carnews.curate.lexicon import Lexicon, lexicon_disease_names
from carnews.errors import SubscriberError


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


def normalise_diseases(names: Iterable[str], lexicon: Lexicon) -> list[str]:
    chosen: list[str] = []
    for name in names:
        if not name.strip():
            continue
        known = normalise_disease(name.strip(), lexicon)
        if known is None:
            raise SubscriberError(
                f"unknown disease {name.strip()!r}",
                hint="Choose from: " + ", ".join(disease_names(lexicon)),
                context={"disease": name},
            )
        if known not in chosen:
            chosen.append(known)
    return chosen


def split_diseases(value: str) -> list[str]:
    """A cell of disease names, separated by semicolons or commas."""
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def disease_slug(name: str) -> str:
    """The name as a URL path segment: "Sjögren's disease" -> "sjogrens-disease"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.split(r"[^a-z0-9]+", ascii_name.lower().replace("'", ""))
    return "-".join(word for word in words if word)


@functools.lru_cache(maxsize=4)
def disease_catalogue(lexicon_file: str = "") -> dict[str, str]:
    """Slug -> disease name for every disease of the lexicon (read once per process):
    the per-disease feeds and archive pages, one per disease a reader can choose."""
    names = lexicon_disease_names(Path(lexicon_file) if lexicon_file else None)
    return {disease_slug(name): name for name in names}
