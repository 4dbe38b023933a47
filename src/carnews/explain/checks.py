"""Checks that block a bad story card, and the safe card that replaces it.

A card is shown only if every check passes: each number is one the source printed,
a source that reports a harm gets a side-effects section, the patient text reads at
or below ``MAX_GRADE``, no hype word or "cure" appears outside the quote, no section
opens on a dangling "However", no statistic notation, a headline of at most 14
words. A card that fails becomes :func:`fallback_card`: headline, study type, source
link and "an editor will summarise this" — never the raw abstract — flagged for the
editor with the checks that failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from carnews.curate.lexicon import Lexicon
from carnews.explain.card import Card, write_card
from carnews.explain.facts import Facts, extract_facts, sentences
from carnews.explain.harms import find_harms
from carnews.explain.plain import numbers_in
from carnews.text.readability import fk_grade

__all__ = ["CHECKS", "HYPE", "MAX_GRADE", "Story", "check_card", "explain_story",
           "fallback_card"]  # fmt: skip

MAX_GRADE = 10.0  # Flesch-Kincaid grade of the card's summary, measured by carnews
CHECKS = ("numbers_traced", "harms_reported", "grade", "no_hype", "no_dangling_opener",
          "no_statistics", "headline_length", "unknowns_present")  # fmt: skip
HYPE = (
    "breakthrough", "miracle", "miraculous", "game-changer", "game changer", "game-changing",
    "revolutionary", "revolutionise", "revolutionize", "groundbreaking", "ground-breaking",
    "remarkable", "striking", "stunning", "unprecedented", "transformative", "life-changing",
    "astonishing", "amazing", "incredible", "spectacular", "dramatic", "dramatically",
    "paradigm", "holy grail", "wonder drug", "magic bullet", "cure", "cures", "cured", "curing",
    "curative", "exciting", "hope", "hopeful", "promising",
)  # fmt: skip
_HYPE = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in HYPE) + r")\b", re.IGNORECASE)
_OPENER = re.compile(r"^(?:however|but|moreover|furthermore|in addition|additionally|thus"
                     r"|therefore|also|nevertheless|yet|still|and)\b", re.IGNORECASE)  # fmt: skip
_STATISTICS = re.compile(r"\b(?:95\s*%\s*)?CI\b|\bp\s*[<=>≤]|±|\bIQR\b|median\s*\(|\(range\b"
                         r"|\bSD\b|\bhazard ratio\b|\bodds ratio\b", re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True)
class Story:
    """A checked card with the facts it was written from.

    ``llm_checks`` are the checks an LLM's card was held to (empty when no LLM wrote
    one) and ``warnings`` say why a configured LLM's card is not the one shown.
    """

    facts: Facts
    card: Card
    checks: dict[str, bool]
    grade: float
    needs_editor: bool
    llm_checks: dict[str, bool] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def check_card(card: Card, title: str, text: str) -> dict[str, bool]:
    """Each named check and whether ``card`` passes it."""
    sections = card.sections()
    shown = " ".join(sections.values())
    source_numbers = numbers_in(f"{title} {text}", words=True)
    return {
        "numbers_traced": not untraced_numbers(shown, source_numbers),
        "harms_reported": card.side_effects is not None or not source_reports_harm(text),
        "grade": card.fallback or fk_grade(card.summary) <= MAX_GRADE,
        "no_hype": not hype_words(shown),
        "no_dangling_opener": not any(_OPENER.match(s) for s in _sentences_of(sections)),
        "no_statistics": not _STATISTICS.search(shown) and not _STATISTICS.search(card.quote),
        "headline_length": 0 < len(card.headline.split()) <= 14,
        "unknowns_present": bool(card.unknowns),
    }


def untraced_numbers(shown: str, source_numbers: set[str]) -> list[str]:
    """Numbers the card prints (digits or words) that the source does not."""
    return sorted(numbers_in(shown, words=True) - source_numbers)


def hype_words(shown: str) -> list[str]:
    return [m.group(0) for m in _HYPE.finditer(shown)]


def source_reports_harm(text: str) -> bool:
    """Whether the source reports a harm that happened, read independently of the card."""
    return any(h.status == "occurred" for h in find_harms(sentences(text), None))


def _sentences_of(sections: dict[str, str]) -> list[str]:
    found = []
    for value in sections.values():
        found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", value) if s.strip()]
    return found


# The study type as a noun, for the fallback card's headline ("New news …" reads badly).
_NOUNS = {"news": "report", "regulatory": "regulator decision",
          "trial registration": "trial listing"}  # fmt: skip


def fallback_card(facts: Facts, link: str = "", *, harm_reported: bool = False) -> Card:
    """The safe minimal card: what kind of item it is, where it is, and that an editor will
    summarise it. It carries no sentence of the source."""
    where = f" The source: {link}." if link else ""
    return Card(
        headline=f"New {_NOUNS.get(facts.study_type, facts.study_type)} about cell therapy",
        study_type=facts.study_type,
        what_was_tested=f"This is a {facts.study_type}.{where}",
        who_took_part="",
        what_happened="An editor will summarise this.",
        side_effects="The report describes side effects; an editor will summarise them."
        if harm_reported
        else None,
        unknowns=("An editor has not yet summarised this report.",),
        what_it_means="Wait for the editor's summary before drawing conclusions.",
        quote="",
        quote_intro="",
        terms_explained=(),
        fallback=True,
        backend="fallback",
    )


def explain_story(title: str, text: str, *, lexicon: Lexicon, source_kind: str | None = None,
                  publication_types: Sequence[str] = (), phases: Sequence[str] = (),
                  link: str = "") -> Story:  # fmt: skip
    """Facts, card and checks for one source; a card that fails any check falls back."""
    facts = extract_facts(title, text, lexicon=lexicon, source_kind=source_kind,
                          publication_types=publication_types, phases=phases)  # fmt: skip
    card = write_card(facts, text)
    checks = check_card(card, title, text)
    if not all(checks.values()):
        safe = fallback_card(facts, link, harm_reported=source_reports_harm(text))
        return Story(facts, safe, checks, fk_grade(safe.summary), needs_editor=True)
    return Story(facts, card, checks, fk_grade(card.summary), needs_editor=False)
