"""How many people a harm happened to, as the source counts them: "in 4 of 12", "every
patient had", "two deaths", "one patient with SSc died", or, in a regulator's notice, how
many reports or cases ("22 reports of T cell malignancies") — which are not people."""

from __future__ import annotations

import re

from carnews.explain.plain import COUNT

__all__ = ["HOW_MANY", "harm_count"]

HOW_MANY = re.compile(
    # ("in 2025" is a year)
    rf"\bin\s+(?!(?:19|20)\d\d\b)(all|both|none|most|{COUNT}(?:\.\d+)?%?)(?:\s+of\s+(?:the\s+)?({COUNT}))?"
    r"(?:\s+(?:\w+\s+){0,2}?(?:patients|participants|people)\b)?(?!\w)"
    # "every patient had grade 1-2 CRS" is all of them
    rf"|\b({COUNT}|all|both|one|every|each)\s+(?:\w+\s+){{0,2}}?(?:patients?|participants?"
    r"|people|women|men|child|children|adults?)"
    r"\s+(?:had|developed|required|needed|experienced|died)"
    # "(up to 8%)", "fell by 30%": how much, not of how many people
    # ("lost 10% of body weight": how much weight)
    r"|\(n\s*=\s*(\d+)\)|(?<!up to )(?<!\bby )\b(\d+(?:\.\d+)?%)(?! of (?:\w+ )?(?:body )?weight)"
    # The people left unnamed after a sentence that counted them: "Two developed …",
    # "One of them died".
    rf"|^\s*({COUNT})\s+(?:of\s+(?:them|these|those)\s+)?(?:\w+\s+)?(?:had|developed|required"
    r"|needed|experienced|died)\b",
    re.IGNORECASE,
)

_COUNTED_BEFORE = re.compile(rf"\b(?:including|with|and)\s+({COUNT})\s+(?:\w+\s+)?$", re.I)
# A regulator counts reports or cases, not people: "received 22 reports of T cell
# malignancies", "38 cases of T-cell malignancy have been reported", "one case of grade 3".
_REPORTS_OF = re.compile(
    rf"\b({COUNT})\s+(?:(?:further|more|new|additional|confirmed|spontaneous|serious|fatal)\s+)?"
    r"(cases?|reports?)\s+of\s+(?:[\w≥-]+\s+){0,3}?$",
    re.IGNORECASE,
)
# Deaths counted by the noun ("one death", "two treatment-related deaths") or by who died
# ("one patient with SSc died", "a participant died", "the patient … has died").
_DEATHS = re.compile(rf"\b({COUNT})\s+(?:[\w]+-related\s+|fatal\s+|late\s+|early\s+"
                     r"|further\s+|more\s+|additional\s+)?$", re.IGNORECASE)  # fmt: skip
_WHO_DIED = re.compile(
    rf"\b(?:({COUNT})\s+(?:[\w-]+\s+)?(?:patients?|participants?|people|women|men|children"
    r"|subjects?)|(an?|the)\s+(?:[\w-]+\s+)?(?:patient|participant|person|woman|man|girl|boy"
    r"|child|subject))\b(?:\s+(?:with|in|from|who)\b[^.;,]{0,50}?)?\s+(?:has\s+|had\s+|have\s+)?$",
    re.IGNORECASE,
)
# Not a count of deaths but a time or a grade: "on day 52 died", "grade 5".
_WHEN = re.compile(r"\b(?:day|month|week|year|grade|cycle)s?\s*$", re.IGNORECASE)


def harm_count(
    kind: str, clause: str, start: int, ahead: str
) -> tuple[str | None, str | None, str]:
    """How many had the harm named at ``start`` of ``clause`` (``ahead``: from it to the
    next harm named): the count, its denominator if printed, and what was counted ("" for
    people, "reports" or "cases"). A count "a" is one person, told without a number."""
    before = clause[:start]
    if told := _REPORTS_OF.search(before):
        unit = told.group(2).lower()
        return told.group(1), None, unit if unit.endswith("s") else unit + "s"
    if kind == "death":
        for found in (_DEATHS.search(before), _WHO_DIED.search(before)):
            if found and not _WHEN.search(before[: found.start()]):
                return found.group(1) or "a", None, ""  # "a participant died": one
    # "SAEs occurred in 4 patients, including two infections": the two are this harm's.
    if counted := _COUNTED_BEFORE.search(before):
        return counted.group(1), None, ""
    count, of = _how_many(ahead)
    if count is None:
        count, of = _how_many(clause)
    return count, of, ""


def _how_many(clause: str) -> tuple[str | None, str | None]:
    match = HOW_MANY.search(clause)
    if not match:
        return None, None
    count = match.group(1) or match.group(3) or match.group(4) or match.group(5) or match.group(6)
    if count.lower() in ("every", "each"):
        count = "all"
    return count, match.group(2)
