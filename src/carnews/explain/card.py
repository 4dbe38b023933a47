"""The story card, written from the facts by carnews's own templates.

Pure: :class:`~carnews.explain.facts.Facts` in, :class:`Card` out. Each section is
one or two short sentences in plain words; technical words are explained in brackets
at first use (:mod:`carnews.explain.plain`); every number is one the source printed.
The source speaks only in ``quote``: one short sentence, verbatim and marked as a
quote, which is not part of the reading grade. The checks that block a bad card are in
:mod:`carnews.explain.checks`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from carnews.explain.extractive import looks_like_jargon
from carnews.explain.facts import Facts, is_safety_action, sentences
from carnews.explain.plain import Explainer, number_value, people
from carnews.explain.results import Outcome
from carnews.explain.sections import (
    headline,
    quote_intro,
    unknowns,
    what_it_means,
    what_was_tested,
    who_took_part,
)
from carnews.explain.sideeffects import in_animals, side_effects

__all__ = ["Card", "pick_quote", "unexplained_terms", "write_card"]


@dataclass(frozen=True)
class Card:
    headline: str
    study_type: str
    what_was_tested: str
    who_took_part: str
    what_happened: str
    side_effects: str | None  # None only when the source says nothing about safety
    unknowns: tuple[str, ...]
    what_it_means: str
    quote: str  # verbatim from the source
    quote_intro: str  # "In the researchers' words"
    terms_explained: tuple[str, ...]
    fallback: bool = False  # the safe minimal card, for an editor to complete
    backend: str = "template"  # who wrote it: "template", "llm" or "fallback"

    @property
    def summary(self) -> str:
        """What was tested, who took part and what happened: the graded patient text."""
        return " ".join(s for s in (self.what_was_tested, self.who_took_part,
                                    self.what_happened) if s)  # fmt: skip

    def sections(self) -> dict[str, str]:
        """Every section a reader sees, the quote aside."""
        return {
            "headline": self.headline,
            "what_was_tested": self.what_was_tested,
            "who_took_part": self.who_took_part,
            "what_happened": self.what_happened,
            "side_effects": self.side_effects or "",
            "unknowns": " ".join(self.unknowns),
            "what_it_means": self.what_it_means,
        }

    def to_dict(self) -> dict[str, Any]:
        """The card as stored (``stories.card``, ``edition_stories.card``): JSON types only."""
        stored = asdict(self)
        stored["unknowns"] = list(self.unknowns)
        stored["terms_explained"] = list(self.terms_explained)
        return stored

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Card:
        """A card back from storage; keys it does not know (older or newer) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in stored.items() if k in known}
        values["unknowns"] = tuple(values.get("unknowns") or ())
        values["terms_explained"] = tuple(values.get("terms_explained") or ())
        return cls(**values)


def write_card(facts: Facts, text: str) -> Card:
    """The card for ``facts`` (extracted from ``text``, which supplies the quote)."""
    explain = Explainer()
    tested = what_was_tested(facts, explain)
    who = who_took_part(facts, explain, text)
    happened = what_happened(facts, explain)
    return Card(
        headline=headline(facts),
        study_type=facts.study_type,
        what_was_tested=tested,
        who_took_part=who,
        what_happened=happened,
        side_effects=side_effects(
            facts.harms, facts.treated_n, explain, animals=in_animals(facts, text)
        ),
        unknowns=tuple(unknowns(facts, text)),
        what_it_means=what_it_means(facts),
        quote=pick_quote(facts, text),
        quote_intro=quote_intro(facts.source_kind, facts.study_type),
        terms_explained=tuple(explain.explained),
    )


# --------------------------------------------------------------------------- what happened

_REGULATORY = (
    (r"clinical hold|\bplac\w* (?:\w+ )?hold\b|\bon hold\b", "{who} paused the trial."),
    (r"fast[- ]track", "{who} gave it fast-track status, which can speed up its review."),
    (
        r"\bRMAT\b|regenerative medicine advanced",
        "{who} gave it a special status that can speed up its review.",
    ),
    (r"orphan", "{who} gave it orphan drug status, which helps medicines for rare diseases."),
    (r"\bPRIME\b", "{who} gave it extra support and advice through its PRIME scheme."),
    (
        r"breakthrough|priority review",
        "{who} gave it a special status that can speed up its review.",
    ),
    (
        # "authorises first CAR-T trial", "clears the way for a trial": a trial, not the product
        r"\bIND\b|investigational new drug|clinical trial application|\b(?:authori[sz]\w*|approv\w*"
        r"|clear\w*)\b[^.:]{0,40}\btrials?\b|\btrial (?:authori[sz]ation|approval)",
        "{who} allowed a trial in people to start.",
    ),
    (r"authori[sz]|approv", "{who} gave its approval."),
)
_WHO = {
    "FDA": "The US medicines regulator (FDA)", "EMA": "The European medicines regulator (EMA)",
    "NMPA": "China's medicines regulator", "PEI": "Germany's medicines regulator",
    "MHRA": "The UK medicines regulator", "TGA": "Australia's medicines regulator",
    "PMDA": "Japan's medicines regulator", "Health Canada": "Canada's medicines regulator",
    "Swissmedic": "The Swiss medicines regulator", "ANSM": "France's medicines regulator",
    "BfArM": "Germany's medicines regulator",
}  # fmt: skip
_PHRASES = {
    "drug-free remission": "went into remission without their usual medicines",
    "kidney response": "had a full kidney response, with kidney tests back to normal",
    "low activity": "reached low disease activity",
    "response": "responded to the treatment",
    "improved": "got better on the study's measures",
}


