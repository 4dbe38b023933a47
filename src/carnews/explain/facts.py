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
from dataclasses import dataclass, field

from carnews.curate.classify import diseases_named
from carnews.curate.lexicon import Lexicon
from carnews.explain.harms import Harm, find_harms, find_limitations
from carnews.explain.plain import COUNT, acronyms, number_value
from carnews.explain.results import Outcome, find_outcomes
from carnews.text.readability import split_sentences

__all__ = ["STUDY_TYPES", "Facts", "Sentence", "extract_facts", "sentences"]

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


# --------------------------------------------------------------------------- sentences

_LABEL = re.compile(
    r"^\s*(background|introduction|importance|context|objectives?|aims?|purpose|methods?"
    r"|design|setting|patients and methods|data sources|study selection|results?|findings"
    r"|conclusions?(?: and relevance)?|interpretation|discussion|brief summary|official title"
    r"|description)\s*[:.]\s*",
    re.IGNORECASE,
)
_BACKGROUND_LABELS = ("background", "introduction", "importance", "context", "objective", "aim",
                      "purpose")  # fmt: skip
_WORK = re.compile(r"\b(?:we|our|here|this|these|in this)\b", re.IGNORECASE)
# What authors say they did: such a sentence is the work, even under "Background".
_DOING = re.compile(
    r"\bwe (?:report|describe|treated|review|reviewed|argue|propose|searched|studied|analy[sz]ed"
    r"|performed|generated|engineered|designed|measured|followed|pooled|compared|collected"
    r"|explored|assessed|transduced|present|summari[sz]e|focus|discuss|built)\b", re.IGNORECASE)


def sentences(text: str) -> list[Sentence]:
    """The source's sentences with their section; unlabelled opening statements that do not
    speak of the work itself ("Plasma cells escape CD19 therapy.") count as background."""
    found: list[Sentence] = []
    section = ""
    # Only an abstract opens on background; news and notices open on their point.
    academic = bool(_LABEL.match(text) or _DOING.search(text))
    for index, raw in enumerate(split_sentences(text)):
        sentence = " ".join(raw.split())
        label = _LABEL.match(sentence)
        if label:
            section, sentence = label.group(1).lower(), sentence[label.end() :]
        doing = _DOING.search(sentence)
        background = not doing and (section.startswith(_BACKGROUND_LABELS) or (
            academic and not section and index == 0 and not _WORK.search(sentence)
            and not _COUNTED.search(sentence)
        ))  # fmt: skip
        found.append(Sentence(sentence, section, background))
    return found


# --------------------------------------------------------------------------- source kind

_PREPRINT = re.compile(
    r"preprint|medrxiv|biorxiv|not (?:yet )?(?:been )?(?:certified by |undergone )?peer[- ]?review"
    r"|not peer[- ]reviewed", re.IGNORECASE)  # fmt: skip
_REGISTRY_FIELD = re.compile(
    r"\b(?:brief summary|official title|overall status|recruitment status|(?:estimated )?"
    r"enrol?lment(?: \((?:estimated|actual)\))?|primary outcomes?(?: measures?)?|phase|status"
    r"|conditions?|interventions?|sponsor|eligibility)\s*:",
    re.IGNORECASE,
)
_PERSONAL = re.compile(
    r"^\s*['‘“]|^my\b|\b(?:she|he) says\b|\bI (?:had|was|got|became|know|don't|still|wanted"
    r"|can)\b|\bcolumnist\b", re.IGNORECASE)  # fmt: skip
_ORGANISATION = re.compile(
    r"\b(?:you|your)\b|\bour (?:research team|community|members?|foundation|helpline|patient"
    r" guide|medical advisory)|\bmembers\b|\bwebinar\b|\bfoundation\b|\bassociation\b"
    r"|\balliance\b|\bcharity\b", re.IGNORECASE)  # fmt: skip
_NEWS = re.compile(
    r"\b(?:shares?|analysts?|investors?|biotech|said|says|announced|company|startup"
    r"|raised|acquire\w*|stock|payers|insurers|price|deal)\b", re.IGNORECASE)  # fmt: skip
