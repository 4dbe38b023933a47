"""Of the people a work enrolled, screened or randomised, how many were given the therapy.

Pure helpers for :mod:`carnews.explain.counts`. A funnel says it many ways: labels and
numbers ("Enrolled/infused: 10/8"), "Of 11 enrolled, 10 received CAR T cells", "enrolled 14
patients, of whom 11 have received", an arm beside a placebo ("CAR-T, n=15; placebo,
n=13"), "randomised: 9 to CAR-T and 4 to standard care", and people who left before the
infusion ("Twelve were enrolled; two withdrew before infusion"), whose difference is kept
only where the source prints it.
"""

from __future__ import annotations

import re

from carnews.explain.plain import COUNT, number_value
from carnews.explain.sums import PEOPLE

__all__ = ["ENROLMENT", "OTHER_DRUGS", "given_of_enrolled"]

_PEOPLE = PEOPLE

# A verb for treating whose object is a drug for a side effect or one tried before, not the
# therapy: "CMV reactivation treated with valganciclovir", "two of whom received IVIG",
# "three were treated with belimumab before enrolment" (not the lymphodepleting drugs,
# given with the cells).
OTHER_DRUGS = (
    r"(?:tocilizumab|IVIG|immunoglobulin|steroids|glucocorticoids|corticosteroids|dexamethasone"
    r"|antibiotics|antivirals?|\w+vir\b|anakinra|siltuximab|G-CSF|transfusions?|plasma exchange"
    r"|rituximab|belimumab|obinutuzumab|anifrolumab|mycophenolate|MMF|methotrexate"
    r"|azathioprine|tacrolimus|voclosporin|eculizumab|efgartigimod|hydroxychloroquine)"
)
# Of those enrolled, the ones given the therapy: "six were infused", "Of 11 patients
# enrolled, 10 received CAR T cells", "20 received Descartes-08 and 16 placebo".
# "were treated" after its verb, but not "18 treated mice".
_AUX = r"(?:(?<=been )|(?<=were )|(?<=was )|(?<=and ))"
_GIVEN = re.compile(
    rf"(?<![-/.])\b({COUNT})\s+(?:{_PEOPLE}\s+)?(?:of whom\s+)?(?:(?:were|was|ha(?:d|ve|s) been)"
    rf"\s+)?(?:enrolled and\s+)?(?:infused|received|dosed|{_AUX}treated"
    r"|underwent\s+(?:[\w-]+\s+){0,2}?infusion)\b"
    rf"(?!\s+(?:a\s+)?placebo|\s+(?:with\s+)?(?:\w+\s+){{0,2}}?{OTHER_DRUGS})",
    re.IGNORECASE,
)
# Where the count given the therapy can differ from those enrolled or randomised; elsewhere
# "two received tocilizumab" is not the number treated.
_SOME_ONLY = re.compile(r"\benrol\w*|randomi[sz]\w*|leukapheres\w*|apheres\w*|screened|withdr\w*"
                        r"|\beligible|consented|referred|evaluable"
                        rf"|\bof\s+(?:the\s+)?{COUNT}\b", re.IGNORECASE)  # fmt: skip
ENROLMENT = re.compile(r"\benrol\w*|randomi[sz]\w*|leukapheres\w*|apheres\w*|screened"
                       r"|\beligible|consented|referred", re.IGNORECASE)  # fmt: skip
# The arm given the cells: "randomised: 9 to CAR-T and 4 to standard care".
_ARM = re.compile(rf"\b({COUNT})\s+(?:{_PEOPLE}\s+)?(?:were\s+)?(?:assigned\s+|allocated\s+)?to\s+"
                  r"(?:receive\s+)?(?:[\w-]+\s+){0,2}?(?:CAR|cells?\b)", re.IGNORECASE)  # fmt: skip
# A labelled funnel: "Enrolled, n = 10; infused, n = 8".
_GIVING_N = re.compile(r"\b(?:infused|dosed|treated)\s*[,:]\s*(?:n\s*=\s*)?(\d+)\b", re.I)
# A funnel as labels and numbers: "Enrolled/infused: 10/8", "Screened/enrolled/dosed:
# 14/10/9"; the count is the one under the label for giving the cells.
_FUNNEL = re.compile(r"\b((?:[A-Za-z-]+\s*/\s*)+[A-Za-z-]+)\s*(?:,?\s*n)?\s*[:=]?\s*"
                     r"(\d+(?:\s*/\s*\d+)+)\b")  # fmt: skip