def what_happened(facts: Facts, explain: Explainer) -> str:
    study = facts.study_type
    if study == "trial registration":
        return "There are no results yet."
    if study == "regulatory":
        return _decision(facts)
    lines = [_outcome_sentence(o, facts, explain) for o in facts.outcomes]
    lines = [line for line in lines if line][:2]
    if study == "lab study":  # its measures are cells, samples or animals, never "people"
        return "The results come from lab work, not from treating people."
    if study == "review":
        return "The review sums up earlier results and adds no new ones."
    if lines:
        return " ".join(lines)
    if study == "patient story":
        return "The person describes how they felt during and after treatment."
    return "The report gives no clear count of who got better."


def _decision(facts: Facts) -> str:
    who = _WHO.get(facts.regulator or "", "A medicines regulator")
    if is_safety_action(facts):
        return f"{who} changed the safety warnings for these treatments."
    if facts.for_cancer:
        decided = "approved it" if re.search(r"approv|authori[sz]", facts.title, re.I) \
            else "made a decision about its use"  # fmt: skip
        return f"{who} {decided} for a cancer. It is not approved for autoimmune disease."
    for pattern, line in _REGULATORY:
        if re.search(pattern, facts.title, re.IGNORECASE):
            # A notice of what the regulator means to do ("proposed inclusion in the
            # breakthrough procedure"): not yet done.
            if re.search(r"\bpropos\w*|\bplans? to\b", facts.title, re.IGNORECASE):
                line = line.replace("gave it", "plans to give it")
            return line.format(who=who)
    return f"{who} made a decision about it. It is not yet approved for this use."


def _outcome_sentence(outcome: Outcome, facts: Facts, explain: Explainer) -> str:
    subject = _subject(outcome, facts)
    if subject is None:
        return ""
    if outcome.kind == "remission":
        phrase = "went into " + explain.term("remission")
    elif outcome.kind == "relapse-free":
        phrase = "had no " + explain.term("relapse")
    elif outcome.kind == "stopped medicines":
        medicine = _medicine(outcome.what)
        verb = "needing" if medicine in ("dialysis", "plasma exchange") else "taking"
        phrase = f"stopped {verb} {medicine}"
    else:
        phrase = _PHRASES[outcome.kind]
    time = f" {outcome.time.lower()}" if outcome.time and outcome.kind != "stopped medicines" \
        else ""  # fmt: skip
    return f"{subject} {phrase}{time}."


def _subject(outcome: Outcome, facts: Facts) -> str | None:
    quantity, total = outcome.quantity, outcome.total
    n = number_value(total) if total else None
    if quantity in ("all", "both") and (n or facts.treated_n):
        count = n or facts.treated_n or 0
        return "Both people" if count == 2 else f"All {count} people"
    if quantity == "all":
        return "Everyone treated"
    if quantity == "both":
        return "Both people"
    if quantity == "most":
        return "Most people"
    if quantity == "one person":
        return "The patient" if facts.treated_n == 1 else None
    if quantity and quantity.endswith("%"):
        return f"{quantity} of people"
    value = number_value(quantity) if quantity else None
    if value is not None and n:
        return f"{value} of {n} people"
    if value is not None:
        return people(value).capitalize() if value != 1 else None
    return "The patient" if facts.treated_n == 1 else None


def _medicine(what: str) -> str:
    lowered = what.lower()
    for pattern, words in (
        (r"immunosuppress", "drugs that calm the immune system"),
        (r"glucocorticoid|steroid|prednisone", "steroids"),
        (r"dialysis", "dialysis"),
        (r"ivig", "antibody infusions"),
        (r"plasma exchange", "plasma exchange"),
    ):
        if re.search(pattern, lowered):
            return words
    return "their other medicines"


# --------------------------------------------------------------------------- quote

_STATS = re.compile(r"\bCI\b|\bp\s*[<=>]|±|\bIQR\b|\brange\b|\bSD\b|\bHR\b|\bOR\b", re.I)
_CURE = re.compile(r"\bcur(?:e|es|ed|ing)\b", re.IGNORECASE)


def pick_quote(facts: Facts, text: str) -> str:
    """One short source sentence, verbatim: the main result's, else a conclusion."""
    candidates = [o.sentence for o in facts.outcomes]
    found = sentences(text)
    candidates += [s.text for s in found if s.section.startswith(("conclu", "interpret"))]
    candidates += [s.text for s in found if not s.background]
    for sentence in candidates:
        words = len(sentence.split())
        if 6 <= words <= 35 and not _STATS.search(sentence) and not _CURE.search(sentence):
            return sentence
    return ""


# --------------------------------------------------------------------------- jargon

_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


def unexplained_terms(card: Card) -> tuple[str, ...]:
    """Jargon-looking words in the summary that the card did not explain."""
    explained = {w.casefold() for term in card.terms_explained for w in re.split(r"[ +]", term)}
    explained |= {"car-t", "car-nk", "caar-t", "car-treg", "mrna", "t-cell", "b"}
    found: dict[str, str] = {}
    for token in _TOKEN.findall(card.summary):
        if token.casefold() not in explained and looks_like_jargon(token):
            found.setdefault(token.casefold(), token)
    return tuple(found.values())