_REGULATOR = {
    "FDA": r"\bFDA\b|Food and Drug Administration",
    "EMA": r"\bEMA\b|European Medicines Agency",
    "NMPA": r"\bNMPA\b|National Medical Products Administration",
    "PEI": r"Paul-Ehrlich|\bPEI\b",
    "MHRA": r"\bMHRA\b",
}
_DECISION = re.compile(
    r"\b(?:grant\w*|clear\w*|approv\w*|accept\w*|plac\w*|authori[sz]\w*)\b|fast[- ]track"
    r"|\bRMAT\b|orphan drug|\bPRIME\b|clinical hold|\bIND\b", re.IGNORECASE)  # fmt: skip


def _regulator(title: str, text: str) -> str | None:
    for name, pattern in _REGULATOR.items():
        if re.search(pattern, f"{title} {text}"):
            return name
    return None


def _source_kind(title: str, text: str, given: str | None, types: Sequence[str]) -> str:
    if given:
        return given
    if any(t.lower() == "preprint" for t in types):
        return "preprint"
    if types:
        return "peer-reviewed journal"
    if _PREPRINT.search(text):
        return "preprint"
    if len(_REGISTRY_FIELD.findall(text)) >= 2:
        return "trial registry"
    if _PERSONAL.search(title) or _PERSONAL.search(text) or _ORGANISATION.search(
            f"{title} {text}"):
        return "patient organisation"
    lead = split_sentences(text)[0] if text.strip() else ""
    if _DECISION.search(title) and _regulator(title, lead) and not _NEWS.search(title):
        return "regulator"
    if _NEWS.search(text) and not _DOING.search(text):
        return "news site"
    return "peer-reviewed journal"


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
    ("phase 1/2", r"phase\s*(?:1|I)[ab]?\s*(?:/|-|and)\s*(?:phase\s*)?(?:2|II)[ab]?\b"),
    ("phase 3", r"phase\s*(?:3|III)\b"),
    ("phase 2", r"phase\s*(?:2|II)[ab]?\b"),
    ("phase 1", r"(?:early\s+)?phase\s*(?:1|I)[ab]?\b|early_phase1"),
)
_REVIEW = re.compile(
    r"\b(?:systematic (?:literature )?review|meta-analys[ie]s|narrative review|scoping review"
    r"|in this (?:review|viewpoint)|this review|we review|viewpoint|points to consider"
    r"|we searched)\b", re.IGNORECASE)  # fmt: skip
_LAB = re.compile(
    r"\b(?:mice|mouse|murine|in vitro|hybridomas?|xenograft|preclinical|single-cell"
    r"|experimental (?:model|autoimmune|colitis))\b", re.IGNORECASE)  # fmt: skip
_PLANNED = re.compile(r"\b(?:will|plans?|planned|expects?|next|to follow|warrant\w*|support"
                      r"(?:s|ing)? moving)\b", re.IGNORECASE)  # fmt: skip


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
        if s.background or _PLANNED.search(s.text):
            continue
        this = re.search(r"\b(?:in|this|our)\b[^.;]{0,60}\bphase|^phase\b", s.text, re.I)
        if this or s.section == "design":
            if phase := phase_of(s.text):
                return phase
    return None


def _study_type(title: str, found: list[Sentence], kind: str, treated: int | None,
                types: Sequence[str], phases: Sequence[str]) -> str:  # fmt: skip
    for name, pattern in _PUBLICATION_TYPES:
        if any(re.search(rf"\b(?:{pattern})\b", t, re.IGNORECASE) for t in types):
            return name
    if kind == "trial registry":
        return "trial registration"
    if phase := _phase_from_fields(phases):
        return phase
    lead = found[0].text if found else ""
    if kind == "regulator" or (_DECISION.search(title) and _regulator(title, lead)
                               and not _NEWS.search(title)):  # fmt: skip
        return "regulatory"
    if kind == "patient organisation":
        return "patient story" if _PERSONAL.search(title) or _PERSONAL.search(
            " ".join(s.text for s in found)) else "news"
    if kind in ("news site", "press release"):
        return "news"
    return _paper_type(title, found, treated)


def _paper_type(title: str, found: list[Sentence], treated: int | None) -> str:
    work = " ".join(s.text for s in found if not s.background)
    if _REVIEW.search(title) or _REVIEW.search(work):
        return "review"
    if _LAB.search(title) or (treated is None and _LAB.search(work)):
        return "lab study"
    if phase := _study_phase(title, found):
        return phase
    if re.search(r"\bcase report\b", title, re.IGNORECASE) or treated == 1:
        return "case report"
    if treated is not None or re.search(r"\bcase series\b", title, re.IGNORECASE):
        return "case series"
    return "lab study" if _LAB.search(work) else "review"


