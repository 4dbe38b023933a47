"""Details of a work: what was given (target, product), for how long, and a registry's plans.

How many people were treated is :mod:`carnews.explain.counts`.

Pure helpers for :mod:`carnews.explain.facts`, each reading the source's own sentences
and returning what it printed (a count, a target, a follow-up) with the sentence it came
from.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from carnews.explain.counts import PLANNED
from carnews.explain.plain import COUNT

__all__ = ["chemo_first", "follow_up", "planned", "product", "recruiting", "target"]

if TYPE_CHECKING:  # facts imports this module; the type is only for annotations
    from carnews.explain.facts import Sentence


# --------------------------------------------------------------------------- registry records

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
    r"(CD19|BCMA|CD20|CD70|BAFF-R)\b(?![ -]?(?:x|×)?\s*CD3)", re.IGNORECASE)  # fmt: skip
_TARGETS = (
    ("BCMA", r"\bBCMA\b|B-cell maturation antigen"),
    ("CD19", r"\bCD19(?:\b(?!\+)|(?=[x×]))"),
    ("CD20", r"\bCD20(?:\b(?!\s+antibod|\+)|(?=[x×]))"),  # not "CD20+ B cells", a count
    ("DSG3", r"\bDSG3\b|desmoglein 3"),
    ("MuSK", r"\bMuSK\b"),
    ("CD7", r"\bCD7\b"),
    ("citrullinated antigens", r"\bcitrullinated\b"),
    ("insulin", r"\binsulin-specific|\bspecific for insulin|recognising insulin"),
    ("MOG", r"\bMOG-CAR|recognising myelin oligodendrocyte"),
    ("IL-23 receptor", r"IL-23 receptor"),
)


def target(title: str, text: str, study: str = "", work: str = "") -> tuple[str | None, str]:
    """The antigen the therapy is aimed at: the title's, else the work's own sentences'
    (``work``: the text without its background), else the text's; None where the text
    weighs several products against each other (a review of CD19 and BCMA CAR-T, a
    registry of "CD19, BCMA or BCMA-CD19 CAR T cells")."""
    for where in (title, work, text):
        if where is not title and _several(text, study):
            return None, ""
        # The antigen named first is the work's; a pair or one named later is a rival's
        # ("BMS's CD19 CAR-T … several groups presented BCMA-CD19 data").
        first: list[tuple[int, str]] = []
        if dual := _DUAL.search(where):
            pair = sorted({dual.group(1).upper(), dual.group(2).upper()}, key=_target_rank)
            if len(pair) == 2:
                first.append((dual.start(), "+".join(pair)))
        for name, pattern in _TARGETS:
            if match := re.search(pattern, where, re.IGNORECASE if name != "MuSK" else 0):
                first.append((match.start(), _named(name, match.group(0), where)))
        for antigen in (_CAAR_ANTIGEN, _DIRECTED):
            if found := antigen.search(where):
                first.append((found.start(), next(g for g in found.groups() if g)))
        if first:
            return min(first, key=lambda pair: pair[0])[1], where
    return _by_product(title, text)


# Engagers named only by their drug name, whose antigen the name stands for ("received
# teclistamab" is a BCMA engager), where no antigen is printed.
_ENGAGER_ANTIGENS = (
    ("BCMA", r"\b(?:teclistamab|elranatamab|linvoseltamab)\b"),
    ("CD19", r"\bblinatumomab\b"),
    ("CD20", r"\b(?:mosunetuzumab|glofitamab|epcoritamab|imvotamab|odronextamab)\b"),
)


def _by_product(title: str, text: str) -> tuple[str | None, str]:
    for where in (title, text):
        named = [(m.start(), name) for name, pattern in _ENGAGER_ANTIGENS
                 if (m := re.search(pattern, where, re.IGNORECASE))]  # fmt: skip
        if len(named) == 1:  # several engagers of different antigens name no one target
            return named[0][1], where
    return None, ""


# Alternatives listed for different products: "CD19, BCMA or BCMA-CD19 CAR T cells",
# "CD19×CD3, BCMA×CD3 and CD20×CD3 engagers".
_ALTERNATIVES = re.compile(
    r"\b(?:CD19|BCMA|CD20|CD70)\b[^.;:]{0,25},\s*(?:CD19|BCMA|CD20|CD70)\b[^.;:]{0,40}?"
    r"\b(?:or|and)\s+(?:CD19|BCMA|CD20|CD70|dual|bispecific|tandem)", re.IGNORECASE)  # fmt: skip


# The autoantigen a CAAR displays is its target: "PLA2R-CAAR T cells", "NMDAR chimeric
# autoantibody receptor T cells".
# An antigen's name has a second capital or a digit, so "The CAAR" names none.
_CAAR_ANTIGEN = re.compile(r"\b((?-i:[A-Z][A-Za-z]*[A-Z\d][A-Za-z\d]*))[- ](?:CAAR|chimeric"
                           r" auto-?antibody receptor)", re.IGNORECASE)  # fmt: skip


# An antigen outside the table, named as what a CAR is aimed at: "anti-CD38 CAR T cells",
# "GAD65-directed CAR-Treg cells"; its name has a digit, so "anti-inflammatory CAR" names
# none.
_DIRECTED = re.compile(
    r"\b(?:[Aa]nti-((?-i:[A-Z][A-Za-z]*\d[A-Za-z\d]*))[- ]|((?-i:[A-Z][A-Za-z]*\d[A-Za-z\d]*))-"
    r"(?:directed|targeted|targeting|specific)\s+)(?:CAR|chimeric antigen)"
)


def _several(text: str, study: str) -> bool:
    """A list of alternative targets, or a review that names more than one."""
    if _ALTERNATIVES.search(text):
        return True
    named = {name for name, pattern in _TARGETS[:3] if re.search(pattern, text, re.I)}
    return study == "review" and len(named) > 1


def _named(name: str, printed: str, where: str) -> str:
    """A citrullinated target named by its protein ("citrullinated vimentin")."""
    if name == "citrullinated antigens" and (
        protein := re.search(
            r"citrullinated[\s-]+(vimentin|fibrinogen|enolase|collagen)", where, re.I
        )
    ):
        return f"citrullinated {protein.group(1).lower()}"
    return name


def _target_rank(name: str) -> int:
    return ["CD19", "BCMA", "CD20", "CD70", "BAFF-R"].index(name)


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
    # Whose cells in a patient's or a reporter's words: "they collected my T cells", "her
    # own blood cells", "T cells harvested from the patient".
    (
        "autologous CAR-T",
        r"autologous(?! (?:ha?ematopoietic )?stem[- ]cell|\s+HSCT)"  # not a comparator
        r"|(?:own|patient's) (?:modified |engineered )?(?:immune |T[- ])?(?:cells|blood)"
        r"|\b(?:my|her|his) (?:own )?(?:immune|T[- ]?)\s?cells"  # not "her blood counts"
        r"|(?:collected|harvested|taken) from (?:the |each )?(?:patient|participant)s?\b",
    ),
    ("CAR-T", r"\bCAR[- ]?T|chimeric antigen receptor"),
)


_CELL_KINDS = ("CAAR-T", "CAR-Treg", "CAR-NK", "in vivo CAR-T", "mRNA CAR-T")


# Healthy donors counted as a comparison group ("compared with 12 healthy donors", "and
# from 6 healthy donors") are not where the cells came from.
# Nor are healthy donors' values a comparison is drawn against ("fell to healthy-donor levels").
_CONTROLS = re.compile(
    rf"\b(?:{COUNT})\s+(?:(?:age|sex)?[- ]?matched\s+)?healthy[- ]"
    r"(?:donors?|controls?|volunteers)\b|\bhealthy[- ]donor (?:levels?|ranges?|values?|samples?"
    r"|controls?|baselines?)\b",
    re.IGNORECASE,
)
# Kinds a text can name as rivals of each other: whose cells, and an engager against
# cells. The one named first is the work's ("its autologous CD19 CAR-T … a rival's
# allogeneic product"; "its CAR-T … room for both CAR-T and T-cell engagers").
_RIVALS = (("allogeneic CAR-T", "autologous CAR-T"), ("T-cell engager", "CAR-T"))


def product(title: str, text: str, study_type: str) -> str | None:
    """The kind of therapy: the title's, made more specific by the text (an "allogeneic"
    title whose cells are NK cells is CAR-NK); a review keeps its title's general word."""
    in_title = [name for name, pattern in _PRODUCTS if re.search(pattern, title, re.I)]
    text = _CONTROLS.sub("", text)
    in_text = _first_named([name for name, pattern in _PRODUCTS if re.search(pattern, text, re.I)],
                           text)  # fmt: skip
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
            if in_title[0] != "CAR-T" or not any(k != "T-cell engager" for k in in_text)
            else next(k for k in in_text if k != "T-cell engager")
        )
    return in_text[0] if in_text else None


def _first_named(kinds: list[str], text: str) -> list[str]:
    """The kinds named, without the rival of one named before it."""
    patterns = dict(_PRODUCTS)
    for one, other in _RIVALS:
        if one in kinds and other in kinds:
            starts = {k: _named_at(patterns[k], text) for k in (one, other)}
            later = one if starts[one] > starts[other] else other
            if later != "CAR-T":  # the general word stays, for the kinds named with it
                kinds = [k for k in kinds if k != later]
    return kinds


# A kind named only to be set against the work's: "unlike autologous products", "faster
# than autologous manufacturing", "instead of a patient's own cells".
_CONTRAST = re.compile(r"\b(?:unlike|than|instead of|versus|vs\.?|compared (?:with|to)|replac\w*"
                       r"|beyond|over)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)  # fmt: skip


def _named_at(pattern: str, text: str) -> int:
    """Where the text first names a kind other than as a contrast; past the end if only so."""
    for match in re.finditer(pattern, text, re.IGNORECASE):
        if not _CONTRAST.search(text[max(0, match.start() - 40) : match.start()]):
            return match.start()
    return len(text)


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
