"""Curate: is an entry about a cell therapy *in* an autoimmune disease, and how good is it?

The rule is "a cell therapy or T-cell-redirecting therapy given for an autoimmune or
immune-mediated disease". Most CAR-T news is about cancer and shares its vocabulary
(CD19, BCMA, CRS, lymphodepletion, B cells), so that vocabulary scores nothing: disease
names decide, cancer names and cancer products count against (unless they only say where
a product comes from, what it is compared with, or what side effect it causes), and the
title weighs more than the body. A title about a treatment that is not a cell therapy
(rituximab, a stem-cell transplant) is dropped even when the body mentions CAR-T. Every
point is explained in ``Verdict.reasons`` so an editor can see why a story was kept or
dropped; docs/relevance.md describes the rules and how they were measured.

The vocabulary is data (``carnews/data/lexicon.toml``), extended by an editor's file
and compiled by ``carnews.curate.lexicon``; each text is looked through once for all of it
(``carnews.text.textmatch``). This module is pure: text in, verdict out; the clock is
passed to ``rank_score``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

# The vocabulary is loaded and compiled in carnews.curate.lexicon, matched in
# carnews.curate.matching; the scope rules of issue #10 are in carnews.curate.scope.
from carnews.curate.lexicon import Lexicon
from carnews.curate.matching import Found, Hit, count, find
from carnews.curate.matching import hits as term_hits
from carnews.curate.scope import Scope, widen
from carnews.text.textmatch import Scan

DEFAULT_EVIDENCE = "news"
# Ranking lives here rather than in the lexicon because rank_score is given only a
# verdict: it must rank stories from the database without reloading vocabulary.
EVIDENCE_RANK: Mapping[str, float] = {
    "phase 3": 5.0,
    "phase 2": 4.0,
    "phase 1/2": 3.5,
    "regulatory": 3.5,
    "phase 1": 3.0,
    "case series": 2.5,
    "conference abstract": 2.5,
    "review": 2.0,
    "case report": 2.0,
    "trial registration": 1.5,
    "patient story": 1.5,
    "news": 1.0,
    "lab study": 1.0,
}
RECENCY_WEIGHT = 3.0  # what a story published right now gains over an undated one
RECENCY_HALF_LIFE_DAYS = 14.0  # a newsletter goes out every week or two

_NUMBER_WORDS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen", "twenty"),
)
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+|" + "|".join(_NUMBER_WORDS)
# "15 patients", "five refractory SLE participants", "18 relapsed/refractory patients";
# the words in between may not be numbers or the small words that join two phrases,
# so "29 months in 15 patients" yields 15, not 29.
_PATIENTS = re.compile(
    rf"(?<![\w.,])({_NUMBER})\s+"
    r"(?:(?!(?:in|of|at|for|from|after|with|and|or|to|by|per|months?|years?|weeks?|days?)\b)"
    r"[a-z][a-z/'’-]*\s+){0,3}"
    r"(?:patients?|participants?|people|persons|individuals|subjects|children|adolescents"
    r"|adults|women|men|cases)\b",
    re.IGNORECASE,
)
_N_EQUALS = re.compile(r"\b(?:n\s*=\s*|enrol(?:l)?ment:?\s*)(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    relevant: bool
    score: float
    diseases: tuple[str, ...]
    therapy: str | None
    target: str | None
    evidence: str
    patients: int | None
    reasons: tuple[str, ...]


def _points(hits: list[Hit], kind: str, lexicon: Lexicon) -> tuple[float, list[str]]:
    """Points and reasons for one category; ``kind`` (disease, …) picks the weights."""
    w = lexicon.weights
    cap = int(w["text_mentions_cap"])
    total, reasons = 0.0, []
    for hit in hits:
        factor = w["broad_factor"] if hit.name in lexicon.broad_terms else 1.0
        if hit.title:
            p = w[f"{kind}_title"] * factor
            total += p
            reasons.append(f"{kind} '{hit.name}' in title ({p:+.1f})")
        if hit.text:
            p = w[f"{kind}_text"] * factor * min(hit.text, cap)
            total += p
            times = f" ×{hit.text}" if hit.text > 1 else ""
            reasons.append(f"{kind} '{hit.name}' in text{times} ({p:+.1f})")
    return total, reasons


def _pick_therapy(hits: list[Hit], fallback: str) -> str | None:
    """The kind named most (title counts triple); the general fallback only if alone."""
    return _most([h for h in hits if h.name != fallback] or hits)


def _most(hits: list[Hit]) -> str | None:
    """The term named most, a title mention counting triple. max() keeps the first of
    equals and hits are in lexicon order, so ties go to the term listed first."""
    return max(hits, key=lambda h: 3 * h.title + h.text).name if hits else None


def _therapy_points(hits: list[Hit], kind: str | None, lexicon: Lexicon) -> tuple[float, str]:
    # Counted once, not per mention: a therapy is a precondition, not a measure of
    # how autoimmune a story is.
    if any(h.title for h in hits):
        p, where = lexicon.weights["therapy_title"], "title"
    else:
        p, where = lexicon.weights["therapy_text"], "text"
    return p, f"therapy '{kind}' in {where} ({p:+.1f})"


def _grade(lexicon: Lexicon, title: Scan, text: Scan) -> tuple[str, str]:
    """Evidence level and where it was seen: title first, then body, in lexicon order."""
    index = lexicon.index
    for where, body in (("title", title), ("text", text)):
        found = body.finditer(index.tables["evidence"])
        if found:  # patterns are in lexicon order, so the first found is the level
            return index.names[min(found)], where
    return DEFAULT_EVIDENCE, ""


def _count_patients(text: str) -> int | None:
    """The number treated or enrolled, when stated; the largest such number wins,
    because a study's total is at least as large as any subgroup it reports."""
    found: list[int] = []
    for match in _PATIENTS.finditer(text):
        word = match.group(1).lower()
        found.append(
            _NUMBER_WORDS.index(word) if word in _NUMBER_WORDS else int(word.replace(",", ""))
        )
    found.extend(int(m.group(1)) for m in _N_EQUALS.finditer(text))
    plausible = [n for n in found if 0 < n < 100_000]
    return max(plausible) if plausible else None


