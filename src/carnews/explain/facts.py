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
from carnews.explain import counts, details
from carnews.explain.diseases import work_diseases
from carnews.explain.harms import HARM_KINDS, Harm, find_harms, find_limitations
from carnews.explain.meeting import is_meeting_abstract
from carnews.explain.plain import acronyms
from carnews.explain.results import Outcome, find_outcomes
from carnews.explain.sourcekind import (
    DOING,
    SAFETY_ACTION,
    read_source_kind,
    regulator_named,
)
from carnews.explain.studytype import (
    ONE_PERSON,
    introduced_phase,
    phase_from_fields,
    phase_of,
    sampled,
    study_phase,
    study_type,
    untreated,
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
# A regulator's notice about every product of a class names their targets as the class, not
# as the one product the card is about: "after all authorised CD19- and BCMA-directed CAR
# T-cell medicinal products".
_EVERY_PRODUCT = re.compile(
    r"\ball (?:authori[sz]ed|approved|licensed|marketed|licenced) (?:[\w-]+ ){0,5}"
    r"(?:products|medicines|medicinal products|therapies)\b",
    re.IGNORECASE,
)


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
            and not counts.COUNTED.search(sentence)
        ))  # fmt: skip
        found.append(Sentence(sentence, section, background))
    return found


# --------------------------------------------------------------------------- source kind


def is_safety_action(facts: Facts) -> bool:
    """A regulatory story about a safety warning for a class of products, not a decision
    about one product's use."""
    return facts.study_type == "regulatory" and bool(SAFETY_ACTION.search(facts.title))


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
    treated, treated_from = (None, "") if kind == "trial registry" else counts.treated(found, title)
    study = study_type(title, found, kind, (treated, treated_from), publication_types, phases)
    if study in ("case report", "case series") and not publication_types:
        # A congress abstract naming no phase: preliminary, and the card says so.
        study = (
            (introduced_phase(found) or "conference abstract")
            if is_meeting_abstract(text)
            else study
        )
    # A regulator's decision keeps the count it was based on ("data from 15 patients"); a
    # safety action for a whole class of products treated nobody in particular.
    class_wide = study == "regulatory" and bool(SAFETY_ACTION.search(title))
    # The people a vague count treated still have the work's diseases: "given to more than
    # a dozen patients with lupus and systemic sclerosis".
    counted_in = treated_from if treated is None and study != "review" else ""
    if (
        study in ("review", "trial registration")
        or class_wide
        or treated is None
        or (study == "lab study" and untreated(treated_from))
        or (study == "case series" and treated == 1)  # one person within a cohort
    ):
        treated, treated_from = None, ""  # pooled, planned, someone else's, never printed, or
        # the people whose cells a lab used were never given the therapy
    if study == "patient story":
        treated, treated_from = 1, title
    elif study == "case report" and treated is None:  # "a 31-year-old woman received …"
        treated, treated_from = (
            1,
            next((t.text for t in found if ONE_PERSON.search(t.text)), title),
        )
    target, target_from = details.target(title, text, study, work if work != text else "")
    if study == "regulatory" and (SAFETY_ACTION.search(title) or _EVERY_PRODUCT.search(text)):
        target, target_from = None, ""  # "BCMA- and CD19-directed products": a class
    follow_up, follow_from = details.follow_up(found)
    trace = {"treated_n": treated_from, "target": target_from, "follow_up": follow_from}
    return Facts(
        title=title,
        study_type=study,
        source_kind=kind,
        phase=phase_from_fields(phases) or phase_of(title) or study_phase(title, found),
        treated_n=treated,
        planned_n=details.planned(text) if study == "trial registration" else None,
        recruiting=details.recruiting(text),
        # A class-wide safety action treats and studies no disease, whatever it mentions.
        diseases=()
        if class_wide
        else work_diseases(lexicon, title, work, text, study, treated_from or counted_in),
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
        samples_of_treated=study == "lab study" and (treated is not None or bool(sampled(found))),
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
