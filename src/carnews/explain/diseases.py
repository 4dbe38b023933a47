"""Which diseases a work treats or studies, in the order the source names them.

Pure helpers for :mod:`carnews.explain.facts`. The title's diseases come first, with the
disease of the people counted ("four patients with rheumatoid arthritis who received");
the work's own sentences stand in when the title names none or adds "and other", and the
source's background when they name none either. "Autoimmune disease" is kept beside the
specific diseases only for a review of autoimmune disease in general.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from carnews.curate.classify import diseases_named
from carnews.curate.lexicon import Lexicon
from carnews.explain.counts import PLANNED
from carnews.explain.plain import COUNT
from carnews.explain.sums import PEOPLE
from carnews.text.readability import split_sentences

__all__ = ["work_diseases"]

_BROAD = "autoimmune disease"
# A review's title that covers autoimmune disease in general ("CAR T cells in autoimmune
# diseases: a systematic review"), not one kind of it ("autoimmune rheumatic diseases",
# "autoimmune disease of the nervous system").
_IN_GENERAL = re.compile(r"\b(?:in|for|and)\s+(?:(?:refractory|severe|treatment-resistant)\s+)?"
                         r"autoimmune (?:diseases?|indications|conditions)\b(?!\s+of\b)",
                         re.IGNORECASE)  # fmt: skip
# The work's own people whose disease it does not name: "7 patients with refractory
# autoimmune disease" (not when a list by disease follows: "(SLE n=9, SSc n=3)"), or a
# per-disease list ending "(SLE 34, SSc 14, other 4)". For a work on autoimmune disease in
# general these keep "autoimmune disease" beside the named ones.
_UNNAMED = re.compile(
    rf"\b{COUNT}\s+(?:[\w-]+\s+){{0,2}}?{PEOPLE}\s+with\s+(?:[\w-]+\s+){{0,2}}?"
    r"autoimmune (?:diseases?|conditions)\b(?![^.(]*\()"
    r"|\(\s*(?:[\w-]+\s+\d+\s*,\s*)+others?\s+\d+\s*\)",
    re.IGNORECASE)  # fmt: skip
# The disease of the people counted ("… joined by 19 more with lupus or myositis"): "five
# patients with rheumatoid arthritis who received …", not the features listed after it
# ("…, including cryoglobulinaemic vasculitis", "…, with cutaneous vasculitis").
_WITH = re.compile(
    rf"\b(?:{PEOPLE}|wom[ae]n|m[ae]n|girls?|boys?|child|more|others)\s+with\s+(.+?)(?=[(;.]|,?\s+(?:who"
    r"|including|after|before|with|whose)\b|$)", re.IGNORECASE)  # fmt: skip


def work_diseases(lexicon: Lexicon, title: str, work: str, text: str, study: str = "",
                  counted_in: str = "") -> tuple[str, ...]:  # fmt: skip
    """The title's diseases, and those of the people counted; the work's when the title
    names none, or adds "and other"; "autoimmune disease" first for a review of autoimmune
    disease in general. ``work`` is the source's own sentences, ``counted_in`` the one
    that says how many were treated."""
    in_title = [n for n in _in_order(lexicon, title) if n != _BROAD]
    broad = re.search(r"\bother\b|autoimmun|immune-mediated", title, re.IGNORECASE)
    if in_title and not broad:
        counted = [n for part in _WITH.findall(counted_in if counted_in != title else "")
                   for n in _in_order(lexicon, part) if n != _BROAD]  # fmt: skip
        return tuple(dict.fromkeys([*in_title, *counted]))
    # Where the work's own sentences name none, the source's background does ("Background:
    # generalised MG for 11 years" in a patient's post).
    named = _own_first(lexicon, work, study) or _in_order(lexicon, text)
    names = list(dict.fromkeys([*in_title, *named]))
    specific = [n for n in names if n != _BROAD]
    # …and whose text speaks of autoimmune disease too, as a review of the field does.
    general = _IN_GENERAL.search(title) and _BROAD in diseases_named(lexicon, text)
    if specific and general and (study == "review" or _UNNAMED.search(work)):
        return (_BROAD, *specific)
    return tuple(specific or names or _in_order(lexicon, title))


# A sentence about plans for other indications or about rivals: "The company will also
# test the cells in myositis", "Rival Y reported data in lupus last month".
_ASIDE = re.compile(rf"{PLANNED.pattern}|\b(?:rivals?|competitors?|elsewhere|other (?:companies"
                    r"|groups|developers))\b", re.IGNORECASE)  # fmt: skip


def _own_first(lexicon: Lexicon, work: str, study: str) -> list[str]:
    """The diseases of the work's own sentences, leaving out those only its asides name
    (a registry record's plans are its own)."""
    if study != "trial registration":
        own = " ".join(s for s in split_sentences(work) if not _ASIDE.search(s))
        if named := _in_order(lexicon, own):
            return named
    return _in_order(lexicon, work)


def _in_order(lexicon: Lexicon, text: str) -> list[str]:
    """The diseases ``text`` names, in the order it first names them (a source lists its
    main disease first: "in lupus and systemic sclerosis")."""
    named = diseases_named(lexicon, text)
    return sorted(named, key=lambda name: _first_at(_patterns(lexicon, name), text))


def _patterns(lexicon: Lexicon, name: str) -> Iterable[re.Pattern[str]]:
    return (p for term in lexicon.diseases if term.name == name for p in term.patterns)


def _first_at(patterns: Iterable[re.Pattern[str]], text: str) -> int:
    return min((m.start() for p in patterns if (m := p.search(text))), default=len(text))