# --- the verdict -----------------------------------------------------------------------


def classify(title: str, text: str, *, lexicon: Lexicon, threshold: float = 2.0,
             topic_diseases: Sequence[str] = ()) -> Verdict:  # fmt: skip
    """Decide whether an entry belongs in the newsletter, and say why.

    ``topic_diseases`` are its source's own topic (a lupus news site: lupus), which
    stand in for the disease a title leaves unnamed.
    """
    # Each text is looked through once for every pattern in the lexicon.
    in_title, in_text = lexicon.index.patterns.scan(title), lexicon.index.patterns.scan(text)
    scope = widen(lexicon, find(lexicon, in_title, in_text), in_title, in_text, topic_diseases)
    found = scope.found
    evidence, seen_in = _grade(lexicon, in_title, in_text)
    therapy = _pick_therapy(found.therapies, lexicon.fallback_therapy)
    target = _most(term_hits(lexicon, "targets", in_title, in_text, shared=False))
    score, reasons = _score(scope, therapy, lexicon)
    if target:
        reasons.append(f"target '{target}' (no points: shared with cancer)")
    reasons.append(f"evidence '{evidence}'" + (f" from {seen_in}" if seen_in else ""))
    named = bool(found.diseases or scope.topics or scope.safety)
    blockers = _blockers(found, named, evidence != "review", lexicon.weights["oncology_dominance"])
    reasons += blockers
    relevant = not blockers and score >= threshold
    if not blockers:
        verb = "≥" if relevant else "below"
        reasons.append(f"score {score:.1f} {verb} threshold {threshold:.1f}")
    return Verdict(
        relevant=relevant,
        score=round(score, 2),
        diseases=_tags(scope, lexicon),
        therapy=therapy,
        target=target,
        evidence=evidence,
        patients=_count_patients(f"{title}\n{text}"),
        reasons=tuple(reasons),
    )


def _tags(scope: Scope, lexicon: Lexicon) -> tuple[str, ...]:
    """The diseases a story is for: none for class-wide safety news (every reader), else
    the source's topic first, then specific diseases before broad, title before text."""
    if scope.safety:
        return ()
    ranked = sorted(scope.found.diseases,
                    key=lambda h: (h.name in lexicon.broad_terms, -h.title, -h.text))  # fmt: skip
    return tuple(dict.fromkeys([*scope.topics, *(h.name for h in ranked)]))


