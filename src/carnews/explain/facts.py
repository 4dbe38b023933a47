"""Facts of one story, extracted from its source and traced to it.

Pure: title and text in (with the source's own labels when a feed gives them:
PubMed publication types, ClinicalTrials.gov phases, the kind of source), a
:class:`Facts` out. What the work itself reports decides, not its background: the
count of people treated comes from the sentence that says who was treated, and a
review that mentions mouse studies is still a review. Every number kept is a string
the source printed, and each fact remembers the source sentence it came from
(``Facts.trace``) so an editor can check it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from carnews.curate.classify import diseases_named
from carnews.curate.lexicon import Lexicon
from carnews.explain import details
from carnews.explain.details import COUNTED, PLANNED, SAMPLES
from carnews.explain.harms import HARM_KINDS, Harm, find_harms, find_limitations
from carnews.explain.meeting import is_meeting_abstract
from carnews.explain.plain import COUNT, acronyms
from carnews.explain.results import Outcome, find_outcomes
from carnews.explain.sourcekind import (
    DECISION,
    DOING,
    NEWS,
    PERSONAL,
    SAFETY_ACTION,
    read_source_kind,
    regulator_named,
)
from carnews.text.readability import split_sentences

__all__ = ["STUDY_TYPES", "Facts", "Sentence", "extract_facts", "is_safety_action", "sentences"]

STUDY_TYPES = (
    "review", "case report", "case series", "phase 1", "phase 1/2", "phase 2", "phase 3",
    "trial registration", "conference abstract", "lab study", "regulatory", "news",
    "patient story",
)  # fmt: skip
SOURCE_KINDS = (
    "peer-reviewed journal", "preprint", "press release", "trial registry", "regulator",
    "news site", "patient organisation",
)  # fmt: skip


@dataclass(frozen=True)
class Sentence:
    """One source sentence, its abstract section (if labelled) and whether it is background."""

    text: str
    section: str
    background: bool


@dataclass(frozen=True)
class Facts:
    title: str
    study_type: str
    source_kind: str
    phase: str | None
    treated_n: int | None
    planned_n: int | None
    recruiting: str | None  # "recruiting", "not yet recruiting", "closed", or unknown
    diseases: tuple[str, ...]
    target: str | None
    product: str | None
    chemo_first: bool | None  # lymphodepletion before the cells; None: not said
    follow_up: str | None
    outcomes: tuple[Outcome, ...]
    harms: tuple[Harm, ...]
    limitations: tuple[str, ...]
    definitions: dict[str, str]
    regulator: str | None
    trace: dict[str, str] = field(default_factory=dict)  # fact -> source sentence
    # A regulator's decision about a cancer ("FDA approves obe-cel for B-ALL") in a story
    # that names an autoimmune disease only beside it: not a decision about that disease.
    for_cancer: bool = False
    # A lab study of samples from people given the therapy, however many (or if uncounted).
    samples_of_treated: bool = False


# --------------------------------------------------------------------------- sentences

_LABEL = re.compile(
    r"^\s*(background|introduction|importance|context|objectives?|aims?|purpose|rationale"
    r"|methods?|(?:materials|patients|subjects|participants) and methods|methods and"
    r" (?:materials|patients)|(?:study )?design|setting|data sources|study selection"
    # A case report's own labels: the case is the work, not its background.
    r"|case (?:presentations?|descriptions?|reports?|summary|series)|patient concerns"
    r"|interventions?|outcomes|participants|measurements|observations"
    r"|results?|findings|conclusions?(?: and relevance)?|interpretation|discussion"
    r"|brief summary|official title|description)(?:\s*/\s*\w+)?\s*[:.]\s*",  # "Background/Purpose:"
    re.IGNORECASE,
)
_BACKGROUND_LABELS = ("background", "introduction", "importance", "context", "objective", "aim",
                      "purpose")  # fmt: skip
_WORK = re.compile(r"\b(?:we|our|here|this|these|in this)\b", re.IGNORECASE)


def sentences(text: str) -> list[Sentence]:
    """The source's sentences with their section; unlabelled opening statements that do not
    speak of the work itself ("Plasma cells escape CD19 therapy.") count as background."""
    found: list[Sentence] = []
    section = ""
    # Only an abstract opens on background; news and notices open on their point.
    academic = bool(_LABEL.match(text) or DOING.search(text))
    for index, raw in enumerate(split_sentences(text)):
        sentence = " ".join(raw.split())
        label = _LABEL.match(sentence)
        if label:
            section, sentence = label.group(1).lower(), sentence[label.end() :]
        doing = DOING.search(sentence)
        background = not doing and (section.startswith(_BACKGROUND_LABELS) or (
            academic and not section and index == 0 and not _WORK.search(sentence)
            and not COUNTED.search(sentence)
        ))  # fmt: skip
        found.append(Sentence(sentence, section, background))
    return found


# --------------------------------------------------------------------------- source kind


def is_safety_action(facts: Facts) -> bool:
    """A regulatory story about a safety warning for a class of products, not a decision
    about one product's use."""
    return facts.study_type == "regulatory" and bool(SAFETY_ACTION.search(facts.title))


