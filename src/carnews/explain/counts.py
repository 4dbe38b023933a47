"""How many people a work treated, read from its own sentences.

Pure helpers for :mod:`carnews.explain.details`. Sources state the count many ways: a verb
for treating beside a count of people ("ten patients received"), a funnel where fewer are
infused than enrolled ("Enrolled/infused: 10/8"), per-dose-level or per-disease counts the
reader adds up ("DL1: 3 patients; DL2: 3 patients"), a cohort label ("In our cohort
(n=9)"), "a total of 20 (SLE 10, SSc 5 …)", a regulator's basis ("data from 14 patients")
and news of "the first participant dosed". Counts that are not the people treated — those
still being enrolled, earlier studies' sizes, people given a drug for a side effect — are
passed over. A count the reader must work out is kept only where the source prints it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from carnews.explain.funnel import ENROLMENT, OTHER_DRUGS, given_of_enrolled
from carnews.explain.plain import COUNT, number_value
from carnews.explain.sums import LEVEL, PEOPLE, derived, printed_counts
from carnews.explain.totals import IN_THE_STUDY, PART, whole, whole_only

__all__ = ["COUNTED", "PLANNED", "SAMPLES", "treated"]

if TYPE_CHECKING:  # facts imports details, which imports this module
    from carnews.explain.facts import Sentence

PLANNED = re.compile(r"\b(?:will|plans?|planned|expects?|next|to follow|warrant\w*|support"
                      r"(?:s|ing)? moving)\b", re.IGNORECASE)  # fmt: skip
# "plans" as a noun ("to optimise development plans") says nothing of what is yet to come.
_PLAN_NOUN = re.compile(r"\b(?:development|treatment|clinical|regulatory|business|care|study"
                        r"|trial|management|pricing|access) plans?\b", re.IGNORECASE)  # fmt: skip
# Still happening, so not yet counted: "Four further patients are being enrolled".
_ONGOING = re.compile(r"\b(?:are|is) being\b|\bto be (?:enrol\w*|treated|dosed|infused)"
                      r"|\bawaiting\b", re.IGNORECASE)  # fmt: skip

_PEOPLE = PEOPLE  # the words for people a count may stand before
_SMALL = r"(?!(?:of|in|with|and|or|to|for|from|at|after|by|months?|years?|weeks?|days?)\b)"
# Not a trial's name ("KYSA-6 trial showed that eight patients"), and no other count
# between the number and the people.
COUNTED = re.compile(
    rf"(?<![-/.])\b({COUNT})\s+(?:\(\d+\)\s+)?(?:{_SMALL}(?!{COUNT}\s)[\w/'’-]+\s+){{0,4}}{_PEOPLE}\b",
    re.I,
)
_YEAR_OLD = re.compile(r"\b(?:an?|one)\s+\d+-year-old\b", re.IGNORECASE)
_A_PATIENT = re.compile(
    r"\b(?:we (?:report|describe|treated|present)|(?:she|he) (?:received|was treated|was given))"
    r"(?:\s+an?\s+(?:patient|woman|man|girl|boy)\b)?", re.IGNORECASE)  # fmt: skip
# One person named or singled out: "A single patient with lupus treated with…", "Emma had
# the infusion on her 16th birthday".
_SINGLE = re.compile(
    r"\ba single (?:\w+\s+){0,2}?(?:patient|person|participant|woman|man|girl|boy|child)\b"
    r"|\b(?:she|he|(?!(?:Patients?|All|They|Each|Both|Participants?|Everyone)\b)(?-i:[A-Z][a-z]+))"
    r" (?:had|received|got) (?:the|her|his) (?:infusion|CAR|cells)", re.IGNORECASE)  # fmt: skip
_TREATED = re.compile(
    r"\b(?:received|treated|treating|were given|was given|gave|administered|infused|dosed"
    r"|enrolled|randomi[sz]ed|(?:been |was |were )?given to|had the infusion"
    r"|underwent|were (?:analy[sz]ed|included)|we (?:report|describe|studied|followed|analy[sz]ed"
    r"|pooled|performed|present|measured|profiled|sequenced|evaluated|explored|assessed"
    r"|investigated|examined|tested|used)"
    # A regulator's or company's basis: "based on data from 15 patients".
    r"|(?:data|results|experience) (?:from|in|on) (?:the (?:first )?)?(?=\w+ (?:\w+ )?" + _PEOPLE
    + r"))\b", re.IGNORECASE)  # fmt: skip
_SUPPORTIVE = re.compile(
    rf"\b(?:treated with|received|required|given)\s+(?:[\w-]+\s+){{0,2}}?{OTHER_DRUGS}", re.I
)
# The cells given, told apart from a drug given for a side effect: "ten were infused",
# "11 patients received CAR T cells", "all six had the infusion".
_GIVEN_CELLS = re.compile(
    rf"(?<![-/.])\b({COUNT})\s+(?:{_PEOPLE}\s+)?(?:of whom\s+)?(?:were|ha(?:d|ve|s) been)\s+"
    r"(?:infused|dosed)\b"
    rf"|(?<![-/.])\b({COUNT})\s+(?:{_PEOPLE}\s+)?underwent\s+(?:[\w-]+\s+){{0,2}}?infusion"
    rf"|(?<![-/.])\b({COUNT})\s+(?:{_PEOPLE}\s+)?received\s+(?:\w+\s+){{0,3}}?"
    r"(?:CAR|cells|infusion)"
    rf"|\ball\s+({COUNT})\s+(?:had|got)\s+the\s+(?:infusion|cells)", re.IGNORECASE)  # fmt: skip
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
# "fifteen in total", "a total of 20 (SLE 10, SSc 5)", "in a total of three patients: one…";
# not "a total of 40 samples".
_TOTAL = re.compile(
    rf"\b({COUNT})\s+(?:{_PEOPLE}\s+)?in total\b|\ba total of ({COUNT})"
    rf"(?=\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b|\s*[(:;,—–]|\s+-)", re.IGNORECASE)  # fmt: skip
# A share written with a slash: "8/10 patients achieved remission".
_SLASH_OF = re.compile(rf"(?<![\d./])\d+\s*/\s*(\d+)\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b", re.I)
_OF = re.compile(rf"\b(?:{COUNT})\s+of\s+(?:the\s+)?({COUNT})\b(?!\s*(?:months?|weeks?|days?))",
                 re.IGNORECASE)  # fmt: skip
# "Among 16 lupus patients with at least six months of follow-up".
_AMONG = re.compile(rf"\b(?:among|of the first|in (?:our|the) first)\s+({COUNT})\s+"
                    rf"(?:[\w-]+\s+){{0,2}}?{_PEOPLE}", re.IGNORECASE)  # fmt: skip
# People whose cells or samples a lab used: "in PBMC cultures from 12 of 14 patients".
_IN_A_DISH = re.compile(r"\b(?:cultures?|samples?|cells|PBMCs?|sera|serum|plasma|biops(?:y|ies))"
                        r"\s+(?:\w+\s+)?from\s+(?:the\s+)?$", re.IGNORECASE)  # fmt: skip
# A harm's count, not the cohort's: "grade 1 CRS (n=2)", "hypogammaglobulinaemia (n=4)".
_HARM_N = re.compile(r"(?:CRS|ICANS|grade\s*\d|\w+(?:aemia|emia|penia|itis|infection))\s*$",
                     re.IGNORECASE)  # fmt: skip
# A share's base, where nothing else counts the people: "undetectable in 75% (3/4)",
# "lymphopenia (5/5)".
_SHARE = re.compile(r"(?:\d+(?:\.\d+)?\s*%\s*)?\(\s*\d+\s*/\s*(\d+)\s*\)")
_N_EQUALS = re.compile(r"\(\s*n\s*=\s*(\d+)\s*[);,]", re.IGNORECASE)
# A cohort named with its size: "In our cohort (n=9)", "Patients (N = 12)".
_COHORT_N = re.compile(r"\b(?:cohort|population|series|patients|participants|subjects)\s*"
                       r"\(\s*n\s*=\s*(\d+)\s*[);,]", re.IGNORECASE)  # fmt: skip
# The first person given the therapy: "dosed the first patient", "the first participant has
# been dosed", "First Patient Dosed", "Dosing our first U.S. patient"; not "the first
# patient treated had CRS", one of a cohort.
_FIRST = re.compile(
    r"\b(?:dos(?:ed|es|ing)|treat(?:ed|s|ing)|infus(?:ed|es|ing))\s+(?:(?:the|its|our|their)\s+)?"
    r"first\s+(?:[\w.]+\s+)?"
    r"(?:patient|person|participant|subject)\b|\bfirst\s+(?:[\w.]+\s+)?(?:patient|person"
    r"|participant|subject)\s+(?:(?:(?:has|had)\s+been|was|is)\s+(?:dosed|treated|infused)|dosed)\b",
    re.IGNORECASE,
)
# A past count inside a sentence about plans: "will run a phase 2 study after treating 18
# patients", "has dosed 12 patients and plans to…".
_DONE = re.compile(
    rf"\b(?:after|having|has|have|had)\s+(?:(?:already|so far|now|to date)\s+)?(?:treated|treating"
    rf"|dosed|dosing"
    rf"|infused)\s+({COUNT})\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b", re.IGNORECASE)  # fmt: skip


def treated(found: list[Sentence], title: str = "") -> tuple[int | None, str]:
    """People given the therapy in this work, and the sentence that says so. A count the
    source never prints ("two dozen") gives no number but still the sentence: people were
    treated."""
    current = [s for s in found if not s.background and not _ONGOING.search(s.text)]
    # Each sentence with the clauses citing earlier work taken out; sentences about
    # earlier work ("In 2022, doctors in Erlangen treated 5") are read last.
    own = sorted(((s, _own(s.text)) for s in current), key=lambda pair: _cited(pair[0].text))
    work = [(s, text) for s, text in own if not _planned(s.text)]
    printed = printed_counts(" ".join([title, *(s.text for s in found)]))
    if found_count := _first(work) or _infused(work, printed):
        return found_count
    unprinted, uncounted = "", False
    for s, text in work:
        if not (_TREATED.search(text) or LEVEL.search(text) or _COHORT_N.search(text)):
            continue
        if _SUPPORTIVE.search(text) and len(_TREATED.findall(text)) < 2:
            continue  # "one had CMV reactivation treated with valganciclovir"
        count = _sentence_count(text, printed)
        if count:
            return _completed(count, s.text, found)
        if count == 0 and not unprinted:
            unprinted = s.text
        uncounted = uncounted or count is None
    if found_count := _without_verb(work, own, unprinted):
        count, sentence = found_count
        return _completed(count, sentence, found) if count else found_count
    if unprinted:
        return None, unprinted
    if uncounted and (only := whole_only([text for _, text in work])):
        return only  # "We describe … children with lupus. All three reached remission."
    return _first([(title, title)]) or _in_title(title)


def _completed(count: int, sentence: str, found: list[Sentence]) -> tuple[int, str]:
    """The whole a later sentence prints where the count found is only a part: "Two
    further patients followed … All four improved"."""
    texts = [s.text for s in found]
    later = texts[texts.index(sentence) + 1 :] if sentence in texts else []
    return (whole(count, sentence, later) or count), sentence


