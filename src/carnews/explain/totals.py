"""Counts of people spread over several sentences, and the total a later sentence prints.

Pure helpers for :mod:`carnews.explain.counts`. A source may tell its people in steps
("The first received CAR T cells in 2023. Two further patients followed …") and only later
print the whole ("All four improved", "Of the 24, only two relapsed", "Three of the five",
"in 3/8"). A count found beside a word for more people ("further", "more", "additional",
"joined by", "plus a fifth") is a part; the first later total larger than it is the whole.
A count the source prints only as "all three" or "both patients", where no sentence names
the people treated with a number, is the count too.
"""

from __future__ import annotations

import re

from carnews.explain.plain import COUNT, number_value
from carnews.explain.sums import PEOPLE

__all__ = ["IN_THE_STUDY", "PART", "whole", "whole_only"]

# A count of some of the people, with more to come: "two further patients", "two more were
# treated", "joined by 19 more", "an additional 5 patients", "plus a fifth with lupus".
PART = re.compile(
    r"\b(?:further|more|additional|another)\b(?!\s+than)|\bjoined by\b|\bplus\s+(?:a|an|one)\b"
    r"|\b(?:a|the)\s+(?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b",
    re.IGNORECASE,
)
# The whole, printed as a count all the people share or as the base of a share: "All four
# showed", "Of the 24,", "Three of the five were", "in 3/8 (38%)", "both patients".
_WHOLE = re.compile(
    rf"(?:^|[.;:]\s+)all\s+({COUNT})\b(?!\s+(?:months?|weeks?|days?|years?|doses?|levels?))"
    rf"|\ball\s+({COUNT})\s+{PEOPLE}\b"
    rf"|\bof\s+the\s+({COUNT})\s*,"
    rf"|\b{COUNT}\s+of\s+the\s+({COUNT})\b(?!\s*(?:months?|weeks?|days?|years?|doses?))"
    r"|(?<![\d./^×x])\b\d+\s*/\s*(\d+)\s*\(\s*\d+(?:\.\d+)?\s*%\s*\)",
    re.IGNORECASE,
)
_BOTH = re.compile(rf"\bboth\s+{PEOPLE}\b", re.IGNORECASE)
# "In the study, 10 patients had improved skin scores": the study's own people, named by the
# study though no verb for treating stands beside them.
IN_THE_STUDY = re.compile(
    r"\bin\s+(?:the|this|our)\s+(?:[\w-]+\s+)?(?:study|trial|series|report|cohort),?\s+"
    rf"({COUNT})\s+(?:[\w-]+\s+){{0,2}}?{PEOPLE}\b",
    re.IGNORECASE,
)


def _wholes(text: str) -> list[int]:
    found = [number_value(next(g for g in m.groups() if g)) or 0 for m in _WHOLE.finditer(text)]
    return found + [2 for _ in _BOTH.finditer(text)]


def whole(part: int, part_sentence: str, later: list[str]) -> int | None:
    """The total a later sentence prints, where the count found is only a part of the
    people ("Two further patients followed" … "All four improved"); None where the count
    found is the whole or no later sentence prints a larger one."""
    if not PART.search(part_sentence):
        return None
    for text in later:
        for value in _wholes(text):
            if value > part:
                return value
    return None


def whole_only(texts: list[str]) -> tuple[int, str] | None:
    """ "All three reached remission", "Both patients …": the only count of the people
    treated a source prints, read where no sentence gives a number beside treating."""
    for text in texts:
        for value in _wholes(text):
            if value > 1:
                return value, text
    return None