# --------------------------------------------------------------------------- study type

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


def _phase_from_fields(phases: Sequence[str]) -> str | None:
    numbers = {p for p in ("1", "2", "3") if any(p in x for x in phases)}
    if numbers == {"1", "2"}:
        return "phase 1/2"
    return f"phase {max(numbers)}" if numbers else None


def _study_phase(title: str, found: list[Sentence]) -> str | None:
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


def _introduced_phase(found: list[Sentence]) -> str | None:
    """The phase a congress abstract gives its own trial where it introduces it, often
    under its opening label ("RESET-SLE is an open-label phase 1/2 trial of …")."""
    for s in found:
        if re.search(r"\b(?:is|was) an? (?:[\w/-]+\s+){0,4}?phase\b", s.text, re.I):
            return phase_of(s.text)
    return None


def _study_type(title: str, found: list[Sentence], kind: str, treated: tuple[int | None, str],
                types: Sequence[str], phases: Sequence[str]) -> str:  # fmt: skip
    for name, pattern in _PUBLICATION_TYPES:
        if any(re.search(rf"\b(?:{pattern})\b", t, re.IGNORECASE) for t in types):
            return name
    if kind == "trial registry":
        return "trial registration"
    if phase := _phase_from_fields(phases):
        return phase
    lead = found[0].text if found else ""
    acts = DECISION.search(title) or SAFETY_ACTION.search(title)
    if kind == "regulator" or (acts and regulator_named(title, lead) and not NEWS.search(title)):
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
# transduced" (the samples themselves: details.SAMPLES).
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
    r"\b(?:after|following|treated with|received|infused with|given)\s+(?:\w+[\s-]+){0,3}?"
    r"(?:CAR|CAAR|cell therapy|infusion)|\bafter (?:the )?infusion|post-infusion",
    re.IGNORECASE,
)
_NEVER_TREATED = re.compile(
    r"\b(?:never\s+|not\s+(?:yet\s+)?(?:been\s+)?)(?:received|treated|had|given)\b|\buntreated\b"
    r"|\b(?:CAR-T|therapy|treatment)[- ]na[iï]ve\b",
    re.IGNORECASE,
)


def _untreated(sentence: str) -> bool:
    """Samples or cells of people never given the therapy: no count of people treated."""
    cells = _CELLS_FROM.search(sentence) or SAMPLES.search(sentence)
    return bool(cells) and (not _AFTER_THERAPY.search(sentence)
                            or bool(_NEVER_TREATED.search(sentence)))  # fmt: skip


_ONE_PERSON = re.compile(
    r"\b(?:an?|one) \d{1,2}-year-old (?:woman|man|girl|boy|patient|female|male|child|adolescent"
    r"|teenager)\b",
    re.IGNORECASE,
)
_GROUP = re.compile(r"\b(?:cohort|case series|series|multicent(?:re|er)|registry)\b", re.I)
# Others' patients, in a review's voice: "CRS has been reported", "has produced remissions".
_OTHERS = re.compile(r"\b(?:has|have) been (?:reported|described|observed|seen)\b|\breports\b"
                     r"|\bpublished\b|\bliterature\b|\b(?:has|have) (?:produced|led to|induced"
                     r"|achieved|shown)\b", re.IGNORECASE)  # fmt: skip


def _of_samples(sentence: str) -> bool:
    cells = _CELLS_FROM.search(sentence) and (
        not _GIVEN.search(sentence) or _NEVER_TREATED.search(sentence)
    )
    return bool(SAMPLES.search(sentence) or _ASSAY.search(sentence) or cells)