def _infused(work: list[tuple[Sentence, str]], printed: set[int]) -> tuple[int | None, str] | None:
    """Fewer may be infused than were enrolled: the infused count wins wherever it stands."""
    for s, text in work:
        if (given := given_of_enrolled(text, printed)) is not None:
            return (given or None), s.text
    if ENROLMENT.search(" ".join(text for _, text in work)):  # "…enrolled. Ten were infused."
        for s, text in work:
            if (cells := _GIVEN_CELLS.search(text)) and not LEVEL.search(text):
                return number_value(next(g for g in cells.groups() if g)), s.text
    return None


def _without_verb(
    work: list[tuple[Sentence, str]], own: list[tuple[Sentence, str]], unprinted: str
) -> tuple[int | None, str] | None:
    """A count no verb for treating stands beside: "among 10 patients", "8/10 patients",
    "a trial of 12 participants"; and a past count inside a sentence about plans."""
    patterns = (_AMONG, _OF, _SLASH_OF, _N_EQUALS, _LABELLED, IN_THE_STUDY, _STUDIED_IN,
                _STUDY_OF, _SHARE)  # fmt: skip
    for pattern in patterns:
        for s, text in work:
            if s.text != unprinted and (match := pattern.search(text)):
                if pattern is _N_EQUALS and _HARM_N.search(text[: match.start()]):
                    continue  # "grade 1 CRS (n=2)": those who had a harm
                if _IN_A_DISH.search(text[: match.start()]):
                    continue  # "cultures from 12 of 14 patients": cells, not people treated
                return number_value(match.group(1)), s.text
    for s, text in work:  # "The original five have been joined by 19 more"
        if PART.search(text) and (part := COUNTED.search(text)):
            return number_value(part.group(1)), s.text
    for s, text in own:
        if match := _DONE.search(text):
            return number_value(match.group(1)), s.text
    return None


