"""Details of a work: how many people were treated, with what, for how long.

Pure helpers for :mod:`carnews.explain.facts`, each reading the source's own sentences
and returning what it printed (a count, a target, a follow-up) with the sentence it came
from.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from carnews.explain.plain import COUNT, number_value

__all__ = [
    "COUNTED", "PLANNED", "SAMPLES", "chemo_first", "follow_up", "planned", "product", "recruiting",
    "target", "treated",
]  # fmt: skip

if TYPE_CHECKING:  # facts imports this module; the type is only for annotations
    from carnews.explain.facts import Sentence

PLANNED = re.compile(r"\b(?:will|plans?|planned|expects?|next|to follow|warrant\w*|support"
                      r"(?:s|ing)? moving)\b", re.IGNORECASE)  # fmt: skip


# --------------------------------------------------------------------------- counts

_PEOPLE = (r"(?:patients?|participants?|people|persons|adults|women|men|girls|boys|children"
           r"|adolescents|subjects|individuals|volunteers|cases|pts)")  # fmt: skip
_SMALL = r"(?!(?:of|in|with|and|or|to|for|from|at|after|by|months?|years?|weeks?|days?)\b)"
# Not a trial's name ("KYSA-6 trial showed that eight patients"), and no other count
# between the number and the people.
COUNTED = re.compile(
    rf"(?<![-/.])\b({COUNT})\s+(?:{_SMALL}(?!{COUNT}\s)[\w/'’-]+\s+){{0,4}}{_PEOPLE}\b", re.I
)
_YEAR_OLD = re.compile(r"\b(?:an?|one)\s+\d+-year-old\b", re.IGNORECASE)
_A_PATIENT = re.compile(
    r"\b(?:we (?:report|describe|treated|present)|(?:she|he) (?:received|was treated|was given))"
    r"(?:\s+an?\s+(?:patient|woman|man|girl|boy)\b)?", re.IGNORECASE)  # fmt: skip
_TREATED = re.compile(
    r"\b(?:received|treated|were given|was given|gave|administered|infused|dosed|enrolled"
    r"|randomi[sz]ed"
    r"|underwent|were (?:analy[sz]ed|included)|we (?:report|describe|studied|followed|analy[sz]ed"
    r"|pooled|performed|present|measured|profiled|sequenced|evaluated|explored|assessed"
    r"|investigated|examined|tested))\b", re.IGNORECASE)  # fmt: skip
# Of those enrolled, the ones given the therapy: "six were infused", "Of 11 patients
# enrolled, 10 received CAR T cells", "20 received Descartes-08 and 16 placebo".
_GIVEN = re.compile(
    rf"(?<![-/.])\b({COUNT})\s+(?:{_PEOPLE}\s+)?(?:(?:were|was|had been)\s+)?"
    r"(?:infused|received|dosed)\b(?!\s+(?:a\s+)?placebo)",
    re.IGNORECASE,
)
# Where the count given the therapy can differ from those enrolled or randomised; elsewhere
# "two received tocilizumab" is not the number treated.
_SOME_ONLY = re.compile(r"\benrol\w*|randomi[sz]\w*|leukapheresis|apheresis|screened|withdr\w*"
                        rf"|\bof\s+(?:the\s+)?{COUNT}\b", re.IGNORECASE)  # fmt: skip
# Work on samples of treated people ("serum samples from 14 patients who had received"):
# a lab study, whose count is the people the samples came from.
SAMPLES = re.compile(
    rf"\b(?:samples?|sera|serum|plasma|blood|PBMCs?|mononuclear cells|biops(?:y|ies)"
    rf"|cerebrospinal fluid|B cells|T[- ]cell receptors|TCRs)\s+"
    rf"(?:(?:obtained|collected|taken)\s+)?from\s+(?:the\s+)?"
    rf"(?:{COUNT})\s",
    re.IGNORECASE,
)
_AND_MORE = re.compile(rf"\s+with\s+[^,.;:()]+?(?:,\s*|\s+and\s+)({COUNT})\s+with\b", re.I)
_TOTAL = re.compile(rf"\b({COUNT})\s+(?:{_PEOPLE}\s+)?in total\b", re.IGNORECASE)
# Counts the reader has to work out: "three patients at each of two dose levels", "one
# patient each with AIHA, ITP and Sjögren's disease", "two dozen patients".
_EACH_OF = re.compile(rf"\b({COUNT})\s+{_PEOPLE}\s+(?:each\s+)?at each of\s+({COUNT})\s", re.I)
_EACH_WITH = re.compile(rf"\b({COUNT})\s+{_PEOPLE}\s+each\s+(?:with|for)\s+([^.;]+)", re.I)
_DOZEN = re.compile(rf"\b({COUNT}|a|half a)\s+dozen\s+(?:\w+\s+){{0,3}}?{_PEOPLE}\b", re.I)
_OF = re.compile(rf"\b(?:{COUNT})\s+of\s+(?:the\s+)?({COUNT})\b(?!\s*(?:months?|weeks?|days?))",
                 re.IGNORECASE)  # fmt: skip
_AMONG = re.compile(rf"\b(?:among|of the first|in (?:our|the) first)\s+({COUNT})\s+{_PEOPLE}",
                    re.IGNORECASE)  # fmt: skip
_N_EQUALS = re.compile(r"\(n\s*=\s*(\d+)[);,]", re.IGNORECASE)
_FIRST = re.compile(r"\b(?:dosed|treated)\s+(?:the|its)\s+first\s+(?:patient|person)\b", re.I)


def treated(found: list[Sentence], title: str = "") -> tuple[int | None, str]:
    """People given the therapy in this work, and the sentence that says so. A count the
    source never prints ("two dozen") gives no number but still the sentence: people were
    treated."""
    work = [s for s in found if not s.background and not PLANNED.search(s.text)]
    printed = _printed(" ".join([title, *(s.text for s in found)]))
    unprinted = ""
    for s in work:
        if _FIRST.search(s.text):
            return 1, s.text
        if not _TREATED.search(s.text):
            continue
        count = _sentence_count(s.text, printed)
        if count:
            return count, s.text
        if count == 0 and not unprinted:
            unprinted = s.text
    for pattern in (_AMONG, _OF, _N_EQUALS, _LABELLED, _STUDIED_IN):
        for s in work:
            if match := pattern.search(s.text):
                return number_value(match.group(1)), s.text
    return (None, unprinted) if unprinted else _in_title(title)


# "Patients treated: 4", "Number of patients infused: 12".
_LABELLED = re.compile(rf"\b{_PEOPLE}\s+(?:treated|infused|dosed)\s*:\s*({COUNT})\b", re.I)
# News and titles without a verb for treating: "a small study of CAR-T in 6 people",
# "CD19 CAR T-cell therapy in 5 patients with ANCA vasculitis".
_STUDIED_IN = re.compile(
    rf"\b(?:study|trial|therapy|treatment|cells|CAR-T|CAR T)\b[^.;:]{{0,60}}?\bin\s+(?:the\s+)?"
    rf"(?:first\s+)?({COUNT})\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b", re.IGNORECASE)  # fmt: skip


def _in_title(title: str) -> tuple[int | None, str]:
    """A count the title alone prints, when the text gives none."""
    if PLANNED.search(title) or not (match := _STUDIED_IN.search(title)):
        return None, ""
    return number_value(match.group(1)), title


def _sentence_count(text: str, printed: set[int]) -> int | None:
    if _SOME_ONLY.search(text) and (given := _GIVEN.search(text)):
        return number_value(given.group(1))
    if total := _TOTAL.search(text):  # "a further 10 were treated, for fifteen in total"
        return number_value(total.group(1))
    if (derived := _derived(text, printed)) is not None:
        return derived  # 0: a count the source never prints
    counted = [
        m
        for m in COUNTED.finditer(text)
        if not _after_of(text, m.start()) and not _ABOUT.search(text[: m.start()])
    ]
    if counted:
        values = [number_value(m.group(1)) or 0 for m in counted]
        # "one patient with IMNM and two patients with SSc" is three people.
        joined = len(values) > 1 and all(
            re.search(r"\band\b", text[a.end() : b.start()])
            and "(" not in text[a.end() : b.start()]
            for a, b in itertools.pairwise(counted)
        )
        if joined:
            return sum(values)
        # "Two patients with SLE and one with SSc": the second count names no people.
        if more := _AND_MORE.match(text, counted[0].end()):
            summed = values[0] + (number_value(more.group(1)) or 0)
            return summed if summed in printed else 0
        return values[0]
    if ages := _YEAR_OLD.findall(text):
        return len(ages)
    if equals := _N_EQUALS.search(text):  # "All patients who received … (n = 24; …)"
        return int(equals.group(1))
    if _A_PATIENT.search(text) and re.search(r"\b(?:a|an) (?:patient|woman|man|girl|boy)\b"
                                             r"|\b(?:she|he)\b", text, re.I):  # fmt: skip
        return 1
    return None


# "fewer than 100 people": a bound, not a count of the people treated.
_ABOUT = re.compile(r"\b(?:(?:fewer|less|more) than|over|nearly|almost|about|around|approximately"
                    r"|up to|some|at least)\s+$", re.IGNORECASE)  # fmt: skip


def _derived(text: str, printed: set[int]) -> int | None:
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
    if value is None:
        return None
    return value if value in printed else 0


def _printed(text: str) -> set[int]:
    return {v for m in re.finditer(COUNT, text, re.I) if (v := number_value(m.group(0)))}


def _after_of(text: str, start: int) -> bool:
    # "4 of 12 patients" is a share, but "a cohort of 15 patients" is the cohort.
    before = text[max(0, start - 20) : start]
    return bool(re.search(r"(?<!cohort )(?<!series )(?<!group )\bof\s+(?:the\s+)?$", before))


_PLANNED_N = re.compile(r"enrol?lment(?:\s*\((?:estimated|actual)\))?\s*:?\s*(?:approximately\s+)?"
                        r"(\d+)|enrol (?:up to |around )?(\d+)", re.IGNORECASE)  # fmt: skip


def planned(text: str) -> int | None:
    match = _PLANNED_N.search(text)
    return int(match.group(1) or match.group(2)) if match else None


def recruiting(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"not[ _]yet[ _]recruiting", lowered):
        return "not yet recruiting"
    if re.search(r"active[ ,_]+not[ _]recruiting|terminated|completed|withdrawn|fully enrolled",
                 lowered):  # fmt: skip
        return "closed"
    if re.search(r"\brecruiting\b|now enrolling|is enrolling|are enrolling|now open|has opened",
                 lowered):  # fmt: skip
        return "recruiting"
    return None


# --------------------------------------------------------------------------- what was given

_DUAL = re.compile(
    r"\b(CD19|BCMA|CD20|CD70)(?:[-/ ]?\s*(?:and|\+|/|-|x|×)\s*|[- ](?:targeted )?and )"
    r"(CD19|BCMA|CD20|CD70)\b(?![ -]?(?:x|×)?\s*CD3)", re.IGNORECASE)  # fmt: skip
_TARGETS = (
    ("BCMA", r"\bBCMA\b|B-cell maturation antigen"),
    ("CD19", r"\bCD19(?:\b(?!\+)|(?=[x×]))"),
    ("CD20", r"\bCD20(?:\b(?!\s+antibod)|(?=[x×]))"),
    ("DSG3", r"\bDSG3\b|desmoglein 3"),
    ("MuSK", r"\bMuSK\b"),
    ("CD7", r"\bCD7\b"),
    ("citrullinated antigens", r"\bcitrullinated\b"),
    ("insulin", r"\binsulin-specific|\bspecific for insulin|recognising insulin"),
    ("MOG", r"\bMOG-CAR|recognising myelin oligodendrocyte"),
    ("IL-23 receptor", r"IL-23 receptor"),
)


def target(title: str, text: str) -> tuple[str | None, str]:
    for where in (title, text):
        if dual := _DUAL.search(where):
            pair = sorted({dual.group(1).upper(), dual.group(2).upper()}, key=_target_rank)
            if len(pair) == 2:
                return "+".join(pair), where
        first: list[tuple[int, str]] = []
        for name, pattern in _TARGETS:
            if match := re.search(pattern, where, re.IGNORECASE if name != "MuSK" else 0):
                first.append((match.start(), name))
        if first:
            return min(first)[1], where
    return None, ""


def _target_rank(name: str) -> int:
    return ["CD19", "BCMA", "CD20", "CD70"].index(name)


_PRODUCTS = (
    (
        "T-cell engager",
        r"T[- ]cell[- ]engag\w*|bispecific(?! CAR)|teclistamab|blinatumomab"
        r"|mosunetuzumab|imvotamab|(?:x|×)\s?CD3\b",
    ),
    ("CAAR-T", r"\bCAAR|chimeric autoantibody receptor"),
    ("CAR-Treg", r"CAR[- ]?Tregs?\b|regulatory T[- ]cell"),
    ("CAR-NK", r"CAR[- ]?i?NK\b|natural killer"),
    ("in vivo CAR-T", r"\bin vivo\b"),
    (
        "mRNA CAR-T",
        r"\bm?RNA[- ](?:CAR|engineered|based|chimeric)|engineered with mRNA"
        r"|Descartes-08",
    ),
    (
        "allogeneic CAR-T",
        r"allogeneic|donor-derived|healthy[- ]donor|off-the-shelf|iPSC"
        r"|induced pluripotent|hypoimmune",
    ),
    ("autologous CAR-T", r"autologous|(?:own|patient's) (?:immune |T[- ])?(?:cells|blood)"),
    ("CAR-T", r"\bCAR[- ]?T|chimeric antigen receptor"),
)


_CELL_KINDS = ("CAAR-T", "CAR-Treg", "CAR-NK", "in vivo CAR-T", "mRNA CAR-T")


def product(title: str, text: str, study_type: str) -> str | None:
    """The kind of therapy: the title's, made more specific by the text (an "allogeneic"
    title whose cells are NK cells is CAR-NK); a review keeps its title's general word."""
    in_title = [name for name, pattern in _PRODUCTS if re.search(pattern, title, re.I)]
    in_text = [name for name, pattern in _PRODUCTS if re.search(pattern, text, re.I)]
    if study_type == "review" and in_title:
        return in_title[0]
    if in_title and in_title[0] not in ("allogeneic CAR-T", "autologous CAR-T", "CAR-T"):
        return in_title[0]
    specific = [k for k in in_text if k in _CELL_KINDS]
    if in_title:
        return (
            specific[0]
            if specific
            else in_title[0]
            if in_title[0] != "CAR-T" or len(in_text) < 2
            else next(k for k in in_text if k != "T-cell engager")
        )
    return in_text[0] if in_text else None