# --------------------------------------------------------------------------- counts

_PEOPLE = (r"(?:patients?|participants?|people|persons|adults|women|men|girls|boys|children"
           r"|adolescents|subjects|individuals|volunteers|cases)")  # fmt: skip
_SMALL = r"(?!(?:of|in|with|and|or|to|for|from|at|after|by|months?|years?|weeks?|days?)\b)"
_COUNTED = re.compile(rf"\b({COUNT})\s+(?:{_SMALL}[\w/'’-]+\s+){{0,4}}{_PEOPLE}\b", re.I)
_YEAR_OLD = re.compile(r"\b(?:an?|one)\s+\d+-year-old\b", re.IGNORECASE)
_A_PATIENT = re.compile(
    r"\b(?:we (?:report|describe|treated|present)|(?:she|he) (?:received|was treated|was given))"
    r"(?:\s+an?\s+(?:patient|woman|man|girl|boy)\b)?", re.IGNORECASE)  # fmt: skip
_TREATED = re.compile(
    r"\b(?:received|treated|were given|was given|infused|dosed|enrolled|randomi[sz]ed"
    r"|underwent|we (?:report|describe|studied|followed|analy[sz]ed|pooled|performed|present"
    r"|measured))\b", re.IGNORECASE)  # fmt: skip
_OF = re.compile(rf"\b(?:{COUNT})\s+of\s+(?:the\s+)?({COUNT})\b(?!\s*(?:months?|weeks?|days?))",
                 re.IGNORECASE)  # fmt: skip
_AMONG = re.compile(rf"\b(?:among|of the first)\s+({COUNT})\s+{_PEOPLE}", re.IGNORECASE)
_N_EQUALS = re.compile(r"\(n\s*=\s*(\d+)\)", re.IGNORECASE)
_FIRST = re.compile(r"\b(?:dosed|treated)\s+(?:the|its)\s+first\s+(?:patient|person)\b", re.I)


def _treated(found: list[Sentence], study_is: str) -> tuple[int | None, str]:
    """People given the therapy in this work, and the sentence that says so."""
    work = [s for s in found if not s.background and not _PLANNED.search(s.text)]
    for s in work:
        if _FIRST.search(s.text):
            return 1, s.text
        if not _TREATED.search(s.text):
            continue
        if count := _sentence_count(s.text):
            return count, s.text
    for pattern in (_AMONG, _OF, _N_EQUALS):
        for s in work:
            if match := pattern.search(s.text):
                return number_value(match.group(1)), s.text
    return None, ""


def _sentence_count(text: str) -> int | None:
    counted = [m for m in _COUNTED.finditer(text) if not _after_of(text, m.start())]
    if counted:
        values = [number_value(m.group(1)) or 0 for m in counted]
        # "one patient with IMNM and two patients with SSc" is three people.
        joined = len(values) > 1 and all(
            re.search(r"\band\b", text[a.end() : b.start()]) and "(" not in text[a.end(): b.start()]
            for a, b in zip(counted, counted[1:], strict=False)
        )
        return sum(values) if joined else values[0]
    if ages := _YEAR_OLD.findall(text):
        return len(ages)
    if _A_PATIENT.search(text) and re.search(r"\b(?:a|an) (?:patient|woman|man|girl|boy)\b"
                                             r"|\b(?:she|he)\b", text, re.I):  # fmt: skip
        return 1
    return None


def _after_of(text: str, start: int) -> bool:
    return bool(re.search(r"\bof\s+(?:the\s+)?$", text[max(0, start - 8) : start]))


_PLANNED_N = re.compile(r"enrol?lment(?:\s*\((?:estimated|actual)\))?\s*:?\s*(?:approximately\s+)?"
                        r"(\d+)|enrol (?:up to |around )?(\d+)", re.IGNORECASE)  # fmt: skip


def _planned(text: str) -> int | None:
    match = _PLANNED_N.search(text)
    return int(match.group(1) or match.group(2)) if match else None


def _recruiting(text: str) -> str | None:
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