# A clause citing earlier work: "Building on earlier work in which 15 patients were
# treated", "A previous report described 3 patients".
_CITED_CLAUSE = re.compile(
    r"\b(?:earlier|previous(?:ly)?|prior|published|landmark|pioneering)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:work|stud(?:y|ies)|reports?|trials?|series|cases?|experience|data)\b[^,;.]*",
    re.IGNORECASE,
)
# A sentence that opens on a past year and does not speak of this work.
_YEAR_LED = re.compile(r"^\s*(?:In|By|Since)\s+(?:(?:early|late|mid-?)\s*)?(?:19|20)\d\d\b")
_THIS_WORK = re.compile(r"\b(?:we|our|here|this (?:study|trial|report))\b", re.IGNORECASE)


# A correction's wrong version, before what it "should read": "The sentence 'Seven
# patients received' should read 'Six patients received'", "7 should have been 6".
# Not "they should be monitored": "should be" only before the corrected number or quote.
_CORRECTED = re.compile(
    rf"^.*\b(?:should (?:have )?read|should (?:have been|be)(?=\s+(?:[\"“‘']|{COUNT}\b))"
    r"|(?:is|was|has been) corrected to(?: read)?|(?:is|was) replaced (?:by|with))\b",
    re.IGNORECASE)  # fmt: skip