_FOLLOW_UP = re.compile(
    r"(?:median |mean )?follow-up (?:of |was |to |up to |beyond )?(?:a median of )?"
    rf"((?:up to )?(?:{COUNT}(?:\.\d)?)\s*(?:months?|years?|weeks?|days?))"
    rf"|((?:{COUNT}(?:\.\d)?)\s*(?:months?|years?))\s+of\s+follow-up"
    rf"|(?:remained|remains|maintained)[^.;]{{0,60}}?\bat\s+((?:{COUNT})\s*(?:months?|years?))"
    r"|\b(?:at|over|to|through)\s+(?:month|year)\s+(\d+)\b",
    re.IGNORECASE,
)


def follow_up(found: list[Sentence]) -> tuple[str | None, str]:
    for s in found:
        if s.background or PLANNED.search(s.text):
            continue
        if match := _FOLLOW_UP.search(s.text):
            value = next(g for g in match.groups() if g)
            return (f"{value} months" if value.isdigit() else value), s.text
    return None, ""


_CHEMO = re.compile(r"lymphodeplet\w*|fludarabine|cyclophosphamide|conditioning|preconditioning",
                    re.IGNORECASE)  # fmt: skip
_NO_CHEMO = re.compile(
    r"(?:without|no|not require|free of|avoid\w*)\s+(?:\w+\s+){0,3}?(?:lymphodeplet\w*|"
    r"conditioning|chemotherapy|fludarabine)|conditioning-free|lymphodepletion-free",
    re.IGNORECASE)  # fmt: skip


def chemo_first(work: str) -> bool | None:
    if _NO_CHEMO.search(work):
        return False
    return True if _CHEMO.search(work) else None
