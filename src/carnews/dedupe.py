"""Dedupe: find the story an entry belongs to, across sources.

The same study reaches carnews as a PubMed record, a journal's RSS item, a press
release and a news story. They are one Story when, in this order:
1. they share an identifier: DOI, PubMed id or ClinicalTrials.gov NCT number;
2. they share a canonical key (the normalised URL, for entries with no identifier);
3. their titles say the same thing in other words (rapidfuzz token-sort ratio), or
   the entry's text quotes a story's full title — what news items about a paper do —
   and they were published within ``WINDOW`` of each other.
Pure and in memory: ``stories`` loads the candidates, this decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process

WINDOW = timedelta(days=30)
TITLE_SIMILARITY = 92.0  # token-sort ratio, 0-100: reworded, not merely on the same topic
MIN_TITLE_WORDS = 6  # shorter titles ("CAR-T in lupus") are too generic to match on
MIN_QUOTED_WORDS = 8  # a title quoted inside another entry's text must be this long


MARKER = re.compile(r"\b(?:[A-Z][A-Z0-9-]*[A-Z0-9]|\w*\d\w*)\b")


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def markers(title: str) -> frozenset[str]:
    """Acronyms and numbers: "CD19" vs "BCMA", "phase 1" vs "phase 2" are other studies,
    however alike the rest of the words."""
    return frozenset(token.upper() for token in MARKER.findall(title))


@dataclass(frozen=True)
class Candidate:
    """What an entry offers for matching."""

    doi: str | None
    pmid: str | None
    nct: str | None
    key: str
    title: str
    text: str
    published_at: datetime | None


@dataclass
class StoryIndex:
    by_doi: dict[str, int] = field(default_factory=dict)
    by_pmid: dict[str, int] = field(default_factory=dict)
    by_nct: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)
    titles: dict[int, tuple[str, frozenset[str], datetime | None]] = field(default_factory=dict)

    def add(self, story_id: int, entry: Candidate) -> None:
        for value, table in ((entry.doi, self.by_doi), (entry.pmid, self.by_pmid),
                             (entry.nct, self.by_nct), (entry.key, self.by_key)):  # fmt: skip
            if value:
                table.setdefault(value, story_id)
        normalised = normalise(entry.title)
        if len(normalised.split()) >= MIN_TITLE_WORDS:
            marks = markers(entry.title)
            self.titles.setdefault(story_id, (normalised, marks, entry.published_at))

    def find(self, entry: Candidate) -> int | None:
        for value, table in ((entry.doi, self.by_doi), (entry.pmid, self.by_pmid),
                             (entry.nct, self.by_nct), (entry.key, self.by_key)):  # fmt: skip
            if value and value in table:
                return table[value]
        return self._similar(entry)

    def _in_window(self, entry: Candidate) -> dict[int, tuple[str, frozenset[str]]]:
        def near(published: datetime | None) -> bool:
            if published is None or entry.published_at is None:
                return True
            return abs(published - entry.published_at) <= WINDOW

        return {
            sid: (title, marks) for sid, (title, marks, when) in self.titles.items() if near(when)
        }

    def _similar(self, entry: Candidate) -> int | None:
        window = self._in_window(entry)
        if not window:
            return None
        title = normalise(entry.title)
        if len(title.split()) >= MIN_TITLE_WORDS:
            marks = markers(entry.title)
            alike = {sid: text for sid, (text, other) in window.items() if other == marks}
            best = process.extractOne(
                title, alike, scorer=fuzz.token_sort_ratio, score_cutoff=TITLE_SIMILARITY
            )
            if best is not None:
                return int(best[2])
        candidates = {sid: text for sid, (text, _) in window.items()}
        text = " " + normalise(entry.text) + " "
        for story_id, story_title in candidates.items():
            if len(story_title.split()) >= MIN_QUOTED_WORDS and f" {story_title} " in text:
                return story_id
        return None
