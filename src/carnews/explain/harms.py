"""Harms and stated limitations, read from the source's own sentences.

A harm is kept with what the source says about it: whether it happened ("grade 1
CRS in five patients"), did not ("there was no ICANS"), or is only named as a risk
("side effects can include infection"); its grade and how many people, as printed.
Negation is read per clause, so "grade 1 CRS and no ICANS" keeps the CRS.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from carnews.explain.harmcounts import HOW_MANY, harm_count
from carnews.explain.harmwords import PATTERNS, noun

if TYPE_CHECKING:  # facts imports this module; the type is only for annotations
    from carnews.explain.facts import Sentence

__all__ = ["HARM_KINDS", "Harm", "find_harms", "find_limitations"]

# In the order a card lists them: the most serious first.
HARM_KINDS = (
    "death", "secondary cancer", "icans", "crs", "infection", "low blood counts",
    "low antibodies", "other",
)  # fmt: skip
# A harm told without its name: "side effects were manageable", "AEs were mostly mild"; read
# as "other" only where the clause names no harm of that kind ("with mild fever").
_UNNAMED_HARM = re.compile(
    r"(?:(?:serious |severe )?(?:side effects|adverse (?:events|reactions))|\bS?AEs|toxicity"
    r"|safety profile)"
    r"(?:\s*\(S?AEs\))?\s+(?:(?:were|was)\s+(?:\w+\s+)?(?:mild|manageable|moderate|tolerable"
    r"|reversible|transient|low|limited)|occurred)|\bmanageable safety profile",
    re.IGNORECASE,
)
_COMPILED = {kind: re.compile(p, re.IGNORECASE) for kind, p in PATTERNS.items()}
# Where one clause ends and the next begins: negation does not cross these.
_CLAUSE = re.compile(
    r";(?![^()]*\))|,?\s+\b(?:but|while|whereas|though|although)\b"
    r"|\s+and\s+(?=(?:no|none|one|two|three|\d+|there|she|he"
    r"|the|grade|all)\b)|,\s+(?=(?:and\s+)?(?:one|two|three|\d+|there|she|he)\b)(?![^()]*\))",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:no|not|without|none|nor|never|free of)\b", re.IGNORECASE)
_POSSIBLE = re.compile(
    # "could" is a risk; "so low he could not see anyone" tells what happened
    r"\b(?:risks?(?: of| including)?|can include|can cause|may cause|could(?! not\b)|concerns?"
    r"|watch for"
    r"|monitor\w*(?: closely)? for|management of|prophylaxis|to (?:avoid|reduce|prevent|lower)"
    r"|lower risk|less toxic|such as|boxed warning|warnings? (?:for|about|of|on)"
    # an explainer's or a label's risk: "possible side effects include", "may lead to",
    # "in rare cases"
    r"|(?:possible|potential) (?:side effects|risks|complications|harms)"
    r"|(?:may|might|can) (?:include|lead to|develop|get|have|experience|occur|happen)"
    r"|in rare cases)\b"
    # "a lower incidence of CRS"; "the pooled incidence of CRS was 71%" tells what happened
    r"|\b(?:incidence|rate) of\b(?![^.;]{0,60}?\b(?:was|were|is)\b)",
    re.IGNORECASE,
)
_ASKS_RISK = re.compile(
    r"\b(?:risks?|side effects?|safe|safety|dangers?|complications?)\b[^?]*\?\s*$", re.IGNORECASE
)
_ABOVE = re.compile(r"\b(?:above|higher than|beyond|over)\s+grade\s*(\d)|\bhigh-grade\b", re.I)
_GRADE = re.compile(
    r"\bgrade\s*(?:≥\s*(\d)|(\d)(?:\s*(?:or|to|–|-)\s*(\d))?(?:\s*or (higher|above))?)"
    r"|\b(low|high)-grade\b", re.IGNORECASE)  # fmt: skip
_SEVERE_BEFORE = re.compile(r"\b(?:severe|serious|high-grade|grade\s*(?:≥\s*)?[34])\b"
                            r"(?:\s+or\s+\w+)?\s*$", re.IGNORECASE)  # fmt: skip
# "ICANS in none", "ICANS: none", "ICANS in no patient": a count of nobody after the harm.
# A count of zero says the same: "Deaths: 0", "ICANS (0%)", "ICANS in 0 of 12", "0/12".
_NONE_AFTER = re.compile(
    r"\W*(?:(?:in|:)\s*)?(?:none|no (?:patients?|one|cases?|participants?))\b"
    r"|\W*(?:(?:in|:|was|were|occurred in)\s*)?(?:0|zero)(?![.,]\d)(?:\s*%|\s*/\s*\d+|\s+of\b"
    r"|\s+(?:patients?|participants?|cases?)\b|\b)"
    # a table's or a list's count: "ICANS, n = 0", "ICANS (n=0)"
    r"|\W*n\s*=\s*0(?![.,]\d)\b",
    re.IGNORECASE,
)
# "There were 0 deaths", "zero cases of ICANS", "0 patients had ICANS" (not "grade 0-1",
# "day 0" or "1.0 x 10^6 cells"). In a flattened table a zero after a cell ("CRS | 8 | 0
# Neutropenia | 5", "CRS 8 0 Neutropenia 5") is the row before's last cell, not a count of
# the next row's harm.
_ZERO_BEFORE = re.compile(
    r"(?<![.,\d-])(?<!grade )(?<!day )(?<!week )(?<!month )(?<!\| )(?<!\|)(?<!\d )(?<!\d\t)"
    r"\b(?:0|zero)\s+(?:[\w-]+\s+){0,3}$",
    re.IGNORECASE,
)
_SEVERE_AFTER = re.compile(r"\s*(?:that |which )?(?:requir|need)\w*\s+(?:hospital|admission"
                           r"|intensive|ICU|intravenous|IV\b)", re.IGNORECASE)  # fmt: skip
# A grade with its own count after it names a subgroup: "(grade ≥3, 2%)", "of grade 3 or
# higher CRS 2%", "(grade 1, n=6; grade 2, n=1)".
_SUBGROUP = re.compile(r"[\s,:)]*(?:[A-Z]{3,5}\s+)?(?:in\s+)?(?:\d+(?:\.\d+)?%|n\s*=\s*\d)")
_SUBGROUP_GRADE = re.compile(r"\bgrade\s*(\d)[\s,:]*(?:in\s+)?(?:\d+(?:\.\d+)?%|n\s*=\s*\d)", re.I)
_SERIOUS = re.compile(r"\bsevere\b|\bserious\b|hospital|grade\s*(?:≥\s*)?[34]|life-threat", re.I)


@dataclass(frozen=True)
class Harm:
    kind: str  # one of HARM_KINDS
    status: str  # "occurred", "none" (the source says it did not), "possible"
    grade: str | None = None  # as printed: "1", "1 or 2", "3 or higher"
    max_grade: str | None = None  # "none above grade 1"
    count: str | None = None  # how many: "5", "86.7%", "all", "both"
    of: str | None = None  # the denominator, when printed ("in 4 of 12")
    serious: bool = False
    detail: str = ""  # the source's words for an "other" harm: "fever", "headache"
    sentence: str = ""
    unit: str = ""  # what was counted when not people: "reports", "cases" (a regulator's)
    words: tuple[str, ...] = ()  # each "other" harm the source names, for a list of risks


def find_harms(found: Sequence[Sentence], treated: int | None) -> tuple[Harm, ...]:
    """Each kind of harm once, with its strongest statement: happened > at most > did not >
    possible; the serious kinds first."""
    best: dict[str, Harm] = {}
    details: dict[str, list[str]] = {}
    asked = False
    for sentence in found:
        # The answer to "What are the risks?" names risks, not what happened to anyone
        # (unless it counts whom: "Is it safe? Three patients had CRS.").
        if asked and not HOW_MANY.search(sentence.text):
            sentence = replace(sentence, background=True)
        asked = bool(_ASKS_RISK.search(sentence.text))
        for clause in _CLAUSE.split(sentence.text):
            for harm in _clause_harms(clause, sentence):
                if harm.kind == "other" and harm.status != "none":
                    details.setdefault(harm.status, []).append(harm.detail)
                if _rank(harm) > _rank(best.get(harm.kind)):
                    best[harm.kind] = harm
    # The words of the kind of statement kept: what happened, else what may happen.
    status = best["other"].status if "other" in best else ""
    words = list(dict.fromkeys(w for w in details.get(status, []) if w))
    if "other" in best and words:
        best["other"] = _replace_detail(best["other"], words)
    elif "other" in best and any(h.status == "occurred" for k, h in best.items() if k != "other"):
        del best["other"]  # "SAEs occurred in 4, including two infections": the named ones tell
    ordered = sorted(best.values(), key=lambda h: (not h.serious, HARM_KINDS.index(h.kind)))
    return tuple(ordered)


def _replace_detail(harm: Harm, words: list[str]) -> Harm:
    named = words[:3]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return replace(harm, detail=listed, words=tuple(named))


def _rank(harm: Harm | None) -> int:
    if harm is None:
        return -1
    order = {"possible": 0, "none": 1, "occurred": 2}
    return 2 * order[harm.status] + (1 if harm.max_grade or harm.count or harm.grade else 0)


def _clause_harms(clause: str, sentence: Sentence) -> list[Harm]:
    harms = []
    mentions = sorted((m.start(), m.end(), kind) for kind in _COMPILED
                      if (m := _search(kind, clause)))  # fmt: skip
    for index, (_, _, kind) in enumerate(mentions):
        match = _search(kind, clause)
        if match is None or _not_a_harm(kind, clause, match):
            continue
        before = clause[: match.start()]
        # Grade and count belong to the words between the previous harm and the next one:
        # "grade 3 CRS occurred in 2% and ICANS in 3%".
        low = mentions[index - 1][1] if index else 0
        high = mentions[index + 1][0] if index + 1 < len(mentions) else len(clause)
        own = clause[low:high]
        ahead = clause[match.start() : high]  # "ICANS in 3%": the count follows the harm
        above = _ABOVE.search(own)
        negated = _negated(before)
        if negated and above and above.group(1):
            harms.append(Harm(kind, "occurred", max_grade=above.group(1), sentence=sentence.text))
            continue
        unnamed = kind == "other" and _UNNAMED.match(match.group(0).lower())
        if unnamed and (negated or possible_clause(clause, sentence)):
            continue  # "no serious adverse events": the card's other lines tell what did not
        after = clause[match.end() :]
        if (
            negated
            or re.search(r"\b(?:did not|was not|were not)\b", after, re.I)
            or (_NONE_AFTER.match(after))
        ):
            # "no patient had severe CRS" says nothing of milder CRS: only severe was absent;
            # nor does "no infections requiring hospitalisation" of milder infections.
            severe = "severe" if _SEVERE_BEFORE.search(before) or _SEVERE_AFTER.match(after) \
                else None  # fmt: skip
            harms.append(Harm(kind, "none", grade=severe, sentence=sentence.text))
            continue
        possible = sentence.background or _POSSIBLE.search(clause)
        status = "possible" if possible else "occurred"
        harms.append(_occurred(kind, status, own, ahead, match, sentence.text))
        if kind == "other" and not unnamed:  # "hair loss and fatigue": each is named
            harms += [_occurred(kind, status, own, ahead, more, sentence.text)
                      for more in _COMPILED["other"].finditer(clause, match.end())]  # fmt: skip
    return harms


def _negated(before: str) -> bool:
    """A negation before the harm, unless the harm is then named as a risk: "a REMS is no
    longer necessary to ensure that the benefits outweigh the risks of CRS" names CRS as a
    risk; it does not say nobody had it."""
    if _ZERO_BEFORE.search(before):
        return True
    found = list(_NEGATION.finditer(before))
    return bool(found) and not _POSSIBLE.search(before[found[-1].end() :])


def _search(kind: str, clause: str) -> re.Match[str] | None:
    found = _COMPILED[kind].search(clause)
    return found or (_UNNAMED_HARM.search(clause) if kind == "other" else None)


def possible_clause(clause: str, sentence: Sentence) -> bool:
    return bool(sentence.background or _POSSIBLE.search(clause))


def _not_a_harm(kind: str, clause: str, match: re.Match[str]) -> bool:
    # "CD19 CAR-T" is not a cytokine; "immune thrombocytopenia" is the disease treated;
    # "pneumococcus vaccine" responses and "hepatitis B" exclusions are not infections.
    lowered = clause.lower()
    if kind == "infection" and re.search(r"exclu|active (?:hepatitis|infection)|vaccin", lowered):
        return True
    if kind == "death" and re.search(r"mortality|cause of death|leading cause", lowered):
        return True
    # "Anti-dsDNA IgG fell by 80%": autoantibodies falling is the treatment working.
    if kind == "low antibodies" and re.search(
        r"\banti-[\w-]+ (?:igg|antibod)|autoantibod", lowered
    ):
        return not re.search(
            r"total igg|hypogammaglobulin|immunoglobulin (?:replacement|levels)", lowered
        )
    # "No participant needed IVIG", "all four no longer need IVIG" (a treatment of the
    # disease, stopped): not a count of low antibodies, nor of nobody having them.
    if kind == "low antibodies" and re.search(r"ivig|immunoglobulin inf", match.group(0), re.I):
        return re.search(r"\b(?:no|not|never|longer|without)\b", clause[: match.start()],
                         re.I) is not None  # fmt: skip
    # "My platelets kept dropping despite steroids", "before CAR-T my platelets fell": the
    # disease before the treatment, not a harm of it.
    if kind == "low blood counts" and re.match(r"platelets|neutrophils|white|red|ha?emoglobin",
                                               match.group(0), re.I):  # fmt: skip
        return bool(re.search(r"diagnos|despite|\bkept\b|before (?:the |my |CAR|treatment"
                              r"|infusion)|\bfor years\b", lowered))  # fmt: skip
    # "Neurological symptoms" are a harm only where the clause speaks of side effects; in
    # multiple sclerosis or myasthenia they are the disease.
    if kind == "icans" and re.match(r"neurolog", match.group(0), re.I):
        return not re.search(r"side effects?|adverse|toxicit|risks?\b|complication", lowered)
    return kind == "other" and re.search(r"fever from|febrile neutropenia", lowered) is not None


def _occurred(kind: str, status: str, clause: str, ahead: str, match: re.Match[str],
              text: str) -> Harm:  # fmt: skip
    start = clause.find(match.group(0))
    # A harm that labels a flattened table's row ("Grade ≥3 CRS | 8 | 0"): the grade before
    # it is a column's heading, not this harm's grade.
    row = re.match(r"\s*\|", clause[max(start, 0) + len(match.group(0)) :]) is not None
    grade = None if row else _grade_of(clause[: max(start, 0)], ahead)
    count, of, unit = harm_count(kind, clause, max(start, 0), ahead)
    serious = bool(_SERIOUS.search(clause)) or kind == "death"
    detail = noun(match.group(0)) if kind == "other" else ""
    if _UNNAMED.match(detail):
        # "other side effects", of nobody counted: "in 6 people" was the study's size.
        detail, count, of, unit = "", None, None, ""
    return Harm(kind, status, grade, None, count, of, serious, detail, text, unit=unit)


def _grade_of(before: str, ahead: str) -> str | None:
    """A grade belongs to this harm when it comes right before it ("grade 3 neutropenia") or
    after it; one further back ("CRS (all grade 1 or 2) and herpes zoster") is another's.
    After the harm's own count, graded counts are subgroups: "in 7 (grade 1, n=6; grade 2,
    n=1)" is grade 1 or 2; "in 76% (grade ≥3, 2%)" says nothing of the other 74%."""
    near = re.search(rf"(?:{_GRADE.pattern})(?:\s+\S+){{0,2}}\s*$", before, re.I)
    found = near or _GRADE.search(ahead)
    if not found:
        return None
    if not near and _SUBGROUP.match(ahead, found.end()) and HOW_MANY.search(ahead[: found.start()]):
        grades = sorted({int(g) for g in _SUBGROUP_GRADE.findall(ahead, found.start())})
        if len(grades) < 2:
            return None
        return f"{grades[0]} {'or' if grades[-1] - grades[0] == 1 else 'to'} {grades[-1]}"
    g = found.groups()
    if g[0]:
        return f"{g[0]} or higher"
    if g[1]:
        return g[1] + (f" or {g[2]}" if g[2] else "") + (" or higher" if g[3] else "")
    return "mild" if g[4].lower() == "low" else "severe"


