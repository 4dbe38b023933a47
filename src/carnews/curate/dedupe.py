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


def _lead(words: list[str]) -> str:
    return " ".join(words[:LEAD_WORDS])


LEAD_WORDS = 3  # quoted titles are looked up by their first words, not one by one


@dataclass
class StoryIndex:
    by_doi: dict[str, int] = field(default_factory=dict)
    by_pmid: dict[str, int] = field(default_factory=dict)
    by_nct: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)
    # Titles grouped by their markers, since only titles with equal markers may match;
    # long titles also by their first words, to find them quoted inside a text.
    by_markers: dict[frozenset[str], dict[int, str]] = field(default_factory=dict)
    by_lead: dict[str, dict[int, str]] = field(default_factory=dict)
    published: dict[int, datetime | None] = field(default_factory=dict)
    # The same long titles by first words and then whole title, with their lengths in
    # words and the order they came in: a text is checked for the few titles it can
    # quote, not for every title that starts the way one of its phrases does.
    by_title: dict[str, dict[str, list[int]]] = field(default_factory=dict, repr=False)
    lengths: dict[str, set[int]] = field(default_factory=dict, repr=False)
    order: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, story_id: int, entry: Candidate) -> None:
        for value, table in ((entry.doi, self.by_doi), (entry.pmid, self.by_pmid),
                             (entry.nct, self.by_nct), (entry.key, self.by_key)):  # fmt: skip
            if value:
                table.setdefault(value, story_id)
        normalised = normalise(entry.title)
        words = normalised.split()
        if len(words) >= MIN_TITLE_WORDS and story_id not in self.published:
            self.published[story_id] = entry.published_at
            self.by_markers.setdefault(markers(entry.title), {})[story_id] = normalised
            if len(words) >= MIN_QUOTED_WORDS:
                lead = _lead(words)
                self.by_lead.setdefault(lead, {})[story_id] = normalised
                self.by_title.setdefault(lead, {}).setdefault(normalised, []).append(story_id)
                self.lengths.setdefault(lead, set()).add(len(words))
                self.order[story_id] = len(self.order)

    def find(self, entry: Candidate) -> int | None:
        for value, table in ((entry.doi, self.by_doi), (entry.pmid, self.by_pmid),
                             (entry.nct, self.by_nct), (entry.key, self.by_key)):  # fmt: skip
            if value and value in table:
                return table[value]
        return self._similar(entry)

    def _near(self, story_id: int, entry: Candidate) -> bool:
        published = self.published.get(story_id)
        if published is None or entry.published_at is None:
            return True
        return abs(published - entry.published_at) <= WINDOW

    def _similar(self, entry: Candidate) -> int | None:
        title = normalise(entry.title)
        if len(title.split()) >= MIN_TITLE_WORDS:
            same_markers = self.by_markers.get(markers(entry.title), {})
            alike = {sid: text for sid, text in same_markers.items() if self._near(sid, entry)}
            best = process.extractOne(
                title, alike, scorer=fuzz.token_sort_ratio, score_cutoff=TITLE_SIMILARITY
            )
            if best is not None:
                return int(best[2])
        return self._quoted(entry)

    def _quoted(self, entry: Candidate) -> int | None:
        """A story whose whole title the entry's text quotes: of the phrases in the text
        that start a title, the first, and of the stories it starts, the first added."""
        if not self.by_title:
            return None
        words = normalise(entry.text).split()
        starts: dict[str, list[int]] = {}  # phrases that start titles, in text order
        leads = map(" ".join, zip(*(words[n:] for n in range(LEAD_WORDS)), strict=False))
        for start, lead in enumerate(leads):
            if lead in self.by_title:
                starts.setdefault(lead, []).append(start)
        for lead, found_at in starts.items():
            titles = self.by_title[lead]
            quoted = {
                story_id
                for start in found_at
                for length in self.lengths[lead]
                for story_id in titles.get(" ".join(words[start : start + length]), ())
            }
            for story_id in sorted(quoted, key=self.order.__getitem__):
                if self._near(story_id, entry):
                    return story_id
        return None