def _score(scope: Scope, therapy: str | None, lexicon: Lexicon) -> tuple[float, list[str]]:
    """Points for diseases, cancers and cancer products, and for the therapy named."""
    score, reasons, found, weights = 0.0, list(scope.reasons), scope.found, lexicon.weights
    kinds = ((found.diseases, "disease"), (found.cancers, "oncology"), (found.products, "product"))
    for hits, kind in kinds:
        points, why = _points(hits, kind, lexicon)
        score += points
        reasons += why
    for name in scope.topics:
        score += weights["disease_topic"]
        reasons.append(f"disease '{name}' from the source's topic, the title naming none "
                       f"({weights['disease_topic']:+.1f})")  # fmt: skip
    if scope.safety:
        score += weights["safety_title"]
        reasons.append(f"class-wide CAR-T safety news in title ({weights['safety_title']:+.1f})")
    if found.in_context:
        reasons.append(
            f"{found.in_context} cancer mention(s) only as context "
            "(a product's approval, a comparison, a side effect, an absence): no points"
        )
    if found.repurposed:
        names = ", ".join(found.repurposed)
        reasons.append(f"cancer product(s) {names} tried in the autoimmune disease: no points")
    if found.therapies:
        points, why_therapy = _therapy_points(found.therapies, therapy, lexicon)
        score += points
        reasons.append(why_therapy)
    return score, reasons


def _blockers(found: Found, named: bool, primary: bool, dominance: float) -> list[str]:
    """Reasons that drop a story whatever its score; ``named``: a disease is named, or
    stood in for (a source's topic, or class-wide safety news)."""
    blockers = []
    if not named:
        blockers.append("no autoimmune disease named")
    if not found.therapies:
        blockers.append("no cell therapy or T-cell engager named")
    # "Rituximab plus belimumab in lupus nephritis" that mentions CAR-T as a comparison,
    # or a stem-cell transplant guideline that calls CAR-T out of scope.
    elif not any(h.title for h in found.therapies):
        other = [h.name for h in found.treatments if h.title]
        if other:
            blockers.append(
                f"no cell therapy in the title, which is about {', '.join(other)} "
                "(the cell therapy is only mentioned in the text)"
            )
    # "CAR-T in lymphoma patients with inflammatory bowel disease": a cancer in the
    # title (not as context) is what the therapy was given for, unless a review
    # surveys both.
    title_cancers = [h.name for h in found.cancers if h.title]
    if named and primary and title_cancers:
        blockers.append(
            f"no autoimmune indication: the title names {', '.join(title_cancers)}, "
            "so the therapy was given for cancer"
        )
    cancer_mentions = sum(h.text for h in found.cancers + found.products)
    disease_mentions = sum(h.text for h in found.diseases)
    # A review may survey cancer at length and still be about autoimmunity; a primary
    # report (anything but a review) that talks mostly about cancer treated a cancer.
    dominated = cancer_mentions >= 2 and cancer_mentions >= dominance * disease_mentions
    if named and primary and dominated:
        blockers.append(
            f"oncology dominates the text ({cancer_mentions} cancer vs "
            f"{disease_mentions} disease mentions): the therapy was given for cancer"
        )
    return blockers


def rank_score(
    verdict: Verdict, *, published_at: datetime | None, now: datetime, source_weight: float
) -> float:
    """Evidence level + recency + source weight; higher goes first in the edition.

    Recency halves every RECENCY_HALF_LIFE_DAYS; an undated story gets no recency
    bonus, so it never outranks a dated one of the same evidence by accident.
    """
    score = EVIDENCE_RANK.get(verdict.evidence, EVIDENCE_RANK[DEFAULT_EVIDENCE]) + source_weight
    if published_at is not None:
        age_days = max(0.0, (_aware(now) - _aware(published_at)).total_seconds() / 86_400)
        score += RECENCY_WEIGHT * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    return score


def _aware(moment: datetime) -> datetime:
    # Feeds sometimes give naive times; carnews stores UTC, so read them as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def diseases_named(lexicon: Lexicon, text: str) -> Counter[str]:
    """How often each disease is named in ``text``, by the same rules as ``classify``."""
    return count(lexicon, lexicon.index.patterns.scan(text), "diseases", shared=True)