_UNNAMED = re.compile(
    r"(?:serious |severe )?(?:side effects|adverse|s?aes\b|toxicity|safety profile)"
    r"|manageable safety"
)


# --------------------------------------------------------------------------- limitations

_LIMITS = (
    ("larger", r"larger (?:\w+ )?(?:studies|trials|cohorts)|larger controlled"),
    (
        "longer",
        r"longer(?:-term)? follow-up|long-term (?:safety|follow-up|effects)|durability"
        r"|how long",
    ),
    (
        "controlled",
        r"controlled (?:trials|studies|study|evaluation)|randomi[sz]ed (?:trials?|"
        r"evaluation|studies)|comparison group",
    ),
    (
        "preliminary",
        r"(?:results|data) (?:are|were) preliminary|preliminary (?:results|data)"
        r"|interim (?:data|results|analysis)",
    ),
)


def find_limitations(found: Sequence[Sentence]) -> list[str]:
    """What the source itself says is still missing: larger, longer or controlled studies."""
    stated = []
    for sentence in found:
        lowered = sentence.text.lower()
        needed = re.search(r"need|warrant|required|remain|should|unknown|limit|caution|too early"
                           r"|further|justify|support", lowered)  # fmt: skip
        for key, pattern in _LIMITS:
            if (
                key not in stated
                and re.search(pattern, lowered)
                and (needed or key == "preliminary")
            ):
                stated.append(key)
    return stated