def _target(title: str, text: str) -> tuple[str | None, str]:
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
    ("T-cell engager", r"T[- ]cell[- ]engag\w*|bispecific(?! CAR)|teclistamab|blinatumomab"
     r"|mosunetuzumab|imvotamab|(?:x|×)\s?CD3\b"),
    ("CAAR-T", r"\bCAAR|chimeric autoantibody receptor"),
    ("CAR-Treg", r"CAR[- ]?Tregs?\b|regulatory T[- ]cell"),
    ("CAR-NK", r"CAR[- ]?i?NK\b|natural killer"),
    ("in vivo CAR-T", r"\bin vivo\b"),
    ("mRNA CAR-T", r"\bm?RNA[- ](?:CAR|engineered|based|chimeric)|engineered with mRNA"
     r"|Descartes-08"),
    ("allogeneic CAR-T", r"allogeneic|donor-derived|healthy[- ]donor|off-the-shelf|iPSC"
     r"|induced pluripotent|hypoimmune"),
    ("autologous CAR-T", r"autologous|(?:own|patient's) (?:immune |T[- ])?(?:cells|blood)"),
    ("CAR-T", r"\bCAR[- ]?T|chimeric antigen receptor"),
)


_CELL_KINDS = ("CAAR-T", "CAR-Treg", "CAR-NK", "in vivo CAR-T", "mRNA CAR-T")


def _product(title: str, text: str, study_type: str) -> str | None:
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
        return specific[0] if specific else in_title[0] if in_title[0] != "CAR-T" or len(
            in_text) < 2 else next(k for k in in_text if k != "T-cell engager")
    return (in_text or [None])[0]


_FOLLOW_UP = re.compile(
    r"(?:median |mean )?follow-up (?:of |was |to |up to |beyond )?(?:a median of )?"
    rf"((?:up to )?(?:{COUNT}(?:\.\d)?)\s*(?:months?|years?|weeks?|days?))"
    rf"|((?:{COUNT}(?:\.\d)?)\s*(?:months?|years?))\s+of\s+follow-up"
    rf"|(?:remained|remains|maintained)[^.;]{{0,60}}?\bat\s+((?:{COUNT})\s*(?:months?|years?))"
    r"|\b(?:at|over|to|through)\s+(?:month|year)\s+(\d+)\b",
    re.IGNORECASE,
)


def _follow_up(found: list[Sentence]) -> tuple[str | None, str]:
    for s in found:
        if s.background or _PLANNED.search(s.text):
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


def _chemo_first(work: str) -> bool | None:
    if _NO_CHEMO.search(work):
        return False
    return True if _CHEMO.search(work) else None


# --------------------------------------------------------------------------- facts


def extract_facts(title: str, text: str, *, lexicon: Lexicon, source_kind: str | None = None,
                  publication_types: Sequence[str] = (), phases: Sequence[str] = ()) -> Facts:  # fmt: skip
    """Everything the card needs, from the source alone (and the labels a feed gives)."""
    found = sentences(text)
    kind = _source_kind(title, text, source_kind, publication_types)
    work = " ".join(s.text for s in found if not s.background)
    provisional = "trial registration" if kind == "trial registry" else ""
    treated, treated_from = (None, "") if provisional else _treated(found, provisional)
    study = _study_type(title, found, kind, treated, publication_types, phases)
    if study in ("review", "regulatory", "trial registration"):
        treated, treated_from = None, ""  # pooled, planned or someone else's count
    if study == "patient story":
        treated, treated_from = 1, title
    target, target_from = _target(title, text)
    follow_up, follow_from = _follow_up(found)
    diseases = _diseases(lexicon, title, work, text)
    harms = find_harms(found, treated)
    trace = {"treated_n": treated_from, "target": target_from, "follow_up": follow_from}
    return Facts(
        title=title,
        study_type=study,
        source_kind=kind,
        phase=_phase_from_fields(phases) or phase_of(title) or _study_phase(title, found),
        treated_n=treated,
        planned_n=_planned(text) if study == "trial registration" else None,
        recruiting=_recruiting(text),
        diseases=diseases,
        target=target,
        product=_product(title, text, study),
        chemo_first=_chemo_first(work),
        follow_up=follow_up,
        outcomes=tuple(find_outcomes(found)),
        harms=harms,
        limitations=tuple(find_limitations(found)),
        definitions=acronyms(f"{title}. {text}"),
        regulator=_regulator(title, text),
        trace={k: v for k, v in trace.items() if v},
    )


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
