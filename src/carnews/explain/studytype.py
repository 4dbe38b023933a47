"""The study type of a source: what kind of work it reports, read from what the work
itself did ("we treated", "we measured IgG in 14 patients", "we searched"), not its
background, and from how news, notices and patients' stories say what they are (their
source kind, :mod:`carnews.explain.sourcekind`). A feed's own labels (PubMed publication
types, ClinicalTrials.gov phases) win over the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from carnews.explain.counts import PLANNED, SAMPLES
from carnews.explain.harms import find_harms
from carnews.explain.plain import COUNT
from carnews.explain.results import find_outcomes
from carnews.explain.sourcekind import DECISION, NEWS, PERSONAL, SAFETY_ACTION, regulator_named

if TYPE_CHECKING:  # facts imports this module; the type is only for annotations
    from carnews.explain.facts import Sentence

__all__ = [
    "ONE_PERSON", "introduced_phase", "phase_from_fields", "phase_of", "sampled", "study_phase",
    "study_type", "untreated",
]  # fmt: skip


_PUBLICATION_TYPES = (
    ("review", r"review|meta-analysis|practice guideline|guideline"),
    ("case report", r"case reports?"),
    ("phase 3", r"phase iii"),
    ("phase 1/2", r"phase i/ii"),
    ("phase 2", r"phase ii"),
    ("phase 1", r"phase i"),
    ("conference abstract", r"congress|meeting abstract"),
    ("news", r"news|newspaper article"),
)
_PHASES = (
    ("phase 1/2", r"phase\s*(?:1|I)[ab]?\s*(?:/|-|\||,|and)\s*(?:phase\s*)?(?:2|II)[ab]?\b"),
    ("phase 3", r"phase\s*(?:3|III)\b"),
    ("phase 2", r"phase\s*(?:2|II)[ab]?\b"),
    ("phase 1", r"(?:early\s+)?phase\s*(?:1|I)[ab]?\b|early_phase1"),
)
_REVIEW = re.compile(
    r"\b(?:systematic (?:literature )?review|meta-analys[ie]s|narrative review|scoping review"
    r"|in this (?:review|viewpoint)|this review|we review|viewpoint|points to consider"
    r"|we searched)\b"
    # "This article outlines …, summarises early experience and discusses …"
    r"|\bthis (?:article|paper|overview|chapter|perspective|commentary)\s+(?:\w+\s+){0,2}?"
    r"(?:outlines|summari[sz]es|reviews|discusses|examines|considers|highlights)\b"
    # "we summarize the emerging clinical experience", "summarises current evidence"
    r"|\bsummari[sz]es? (?:the )?(?:(?:current|recent|existing|published|early|emerging"
    r"|growing|clinical|available) ){1,2}(?:evidence|data|experience|knowledge|literature)\b"
    # A review's pooled voice: "across reports, CRS has been mild".
    r"|\bacross (?:the )?(?:published |available )?(?:reports|studies|trials|case series)\b",
    re.IGNORECASE)  # fmt: skip
# A letter answering another's paper: "We read with interest the report by …", "In their
# recent report, Chen et al. …". It is a review of that paper unless it adds patients of its
# own (a research letter's "To the Editor: We treated 10 patients" says nothing of this kind).
_LETTER = re.compile(
    r"\bwe (?:have )?read with (?:great |much )?interest\b"
    r"|\bin (?:their|a) recent (?:report|article|paper|letter)\b",
    re.IGNORECASE)  # fmt: skip
_RETELLING = re.compile(
    r"\ban? (?:new|recent) (?:report|study|paper|analysis|trial) (?:of|on|in|from)\b"
    r"|\bin the (?:new |recent )?(?:study|report|paper),", re.IGNORECASE)  # fmt: skip
_OWN_VOICE = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
# A chart review of the authors' own patients is a case series, though it says "reviewed":
# "We retrospectively reviewed patients … treated at our institution".
_OWN_RECORDS = re.compile(
    r"\bwe (?:retrospectively )?(?:reviewed|analy[sz]ed|identified|studied)\b[^.;]{0,120}?"
    r"\b(?:treated|infused|who received)\b[^.;]{0,80}?\b(?:at|in) our (?:institution|cent(?:re|er)"
    r"|hospital|clinic|department|unit)\b",
    re.IGNORECASE)  # fmt: skip
_LAB = re.compile(
    r"\b(?:mice|mouse|murine|in vitro|hybridomas?|xenograft|preclinical|single-cell"
    r"|experimental (?:model|autoimmune|colitis)|rats?|non-human primates?|cynomolgus|macaques?"
    r"|rhesus|zebrafish|organoids?|cell lines?|humani[sz]ed (?:mice|mouse))\b",
    re.IGNORECASE)  # fmt: skip
# How a review names itself where it does not say "review": its title's forms ("current
# status and future directions", "hope or hype?", "an update") and its voice ("here we
# weigh that evidence", "early reports describe"). Read only where nobody is counted.
_REVIEW_VOICE = re.compile(
    r"\bcurrent (?:status|state|landscape|evidence|perspectives?)\b|\bfuture (?:directions"
    r"|perspectives|prospects)\b|\bstate of the art\b|\ban update\b|\bhope or hype\b"
    r"|\bhype or hope\b|\bopportunities and challenges\b|\bchallenges and opportunities\b"
    r"|\ba primer\b|\bwhere (?:are|do) we (?:stand|go)\b|\bthe road ahead\b|\ban overview\b"
    r"|\bpromise and (?:pitfalls|perils|challenges)\b|\bwe (?:weigh|discuss|highlight|outline"
    r"|consider|examine|overview)\b|\b(?:early|published|recent|initial) (?:reports|case series"
    r"|studies|experience) (?:describe|suggest|show|report|indicate)\b",
    re.IGNORECASE,
)


def phase_of(text: str) -> str | None:
    for name, pattern in _PHASES:
        if re.search(pattern, text, re.IGNORECASE):
            return name
    return None


def phase_from_fields(phases: Sequence[str]) -> str | None:
    numbers = {p for p in ("1", "2", "3") if any(p in x for x in phases)}
    if numbers == {"1", "2"}:
        return "phase 1/2"
    return f"phase {max(numbers)}" if numbers else None


def study_phase(title: str, found: list[Sentence]) -> str | None:
    """The phase of this work: in the title, or a sentence that says "this … phase …"."""
    if phase := phase_of(title):
        return phase
    for s in found:
        if s.background or PLANNED.search(s.text):
            continue
        this = re.search(r"\b(?:in|this|our)\b[^.;]{0,60}\bphase|^phase\b", s.text, re.I)
        if (this or s.section == "design") and (phase := phase_of(s.text)):
            return phase
    return None


def introduced_phase(found: list[Sentence]) -> str | None:
    """The phase a congress abstract gives its own trial where it introduces it, often
    under its opening label ("RESET-SLE is an open-label phase 1/2 trial of …")."""
    for s in found:
        if re.search(r"\b(?:is|was) an? (?:[\w/-]+\s+){0,4}?phase\b", s.text, re.I):
            return phase_of(s.text)
    return None


def study_type(title: str, found: list[Sentence], kind: str, treated: tuple[int | None, str],
                types: Sequence[str], phases: Sequence[str]) -> str:  # fmt: skip
    for name, pattern in _PUBLICATION_TYPES:
        if any(re.search(rf"\b(?:{pattern})\b", t, re.IGNORECASE) for t in types):
            return name
    if kind == "trial registry":
        return "trial registration"
    if phase := phase_from_fields(phases):
        return phase
    lead = found[0].text if found else ""
    # A report of a regulator's decision is regulatory whoever tells it, when the decision
    # is the headline's first claim: "China clears first IND … as start-up eyes U.S.
    # filing" (not "Start-up raises $75 million after FDA clears its IND").
    acts = DECISION.search(title) or SAFETY_ACTION.search(title)
    money = NEWS.search(title)
    first = acts is not None and (money is None or acts.start() < money.start())
    if kind == "regulator" or (first and regulator_named(title, lead)):
        return "regulatory"
    if kind == "patient organisation":
        return (
            "patient story"
            if PERSONAL.search(title) or PERSONAL.search(" ".join(s.text for s in found))
            else "news"
        )
    if kind in ("news site", "press release"):
        return "news"
    return _paper_type(title, found, treated)


# Lab work on people's samples or cells, told by what was done to them: "we measured IgG
# against tetanus … in 14 patients", "T cells were isolated from 10 patients … and
# transduced" (the samples themselves: counts.SAMPLES).
_ASSAY = re.compile(
    r"\b(?:measured|profiled|sequenced|quantified|analy[sz]ed|characteri[sz]ed)\b[^.;]{0,120}?"
    r"\b(?:antibod\w*|IgG|IgM|IgA|titres?|titers?|sera|serum|repertoires?|T[- ]cell receptors?"
    r"|TCRs?|B[- ]cell receptors?|clonotypes?|transcriptom\w*|single-cell|cytokines?"
    r"|flow cytometry|cerebrospinal fluid|CSF)\b"
    r"|\b(?:antibod\w*|IgG|titres?|titers?)\b[^.;]{0,60}?\b(?:were|was) (?:measured|quantified"
    r"|profiled|analy[sz]ed)\b",
    re.IGNORECASE,
)
_CELLS_FROM = re.compile(
    r"\b(?:T[- ]cells?|cells|PBMCs?|lymphocytes|leukapheresis products?|samples?|blood)\s+"
    r"(?:were\s+|was\s+)?(?:isolated|obtained|collected|derived|drawn|taken|harvested)\s+from\b"
    # "products from 11 of 12 patients met release criteria", "plasma cells from 7 patients"
    rf"|\b(?:products?|cells)\s+(?:made\s+|manufactured\s+)?from\s+(?:all\s+)?{COUNT}\b",
    re.IGNORECASE,
)
# Someone was given something in the sentence: cells from them may be what was infused.
_GIVEN = re.compile(r"\b(?:infused|re-?infused|administered|dosed|received|given|were treated"
                    r"|was treated)\b", re.IGNORECASE)  # fmt: skip
# The people whose cells were studied had the therapy ("after CD19 CAR T cells", "treated
# with CAR-T"); without it, cells manufactured from untreated patients count nobody treated.
_AFTER_THERAPY = re.compile(
    # ("who received the fully human autologous CD19 CAR T-cell product")
    r"\b(?:after|following|treated with|received|infused with|given)\s+(?:\w+[\s-]+){0,6}?"
    # A T-cell engager is the therapy too: "five patients who received blinatumomab".
    r"(?:CAR|CAAR|cell therapy|infusion|T-cell engager|bispecific|blinatumomab|teclistamab"
    r"|mosunetuzumab|imvotamab)|\bafter (?:the )?infusion|post-infusion",
    re.IGNORECASE,
)
_NEVER_TREATED = re.compile(
    r"\b(?:never\s+|not\s+(?:yet\s+)?(?:been\s+)?)(?:received|treated|had|given)\b|\buntreated\b"
    r"|\b(?:CAR-T|therapy|treatment)[- ]na[iï]ve\b",
    re.IGNORECASE,
)


def untreated(sentence: str) -> bool:
    """Samples or cells of people never given the therapy: no count of people treated."""
    cells = _CELLS_FROM.search(sentence) or SAMPLES.search(sentence)
    return bool(cells) and (not _AFTER_THERAPY.search(sentence)
                            or bool(_NEVER_TREATED.search(sentence)))  # fmt: skip


ONE_PERSON = re.compile(
    r"\b(?:an?|one) \d{1,2}-year-old (?:woman|man|girl|boy|patient|female|male|child|adolescent"
    r"|teenager)\b",
    re.IGNORECASE,
)
_GROUP = re.compile(r"\b(?:cohort|case series|series|multicent(?:re|er)|registry)\b", re.I)
# Others' patients, in a review's voice: "CRS has been reported", "has produced remissions".
_OTHERS = re.compile(r"\b(?:has|have) been (?:reported|described|observed|seen)\b|\breports\b"
                     r"|\bpublished\b|\bliterature\b|\b(?:has|have) (?:produced|led to|induced"
                     r"|achieved|shown)\b", re.IGNORECASE)  # fmt: skip


_OWN_ASSAY = re.compile(
    r"\bwe (?:performed|did|used|applied|ran|carried out)\b[^.;]{0,80}?\b(?:flow cytometry"
    r"|mass cytometry|CyTOF|sequencing|single-cell|transcriptom\w*|proteomic\w*|ELISA|assays?"
    r"|microarrays?|immunohistochemistry|imaging mass|spatial)\b",
    re.IGNORECASE,
)


def _of_samples(sentence: str) -> bool:
    cells = _CELLS_FROM.search(sentence) and (
        not _GIVEN.search(sentence) or _NEVER_TREATED.search(sentence)
    )
    return bool(SAMPLES.search(sentence) or _ASSAY.search(sentence) or cells)


def sampled(found: list[Sentence]) -> bool | None:
    """Whether the work studies samples or cells of people: True of people given the
    therapy, False of people never given it, None when it studies no one's samples."""
    sampled = [s.text for s in found if not s.background and _of_samples(s.text)]
    if not sampled or _clinical_harm(found, None):
        return None
    return not all(untreated(text) for text in sampled)