def _sampled(found: list[Sentence]) -> bool | None:
    """Whether the work studies samples or cells of people: True of people given the
    therapy, False of people never given it, None when it studies no one's samples."""
    sampled = [s.text for s in found if not s.background and _of_samples(s.text)]
    if not sampled or _clinical_harm(found, None):
        return None
    return not all(_untreated(text) for text in sampled)


def _clinical_harm(found: list[Sentence], treated: int | None) -> bool:
    lab_measures = ("low antibodies", "low blood counts")
    return any(h.status == "occurred" and h.kind not in lab_measures
               for h in find_harms(found, treated))  # fmt: skip


def _paper_type(title: str, found: list[Sentence], counted: tuple[int | None, str]) -> str:
    treated, treated_from = counted
    work = " ".join(s.text for s in found if not s.background)
    if _REVIEW.search(title) or _REVIEW.search(work):
        return "review"
    # Samples or cells of people, and nothing said of how a treatment went for them (a
    # clinical report says who had CRS; low antibodies or counts may be what was measured):
    # a lab study of the samples.
    if treated is not None and _of_samples(treated_from) and not _clinical_harm(found, treated):
        return "lab study"
    if _LAB.search(title) or (treated is None and _LAB.search(work)):
        return "lab study"
    if phase := _study_phase(title, found):
        return phase
    # Samples with no count read ("TCR sequencing of blood samples collected from seven
    # patients"), and no harm of a treatment told.
    if treated is None and not treated_from and _sampled(found) is not None:
        return "lab study"
    # One person counted in a work that calls itself a group ("a retrospective multicentre
    # cohort", "in our cohort"): the one is a person within it ("one patient had CMV").
    group = _GROUP.search(title) or re.search(r"\b(?:in|of) (?:our|this) cohort\b", work, re.I)
    if re.search(r"\bcase report\b", title, re.IGNORECASE) or (treated == 1 and not group):
        return "case report"
    # People were treated even where the source never prints how many ("two dozen").
    if treated is not None or treated_from or re.search(r"\bcase series\b", title, re.I):
        return "case series"
    if _LAB.search(work):
        return "lab study"
    if _REVIEW_VOICE.search(title) or _REVIEW_VOICE.search(work):
        return "review"
    # "A 31-year-old woman with refractory SLE was referred for CAR T cells": one person,
    # though no count was read.
    if _ONE_PERSON.search(work) and not _GROUP.search(title):
        return "case report"
    # What happened to people, told of this work ("B cells were undetectable by day 7",
    # "there was no CRS", "late events included herpes zoster"): people were treated,
    # however the count is put ("in a total of three", "two dozen").
    # A review's "CRS has been reported" tells of others' patients.
    observed = any(h.status != "possible" and not _OTHERS.search(h.sentence)
                   for h in find_harms(found, treated))  # fmt: skip
    told = any(not _OTHERS.search(o.sentence) for o in find_outcomes(found))
    return "case series" if observed or told else "review"


# --------------------------------------------------------------------------- facts


