"""The main results of a work, as small facts: who (how many), what happened, by when.

Read from the results and conclusions, never from the background: "All eight patients
reached DORIS remission by month 6" becomes ``Outcome("remission", "all", "eight",
"by month 6")``. The card words each kind of outcome in plain language; the numbers
stay the source's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carnews.explain.plain import COUNT

if TYPE_CHECKING:
    from carnews.explain.facts import Sentence

__all__ = ["OUTCOME_KINDS", "Outcome", "find_outcomes"]

# Kinds of outcome, best first, each with the words that find it.
_KINDS = (
    (
        "drug-free remission",
        r"(?:drug|medication|treatment|immunosuppress\w*)-free remission"
        r"|remission (?:off|without) (?:all )?(?:drugs|medic\w+|treatment|glucocorticoids)",
    ),
    ("remission", r"\bremission\b"),
    ("kidney response", r"complete renal response|\bCRR\b"),
    ("low activity", r"\bLLDAS\b|low disease activity"),
    ("relapse-free", r"relapse-free|no (?:further |new )?(?:relapses?|crises|flares?)"),
    (
        "stopped medicines",
        r"\b(?:stopp?ed|discontinued|withdrawn|off|no longer (?:required|"
        r"needed))\b[^.;]{0,40}?\b(?:immunosuppress\w*|glucocorticoids?|steroids?|prednisone|"
        r"medicines?|medications?|DMARDs|IVIG|dialysis|plasma exchange|therapy|treatment)"
        r"|(?:immunosuppress\w*|glucocorticoids?|steroids|medicines|treatment|IVIG|dialysis)"
        r"[^.;]{0,30}?\b(?:was|were) (?:stopped|withdrawn|discontinued)",
    ),
    (
        "response",
        r"\brespon(?:se|ses|ded|ders)\b|major clinical|meaningful improvement"
        r"|met (?:its|the) primary endpoint|beat placebo",
    ),
    (
        "improved",
        r"\bimprov\w*|\bfell\b|declined|decreased|normali[sz]ed|resolved|regressed"
        r"|became (?:undetectable|negative)|\brose\b|\braised\b|reduc\w*",
    ),
)
OUTCOME_KINDS = tuple(kind for kind, _ in _KINDS)
_COMPILED = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in _KINDS)
_RESULT_SECTIONS = ("result", "finding", "conclu", "interpret", "")
_QUANTITY = re.compile(
    rf"\b(all|both|most)\b(?:\s+(?:the\s+)?({COUNT})\b)?"
    rf"|\b({COUNT})\s+of\s+(?:the\s+)?({COUNT})\b(?!\s*(?:months?|weeks?|days?|years?))"
    r"|(\d+(?:\.\d+)?%)(?! (?:predicted|reduction|decrease))"
    rf"|\b({COUNT})\s+(?:(?:\w+\s+){{0,2}}?(?:patients|participants|people|adults|women)\b"
    r"|(?=(?:achieved|reached|had|were|met|showed|stopped|remained)\b))"
    r"|\b(she|he|the patient|the girl|the boy|her|his)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    rf"\b(?:by|at|within|after|over|to|through|for)\s+(?:(?:month|week|day|year)\s+\d+"
    rf"|(?:a median of\s+)?{COUNT}(?:\.\d)?\s+(?:months?|weeks?|days?|years?))\b",
    re.IGNORECASE,
)
# A harm is not a result, and planning is not a finding.
_NOT_RESULT = re.compile(
    r"cytokine release|\bCRS\b|\bICANS\b|adverse|infection|neutropeni|will\b|plans?\b|planned"
    r"|primary (?:outcome|end ?point)|secondary (?:outcome|end ?point)|expected|B cells? (?:were "
    r"depleted|reappeared|recovered|returned)", re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of OUTCOME_KINDS
    quantity: str | None  # "all", "both", "most", "12", "71%", "one person" (she/he)
    total: str | None  # the denominator as printed: "15" in "12 of 15", "eight" in "all eight"
    time: str | None  # "by month 6", "at 12 months"
    what: str  # the words matched, e.g. "DORIS remission", "glucocorticoids"
    sentence: str


def find_outcomes(found: Sequence[Sentence]) -> list[Outcome]:
    """The main outcome and, if the source says so, that people stopped other medicines."""
    candidates: list[Outcome] = []
    for sentence in found:
        if sentence.background or not sentence.section.startswith(_RESULT_SECTIONS):
            continue
        for clause in re.split(r";|\.\s", sentence.text):
            if _NOT_RESULT.search(clause):
                continue
            if outcome := _outcome(clause, sentence.text):
                candidates.append(outcome)
    if not candidates:
        return []
    main = min(candidates, key=_priority)
    stopped = [c for c in candidates if c.kind == "stopped medicines" and c is not main]
    return [main, *stopped[:1]]


def _priority(outcome: Outcome) -> tuple[int, int]:
    quantified = 0 if outcome.quantity else 1
    return quantified, OUTCOME_KINDS.index(outcome.kind)


def _outcome(clause: str, sentence: str) -> Outcome | None:
    """The best kind of outcome in ``clause``; of its mentions, the first with a count."""
    for kind, pattern in _COMPILED:
        found = []
        for match in pattern.finditer(clause):
            quantity, total = _quantity(clause[: match.start()] or clause)
            if quantity is None:  # "raised counts in five of seven adults"
                quantity, total = _quantity(clause[match.end() :], last=False)
            time = _TIME.search(clause)
            found.append(Outcome(kind, quantity, total, time.group(0) if time else None,
                                 match.group(0), sentence))  # fmt: skip
        if found:
            return next((o for o in found if o.quantity), found[0])
    return None


# "25% of the placebo group" is not the treated; "improved by a median of 40%" is how
# much, not how many.
_OTHER_ARM = re.compile(r"^[^.;,]{0,25}?\b(?:placebo|control|comparator|standard care)", re.I)
_AMOUNT = re.compile(r"\bby\s+(?:(?:a\s+)?(?:median|mean)\s+of\s+|more than\s+|over\s+|about\s+"
                     r"|up to\s+|almost\s+|nearly\s+)?$", re.IGNORECASE)  # fmt: skip


def _quantity(text: str, *, last: bool = True) -> tuple[str | None, str | None]:
    matches = [
        m
        for m in _QUANTITY.finditer(text)
        if not _OTHER_ARM.search(text[m.end() :])
        and not (m.group(5) and _AMOUNT.search(text[: m.start()]))
    ]
    if not matches:
        return None, None
    g = matches[-1 if last else 0].groups()
    if g[0]:
        return g[0].lower(), g[1]
    if g[2]:
        return g[2], g[3]
    if g[4]:
        return g[4], None
    if g[5]:
        return g[5], None
    return "one person", None