def _clinical_harm(found: list[Sentence], treated: int | None) -> bool:
    lab_measures = ("low antibodies", "low blood counts")
    return any(h.status == "occurred" and h.kind not in lab_measures
               for h in find_harms(found, treated))  # fmt: skip


def _paper_type(title: str, found: list[Sentence], counted: tuple[int | None, str]) -> str:
    treated, treated_from = counted
    work = " ".join(s.text for s in found if not s.background)
    if _REVIEW.search(title) or _REVIEW.search(work):
        return "review"
    # The only count a letter gives is the answered paper's ("the report by Chen and
    # colleagues of CAR T cells in 16 patients"), or none.
    if _LETTER.search(work) and (treated is None or _LETTER.search(treated_from)):
        return "review"
    # A journal's news piece on another's study ("A new report of … adds to evidence"; "In
    # the study, 10 patients …"), never in the authors' own voice.
    if _RETELLING.search(work) and not _OWN_VOICE.search(work):
        return "news"
    # Samples or cells of people, and nothing said of how a treatment went for them (a
    # clinical report says who had CRS; low antibodies or counts may be what was measured):
    # a lab study of the samples.
    # When the authors' own work is the assay ("we performed flow cytometry and sequencing
    # on CSF samples from two patients who received …"), the harms told in passing are
    # the treated people's, and the work is still the lab's.
    if (
        treated is not None
        and _of_samples(treated_from)
        and (_OWN_ASSAY.search(treated_from) or not _clinical_harm(found, treated))
    ):
        return "lab study"
    if _LAB.search(title) or (treated is None and _LAB.search(work)):
        return "lab study"
    if phase := study_phase(title, found):
        return phase
    # Samples with no count read ("TCR sequencing of blood samples collected from seven
    # patients"), and no harm of a treatment told.
    if treated is None and not treated_from and sampled(found) is not None:
        return "lab study"
    # One person counted in a work that calls itself a group ("a retrospective multicentre
    # cohort", "in our cohort"): the one is a person within it ("one patient had CMV").
    group = _GROUP.search(title) or re.search(r"\b(?:in|of) (?:our|this) cohort\b", work, re.I)
    if re.search(r"\bcase report\b", title, re.IGNORECASE) or (treated == 1 and not group):
        return "case report"
    # People were treated even where the source never prints how many ("two dozen").
    own = _OWN_RECORDS.search(work)
    if treated is not None or treated_from or own or re.search(r"\bcase series\b", title, re.I):
        return "case series"
    if _LAB.search(work):
        return "lab study"
    if _REVIEW_VOICE.search(title) or _REVIEW_VOICE.search(work):
        return "review"
    # "A 31-year-old woman with refractory SLE was referred for CAR T cells": one person,
    # though no count was read.
    if ONE_PERSON.search(work) and not _GROUP.search(title):
        return "case report"
    # What happened to people, told of this work ("B cells were undetectable by day 7",
    # "there was no CRS", "late events included herpes zoster"): people were treated,
    # however the count is put ("in a total of three", "two dozen").
    # A review's "CRS has been reported" tells of others' patients.
    observed = any(h.status != "possible" and not _OTHERS.search(h.sentence)
                   for h in find_harms(found, treated))  # fmt: skip
    told = any(not _OTHERS.search(o.sentence) for o in find_outcomes(found))
    return "case series" if observed or told else "review"
