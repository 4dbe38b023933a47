"""Plain words for the story card: numbers, a plain-word table and the source's own acronyms.

Pure tables and small functions. The card (:mod:`carnews.explain.card`) writes its
sentences from extracted facts; every technical word it uses is explained here, once,
in a few words at first use. Acronyms the table does not know are expanded from the
source's own definitions ("neuromyelitis optica spectrum disorder (NMOSD)"), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "COUNT",
    "Explainer",
    "acronyms",
    "disease_phrase",
    "number_value",
    "numbers_in",
    "people",
]

# --------------------------------------------------------------------------- numbers

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_WORD_RE = (
    r"(?:" + "|".join(_TENS) + r")(?:-(?:" + "|".join(_UNITS[1:10]) + r"))?"
    r"|" + "|".join(sorted(_UNITS, key=len, reverse=True))
)
# A count as sources write it: "12", "1,200", "twelve", "Twenty-six".
COUNT = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|{_WORD_RE})"


def number_value(token: str) -> int | None:
    """The value of a count written in digits or words; None if it is neither."""
    word = token.lower().replace(",", "")
    if word.isdigit():
        return int(word)
    if word in _UNITS:
        return _UNITS.index(word)
    tens, _, unit = word.partition("-")
    if tens in _TENS and (not unit or unit in _UNITS[1:10]):
        return _TENS[tens] + (_UNITS.index(unit) if unit else 0)
    return None


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
_ROMAN_PHASE = re.compile(
    r"\bphase\s+(I{1,3}|IV)[ab]?\b(?:\s*/\s*(?:phase\s+)?(I{1,3}|IV)[ab]?\b)?", re.IGNORECASE
)
_NUMBER_WORD = re.compile(rf"\b(?:{_WORD_RE})\b", re.IGNORECASE)


def numbers_in(text: str, *, words: bool = False) -> set[str]:
    """The numbers in ``text`` ("1,200" as "1200"); with ``words``, spelt-out ones too."""
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    for match in _ROMAN_PHASE.finditer(text):  # "phase Ib/IIa" prints phases 1 and 2
        found |= {str(_ROMAN[g.upper()]) for g in match.groups() if g}
    if words:
        for match in _NUMBER_WORD.finditer(text):
            value = number_value(match.group(0))
            if value is not None:
                found.add(str(value))
    return found


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


# --------------------------------------------------------------------------- acronyms

_DEFINED = re.compile(r"\b([A-Za-z][\w'’-]*(?:[ -][\w'’-]+){0,11})\s+\(([A-Z][A-Za-z0-9-]{1,9})\)")


def acronyms(text: str) -> dict[str, str]:
    """Acronyms the source defines, "long form (ABBR)", mapped to their long form.

    The long form is found as Schwartz and Hearst do (PSB 2003): each letter of the
    acronym, right to left, in the words before the bracket, the first letter at the start
    of a word. A bracket whose words do not spell the acronym is not a definition.
    """
    found: dict[str, str] = {}
    for match in _DEFINED.finditer(text):
        abbr = match.group(2)
        words = match.group(1).split()[-min(len(abbr) + 5, 2 * len(abbr)) :]
        long_form = _long_form(" ".join(words), abbr)
        # "CAR T cells (CAR)" repeats the acronym: no definition.
        defines = len(long_form.split()) >= 2 and abbr not in long_form.split()
        if long_form and defines and abbr not in found:
            found[abbr] = long_form
    return found


def _long_form(words: str, abbr: str) -> str:
    letter, at = len(abbr) - 1, len(words) - 1
    while letter >= 0:
        char = abbr[letter].lower()
        if not char.isalnum():
            letter -= 1
            continue
        while at >= 0 and (
            words[at].lower() != char or (letter == 0 and at > 0 and words[at - 1].isalnum())
        ):
            at -= 1
        if at < 0:
            return ""
        at -= 1
        letter -= 1
    return words[words.rfind(" ", 0, at + 1) + 1 :]


# --------------------------------------------------------------------------- terms

# Words the card may use, each with the few words that explain it at first use.
# Keys are how the card writes the term; values are the bracketed explanation.
TERMS: Mapping[str, str] = {
    "CAR-T": "the person's own immune cells, changed in a lab",
    "donor CAR-T": "immune cells from a healthy donor, changed in a lab",
    "CAR-NK": "a kind of immune cell, changed in a lab",
    "CAAR-T": "immune cells changed to remove only the cells making a single bad antibody",
    "CAR-Treg": "calming immune cells, changed in a lab",
    "mRNA CAR-T": "immune cells changed for a short time only",
    "in vivo CAR-T": "a medicine that changes immune cells inside the body",
    "T-cell engager": "a ready-made drug that brings immune cells to the cells to remove",
    "CD19": "a marker on B cells",
    "BCMA": "a marker on cells that make antibodies",
    "CD20": "a marker on B cells",
    "CD19+BCMA": "markers on cells that make antibodies",
    "DSG3": "the skin protein that the bad antibodies attack",
    "MuSK": "the muscle protein that the bad antibodies attack",
    "CRS": "a fever-like reaction of the immune system",
    "ICANS": "brain and nerve side effects",
    "lymphodepletion": "chemotherapy to make room for the new cells",
    "remission": "the disease went quiet",
    "relapse": "a return of the disease",
    "phase 1": "an early test of safety",
    "phase 1/2": "an early test of safety and benefit",
    "phase 2": "a test of how well it works",
    "phase 3": "a large test against usual care",
    "grade": "a scale of how serious it was, from 1, mild, to 4",
    "low antibody levels": "which makes infections more likely",
    "peer review": "checking by other scientists",
}

# Diseases by the lexicon's names, as a reader should meet them.
_DISEASES: Mapping[str, str] = {
    "lupus": "lupus",
    "systemic sclerosis": "scleroderma (systemic sclerosis)",
    "myositis": "myositis (muscle inflammation)",
    "NMOSD": "NMOSD (an illness that attacks the nerves of the eyes and spine)",
    "MOGAD": "MOGAD (an illness that attacks the nerves of the eyes, brain and spine)",
    "ANCA vasculitis": "ANCA vasculitis (inflamed blood vessels)",
    "CIDP": "CIDP (an illness that damages the nerves of the arms and legs)",
    "IgG4-related disease": "IgG4-related disease (swelling and scarring in organs)",
    "immune thrombocytopenia": "immune thrombocytopenia (low platelets, so bleeding is easier)",
    "autoimmune haemolytic anaemia": "autoimmune haemolytic anaemia (the immune system"
    " destroys red blood cells)",
    "autoimmune encephalitis": "autoimmune encephalitis (brain inflammation)",
    "stiff-person syndrome": "stiff-person syndrome (stiff muscles and painful spasms)",
    "antiphospholipid syndrome": "antiphospholipid syndrome (blood clots)",
    "membranous nephropathy": "membranous nephropathy (a kidney disease)",
    "IgA nephropathy": "IgA nephropathy (a kidney disease)",
    "anti-GBM disease": "anti-GBM disease (the immune system attacks the kidneys' filters)",
    "FSGS": "FSGS (scarring of the kidneys' filters)",
    "autoimmune ataxia": "autoimmune ataxia (the immune system attacks the part of the brain"
    " that controls balance)",
    "pemphigus": "pemphigus (blistering skin disease)",
    "autoimmune disease": "autoimmune disease",
}


def disease_phrase(name: str, defined: Mapping[str, str]) -> str:
    """A disease as the card writes it: known names explained, acronyms from the source."""
    if name in _DISEASES:
        return _DISEASES[name]
    if name in defined:
        return f"{defined[name].lower()} ({name})"
    return name


@dataclass
class Explainer:
    """Explains each term once, at first use, and remembers which it explained."""

    explained: list[str] = field(default_factory=list)

    def term(self, word: str, key: str | None = None) -> str:
        """``word``, followed by its explanation in brackets the first time."""
        key = key or word
        if key in self.explained or key not in TERMS:
            return word
        self.explained.append(key)
        return f"{word} ({TERMS[key]})"

    def explains_disease(self, name: str, defined: Mapping[str, str]) -> bool:
        """Whether :meth:`disease` would explain ``name`` in brackets now."""
        return name not in self.explained and disease_phrase(name, defined) != name

    def disease(self, name: str, defined: Mapping[str, str]) -> str:
        if name in self.explained:
            return _short_disease(name)
        # The same disease named twice is explained once.
        phrase = disease_phrase(name, defined)
        if phrase != name:
            self.explained.append(name)
        return phrase


def _short_disease(name: str) -> str:
    return "scleroderma" if name == "systemic sclerosis" else name