def extract_facts(
    title: str,
    text: str,
    *,
    lexicon: Lexicon,
    source_kind: str | None = None,
    publication_types: Sequence[str] = (),
    phases: Sequence[str] = (),
) -> Facts:
    """Everything the card needs, from the source alone (and the labels a feed gives)."""
    found = sentences(text)
    kind = read_source_kind(title, text, source_kind, publication_types)
    work = " ".join(s.text for s in found if not s.background)
    treated, treated_from = (
        (None, "") if kind == "trial registry" else details.treated(found, title)
    )
    study = _study_type(title, found, kind, (treated, treated_from), publication_types, phases)
    if study in ("case report", "case series") and not publication_types:
        # A congress abstract naming no phase: preliminary, and the card says so.
        study = (
            (_introduced_phase(found) or "conference abstract")
            if is_meeting_abstract(text)
            else study
        )
    # A regulator's decision keeps the count it was based on ("data from 15 patients"); a
    # safety action for a whole class of products treated nobody in particular.
    class_wide = study == "regulatory" and bool(SAFETY_ACTION.search(title))
    if (
        study in ("review", "trial registration")
        or class_wide
        or treated is None
        or (study == "lab study" and _untreated(treated_from))
        or (study == "case series" and treated == 1)  # one person within a cohort
    ):
        treated, treated_from = None, ""  # pooled, planned, someone else's, never printed, or
        # the people whose cells a lab used were never given the therapy
    if study == "patient story":
        treated, treated_from = 1, title
    elif study == "case report" and treated is None:  # "a 31-year-old woman received …"
        treated, treated_from = (
            1,
            next((t.text for t in found if _ONE_PERSON.search(t.text)), title),
        )
    target, target_from = details.target(title, text, study)
    if study == "regulatory" and SAFETY_ACTION.search(title):
        target, target_from = None, ""  # "BCMA- and CD19-directed products": a class
    follow_up, follow_from = details.follow_up(found)
    trace = {"treated_n": treated_from, "target": target_from, "follow_up": follow_from}
    return Facts(
        title=title,
        study_type=study,
        source_kind=kind,
        phase=_phase_from_fields(phases) or phase_of(title) or _study_phase(title, found),
        treated_n=treated,
        planned_n=details.planned(text) if study == "trial registration" else None,
        recruiting=details.recruiting(text),
        diseases=_diseases(lexicon, title, work, text),
        target=target,
        product=details.product(title, text, study) or _named_product(lexicon, title, text),
        chemo_first=details.chemo_first(work),
        follow_up=follow_up,
        outcomes=tuple(find_outcomes(found)),
        harms=_harms(found, title, treated, study),
        limitations=tuple(find_limitations(found)),
        definitions=acronyms(f"{title}. {text}"),
        regulator=regulator_named(title, text),
        trace={k: v for k, v in trace.items() if v},
        for_cancer=study == "regulatory" and _decides_for_cancer(lexicon, title, found),
        samples_of_treated=study == "lab study" and (treated is not None or bool(_sampled(found))),
    )


def _decides_for_cancer(lexicon: Lexicon, title: str, found: list[Sentence]) -> bool:
    """The decision (the title and the sentence that reports it) names a cancer or a
    cancer product, and no autoimmune disease."""
    decision = " ".join([title, *(s.text for s in found[:1])])
    cancers = (*lexicon.oncology, *lexicon.oncology_products)
    named = any(p.search(decision) for term in cancers for p in term.patterns)
    return named and not diseases_named(lexicon, decision)


def _harms(found: list[Sentence], title: str, treated: int | None,
           study: str) -> tuple[Harm, ...]:  # fmt: skip
    """The text's harms, and a kind only the title names ("FDA adds boxed warning for
    T-cell malignancies" over a text that says "new safety information"). A registry
    record's harms are what it will measure: possible, not yet happened."""
    harms = find_harms(found, treated)
    kinds = {h.kind for h in harms}
    headline = [h for h in find_harms([Sentence(title, "", False)], treated)
                if h.kind not in kinds]  # fmt: skip
    harms = tuple(
        sorted((*harms, *headline), key=lambda h: (not h.serious, HARM_KINDS.index(h.kind)))
    )
    if study != "trial registration":
        return harms
    return tuple(replace(h, status="possible") if h.status == "occurred" else h for h in harms)


_PRODUCT_KINDS = ("CAAR-T", "CAR-Treg", "CAR-NK", "mRNA CAR-T", "CAR-T", "T-cell engager")


def _named_product(lexicon: Lexicon, title: str, text: str) -> str | None:
    """A product named only by its code or name ("KYV-101", "rese-cel"): the lexicon
    knows which kind it is."""
    for term in lexicon.therapies:
        if term.name in _PRODUCT_KINDS and any(p.search(f"{title} {text}") for p in term.patterns):
            return term.name
    return None


def _diseases(lexicon: Lexicon, title: str, work: str, text: str) -> tuple[str, ...]:
    """The title's diseases; the work's when the title names none, or adds "and other"."""
    in_title = [n for n, _ in diseases_named(lexicon, title).most_common()
                if n != "autoimmune disease"]  # fmt: skip
    broad = re.search(r"\bother\b|autoimmun|immune-mediated", title, re.IGNORECASE)
    if in_title and not broad:
        return tuple(in_title)
    counts = diseases_named(lexicon, work or text)
    names = [*in_title, *(n for n, _ in counts.most_common() if n not in in_title)]
    specific = [n for n in names if n != "autoimmune disease"]
    return tuple(specific or names or [n for n, _ in diseases_named(lexicon, title).items()])