def _own(text: str) -> str:
    return _CITED_CLAUSE.sub("", _CORRECTED.sub("", text))


def _cited(text: str) -> bool:
    return bool(_YEAR_LED.search(text)) and not _THIS_WORK.search(text)


def _planned(text: str) -> bool:
    return bool(PLANNED.search(_PLAN_NOUN.sub("", text)))


def _first(texts: Sequence[tuple[Sentence | str, str]]) -> tuple[int, str] | None:
    """The first person dosed, where the sentence gives no other count of people treated;
    a title's "First Participant Dosed" only where the text gives no count."""
    for source, text in texts:
        if _FIRST.search(text) and not _planned(text) and not COUNTED.search(text):
            return 1, source if isinstance(source, str) else source.text
    return None


# "Patients treated: 4", "Number of patients infused: 12", "Patients: 7 (SLE 4, SSc 3)",
# "Patients treated, n = 11".
_LABELLED = re.compile(rf"\b{_PEOPLE}(?:\s+(?:treated|infused|dosed))?\s*(?::\s*(?:n\s*=\s*)?"
                       rf"|,\s*n\s*=\s*)({COUNT})\b", re.IGNORECASE)  # fmt: skip
# News and titles without a verb for treating: "a small study of CAR-T in 6 people",
# "CD19 CAR T-cell therapy in 5 patients with ANCA vasculitis".
_STUDIED_IN = re.compile(
    rf"\b(?:study|trial|therapy|treatment|cells|CAR-T|CAR T)\b[^.;:]{{0,60}}?\bin\s+(?:the\s+)?"
    rf"(?:first\s+)?({COUNT})\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b", re.IGNORECASE)  # fmt: skip


# The work named with its size: "a phase 1 trial of 12 participants", "a case series of 8
# patients"; not "4 of 12 patients" (a share) nor "the first German study of 5 people"
# (someone else's, as an explainer cites it).
_STUDY_OF = re.compile(
    r"\b(?:this|our|the present|an?)\s+(?:[\w/-]+\s+){0,3}?(?:study|trial|series|cohort|analysis"
    rf"|experience)\s+of\s+({COUNT})\s+(?:\w+\s+){{0,2}}?{_PEOPLE}\b",
    re.IGNORECASE,
)


def _in_title(title: str) -> tuple[int | None, str]:
    """A count the title alone prints, when the text gives none: "CAR-T in 5 patients",
    "Seven myasthenia patients improve after BCMA CAR-T", "… in myositis (n=6)"; not a
    plan ("to enrol 24 patients") nor a bound ("more than 100 patients")."""
    match = _STUDIED_IN.search(title) or _STUDY_OF.search(title) or _N_EQUALS.search(title)
    if not match and _THERAPY.search(title) and not ENROLMENT.search(title):
        match = next((m for m in COUNTED.finditer(title)
                      if not _ABOUT.search(title[: m.start()])), None)  # fmt: skip
    if PLANNED.search(title) or not match:
        return None, ""
    return number_value(match.group(1)), title


_THERAPY = re.compile(r"\bCAR[- ]?T|\bCAR[- ]?NK|chimeric antigen|cell therapy|\bCAAR", re.I)