_GIVING = re.compile(r"^(?:infused|dosed|treated|received|given|administered)$", re.I)


def given_of_enrolled(text: str, printed: set[int]) -> int | None:
    """The count given the cells, where the sentence also says how many were enrolled,
    screened or randomised: "Enrolled/infused: 10/8", "Of 11 enrolled, 10 received".
    0 where the reader must work it out and the source never prints it ("Twelve were
    enrolled; two withdrew before infusion")."""
    if (one_arm := _labelled_arm(text, printed)) is not None:
        return one_arm
    if funnel := _FUNNEL.search(text):
        labels = [w.strip() for w in funnel.group(1).split("/")]
        values = [int(v) for v in re.split(r"\s*/\s*", funnel.group(2))]
        if len(labels) == len(values):
            for label, value in zip(labels, values, strict=True):
                if _GIVING.match(label):
                    return value
    if ENROLMENT.search(text) and (arm := _ARM.search(text) or _GIVING_N.search(text)):
        return number_value(arm.group(1))
    if _SOME_ONLY.search(text) and (given := _GIVEN_OF.search(text) or _GIVEN.search(text)):
        return number_value(next(g for g in given.groups() if g))
    if (enrolled := _ENROLLED.search(text)) and (lost := _NOT_DOSED.search(text)):
        value = (number_value(enrolled.group(1)) or 0) - (number_value(lost.group(1)) or 0)
        return value if value in printed else 0
    return None


# Arms labelled with their sizes beside a placebo or control arm: "(Descartes-08, n=18;
# placebo, n=16)", "CAR-T group (n = 9) and standard-care group (n = 4)".
_ARM_N = re.compile(r"([\w-]+(?:\s+[\w-]+)?)\s*(?:arm|group)?\s*[,:(]?\s*\(?\s*n\s*=\s*(\d+)",
                    re.IGNORECASE)  # fmt: skip
_CONTROL_ARM = re.compile(r"placebo|sham|control|standard|usual|comparator|vehicle|observation",
                          re.IGNORECASE)  # fmt: skip


def _labelled_arm(text: str, printed: set[int]) -> int | None:
    """The arms given the therapy, where the others are placebo or control arms: one arm's
    size, or the sum of several ("low dose (n=6), high dose (n=6), placebo (n=4)") where
    the source prints it (else 0, a count the card cannot show)."""
    arms = [(m.group(1), int(m.group(2))) for m in _ARM_N.finditer(text)]
    given = [n for label, n in arms if not _CONTROL_ARM.search(label)]
    if not given or len(given) == len(arms):
        return None
    return given[0] if len(given) == 1 else (sum(given) if sum(given) in printed else 0)


# "Nine of the 10 enrolled patients were infused".
# "The study enrolled 12 patients, of whom 10 have received CAR-T".
_GIVEN_OF = re.compile(
    rf"\b({COUNT})\s+of\s+(?:the\s+)?{COUNT}\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\s+(?:were|was|had been)"
    r"\s+(?:infused|dosed|treated)\b"
    rf"|\bof whom\s+({COUNT})\s+(?:(?:have|had|were|was)\s+)?(?:been\s+)?(?:received|infused"
    r"|dosed|treated)\b", re.IGNORECASE)  # fmt: skip
# "Twelve participants were enrolled; two withdrew before infusion."
_ENROLLED = re.compile(rf"\b({COUNT})\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\s+(?:were|had been)\s+enrol",
                       re.IGNORECASE)  # fmt: skip
_NOT_DOSED = re.compile(
    rf"\b({COUNT})\s+(?:{_PEOPLE}\s+)?(?:(?:withdrew|dropped out|discontinued|died|progressed)"
    r"[^.;]{0,30}?\b(?:before|prior to)\b|(?:were|was) (?:not|never) (?:dosed|infused|treated)"
    r"|did not receive)", re.IGNORECASE)  # fmt: skip
