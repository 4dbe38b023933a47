"""Counts the reader has to add up or multiply: "DL1: 3 patients; DL2: 3 patients",
"lupus nephritis (n=3), membranous nephropathy (n=2)", "dosed: DM 3, ASyS 2", "three
patients at each of two dose levels", "two dozen patients".

Pure helpers for :mod:`carnews.explain.counts`. A card shows no number its source does not
print, so a worked-out count is kept only where the source prints it too.
"""

from __future__ import annotations

import re

from carnews.explain.plain import COUNT, number_value

__all__ = ["LEVEL", "PEOPLE", "derived", "printed_counts"]

# The words for people a count may stand before.
PEOPLE = (r"(?:patients?|participants?|people|persons|adults|women|men|girls|boys|children"
          r"|adolescents|subjects|individuals|volunteers|cases|pts)")  # fmt: skip
_PEOPLE = PEOPLE
# Counts the reader has to work out: "three patients at each of two dose levels", "one
# patient each with AIHA, ITP and Sjögren's disease", "two dozen patients".
_EACH_OF = re.compile(rf"\b({COUNT})\s+{_PEOPLE}\s+(?:each\s+)?at each of\s+({COUNT})\s", re.I)
_EACH_WITH = re.compile(rf"\b({COUNT})\s+{_PEOPLE}\s+each\s+(?:with|for)\s+([^.;]+)", re.I)
_DOZEN = re.compile(rf"\b({COUNT}|a|half a)\s+dozen\s+(?:\w+\s+){{0,3}}?{_PEOPLE}\b", re.I)
# Counts per group, to be added up: dose levels ("DL1: 3 patients; DL2 (…), 3 patients"),
# diseases ("lupus nephritis (n=3), membranous nephropathy (n=2) or anti-GBM disease
# (n=1)") and a label with its list ("dosed: DM 3, ASyS 2, IMNM 2").
LEVEL = re.compile(r"\b(?:DL\s*-?\d|(?:dose\s+)?level\s*-?\d|(?:cohort|arm|group|part)\s+"
                   r"(?:\d+|(?-i:[A-D])\b))", re.IGNORECASE)  # fmt: skip
_LEVEL_COUNT = re.compile(rf"\b({COUNT})\s+(?:{_PEOPLE}|were|was)\b|\(\s*n\s*=\s*(\d+)\s*\)", re.I)
_EQUALS_EACH = re.compile(r"\(\s*n\s*=\s*(\d+)\s*\)", re.IGNORECASE)
_LISTED = re.compile(r"\b(?:infused|dosed|treated)\s*:\s*((?:[A-Za-z][\w-]*\s+\d+\s*(?:,\s*|"
                     r"\s+and\s+|(?=[.;)]|$)))+)", re.IGNORECASE)  # fmt: skip
_OUTCOME = re.compile(r"\bCRS\b|\bICANS\b|\bgrade\b|respon\w+|remission|infection|toxicit",
                      re.IGNORECASE)  # fmt: skip


def derived(text: str, printed: set[int]) -> int | None:
    """A count worked out from the sentence, kept only where the source also prints it
    ("All three reached remission"): a card shows no number the source does not. 0 when
    the sentence holds such a count that the source never prints; None when it holds none."""
    value = None
    if each := _EACH_OF.search(text):
        value = (number_value(each.group(1)) or 0) * (number_value(each.group(2)) or 0)
    elif each := _EACH_WITH.search(text):
        listed = re.split(r",\s*(?:and\s+)?|\s+and\s+", each.group(2).strip())
        value = (number_value(each.group(1)) or 0) * len(listed)
    elif dozen := _DOZEN.search(text):
        many = dozen.group(1).lower()
        value = 6 if many == "half a" else 12 * (1 if many == "a" else number_value(many) or 0)
    else:
        value = _grouped(text)
    if value is None:
        return None
    return value if value in printed else 0


def _grouped(text: str) -> int | None:
    """The sum of counts given per dose level or per disease, or None when the sentence
    gives no such list (a line about side effects per grade is not one)."""
    if listed := _LISTED.search(text):
        return sum(int(n) for n in re.findall(r"\d+", listed.group(1)))
    if _OUTCOME.search(text):
        return None
    levels = [p for p in re.split(r";", text) if LEVEL.search(p) and _LEVEL_COUNT.search(p)]
    if len(levels) > 1:
        return sum(_level_count(p) for p in levels)
    each = _EQUALS_EACH.findall(text)
    return sum(int(n) for n in each) if len(each) > 1 else None


def _level_count(part: str) -> int:
    match = _LEVEL_COUNT.search(part)
    return (number_value(match.group(1) or match.group(2)) or 0) if match else 0


def printed_counts(text: str) -> set[int]:
    return {v for m in re.finditer(COUNT, text, re.I) if (v := number_value(m.group(0)))}