def _sentence_count(text: str, printed: set[int]) -> int | None:
    if total := _TOTAL.search(text):  # "a further 10 were treated, for fifteen in total"
        return number_value(total.group(1) or total.group(2))
    if cohort := _COHORT_N.search(text):  # "patients (N=4) with ITP (n=3) or AIHA (n=1)"
        return int(cohort.group(1))
    if (worked := derived(text, printed)) is not None:
        return worked  # 0: a count the source never prints
    counted = [
        m
        for m in COUNTED.finditer(text)
        if not _after_of(text, m.start())
        and not _ABOUT.search(text[: m.start()])
        and not _UNTREATED.search(m.group(0))
        and not _NEVER_GIVEN.match(text, m.end())
    ]
    if counted:
        return _joined(text, counted, printed)
    if cells := _GIVEN_CELLS.search(text):  # "Ten were infused."
        return number_value(next(g for g in cells.groups() if g))
    if ages := _YEAR_OLD.findall(text):
        return len(ages)
    if equals := _N_EQUALS.search(text):  # "All patients who received … (n = 24; …)"
        return int(equals.group(1))
    if _SINGLE.search(text):
        return 1
    if _A_PATIENT.search(text) and re.search(r"\b(?:a|an) (?:patient|woman|man|girl|boy)\b"
                                             r"|\b(?:she|he)\b", text, re.I):  # fmt: skip
        return 1
    return None


def _joined(text: str, counted: list[re.Match[str]], printed: set[int]) -> int:
    values = [number_value(m.group(1)) or 0 for m in counted]
    # "one patient with IMNM and two patients with SSc" is three people.
    # Not "… and one patient with CRS needed tocilizumab": a harm's count, not a group.
    joined = len(values) > 1 and all(
        re.search(r"\band\b", text[a.end() : b.start()])
        and "(" not in text[a.end() : b.start()]
        and not _COMPARED.search(text[a.end() : b.start()])
        and not _HARM.match(text, b.end())
        for a, b in itertools.pairwise(counted)
    )
    if joined:
        return sum(values)
    # "Two patients with SLE and one with SSc": the second count names no people.
    if more := _AND_MORE.match(text, counted[0].end()):
        summed = values[0] + (number_value(more.group(1)) or 0)
        return summed if summed in printed else 0
    # "all three patients with SLE … and a patient with lupus nephritis": one more group.
    one = _ONE_MORE.search(text, counted[0].end()) if len(values) == 1 else None
    by_disease = text[counted[0].end() :].lstrip().startswith("with")
    if one and by_disease and not _HARM.match(text, one.end()):
        return values[0] + 1 if values[0] + 1 in printed else 0
    return values[0]


# A comparison group beside the people treated: "… and compared them with 12 healthy
# controls and 10 patients on standard therapy".
_COMPARED = re.compile(r"\bcompar\w*|\bversus\b|\bvs\b|\bcontrols?\b|\bhealthy\b", re.I)
_ONE_MORE = re.compile(r"\band\s+(?:a|one|another)\s+(?:patient|person|participant|woman|man"
                       r"|child)\s+with\b", re.IGNORECASE)  # fmt: skip
_HARM = re.compile(r"\s+(?:with\s+)?(?:\w+\s+)?(?:CRS|ICANS|grade|infection|cytokine|neurotox"
                   r"|fever|neutropenia|cytopenia)|\s+(?:had|developed|needed|experienced"
                   r"|required)\b", re.IGNORECASE)  # fmt: skip


# People the therapy was not given to: "B cells from 12 untreated patients", "10 patients who
# had never received cell therapy", "8 healthy controls".
_UNTREATED = re.compile(r"\b(?:untreated|treatment-na[iï]ve|healthy|control|matched)\b", re.I)
_NEVER_GIVEN = re.compile(r"[^.;,]{0,40}?\bwho (?:had )?(?:never|not) (?:received|been treated)",
                          re.IGNORECASE)  # fmt: skip
# "fewer than 100 people": a bound, not a count of the people treated.
_ABOUT = re.compile(r"\b(?:(?:fewer|less|more) than|over|nearly|almost|about|around|approximately"
                    r"|up to|some|at least)\s+$", re.IGNORECASE)  # fmt: skip


def _after_of(text: str, start: int) -> bool:
    # "4 of 12 patients" is a share, but "a cohort of 15 patients" is the cohort, and so is
    # "the median age of the 8 treated patients" (no count before "of").
    before = text[max(0, start - 30) : start]
    return bool(re.search(rf"\b{COUNT}\s+(?:\w+\s+)?of\s+(?:the\s+)?$", before, re.IGNORECASE))
