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

The vocabulary is data (``carnews/data/lexicon.toml``), extended by an editor's file.
This module is pure: text in, verdict out; the clock is passed to ``rank_score``.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

from carnews.errors import ConfigError
from carnews.textmatch import matches, search

BUILTIN_LABEL = "carnews/data/lexicon.toml"
LIST_TABLES = (
    *("diseases", "therapies", "other_treatments", "targets", "oncology", "oncology_products"),
    *("oncology_context", "evidence"),
)
# Written in [oncology_context] patterns where a cancer or cancer product name goes.
CANCER_PLACEHOLDER = "<cancer>"
# Weights are named "<kind>_<place>", the way _points looks them up.
WEIGHTS = tuple(
    f"{k}_{p}" for k in ("disease", "therapy", "oncology", "product") for p in ("title", "text")
)
NUMBER_SETTINGS = (*WEIGHTS, "text_mentions_cap", "broad_factor", "oncology_dominance")
DEFAULT_EVIDENCE = "news"
PATTERN_HINT = (
    "Patterns are Python regular expressions, matched case-insensitively with word "
    "boundaries added; fix or remove the one named."
)

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
class Term:
    """One named thing (a disease, a therapy kind, an evidence level) and its patterns."""

    name: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Lexicon:
    """Compiled vocabulary and weights; build it with ``load_lexicon``."""

    diseases: tuple[Term, ...]
    therapies: tuple[Term, ...]
    other_treatments: tuple[Term, ...]
    targets: tuple[Term, ...]
    oncology: tuple[Term, ...]
    oncology_products: tuple[Term, ...]
    oncology_context: tuple[Term, ...]
    evidence: tuple[Term, ...]
    weights: Mapping[str, float]
    broad_terms: frozenset[str]
    fallback_therapy: str
    sources: tuple[str, ...]


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


@dataclass(frozen=True)
class _Hit:
    """How often one term was found in the title and in the body."""

    name: str
    title: int
    text: int


# --- loading -------------------------------------------------------------------------


def load_lexicon(extra: Path | None = None) -> Lexicon:
    """The built-in lexicon, with an editor's file (if given) extending its lists."""
    builtin = resources.files("carnews.data").joinpath("lexicon.toml").read_text("utf-8")
    layers = [(_parse(builtin, BUILTIN_LABEL), BUILTIN_LABEL)]
    if extra is not None:
        try:
            text = extra.read_text(encoding="utf-8")
        except OSError as exc:
            reason = f"cannot be read: {exc.strerror or exc}"
            raise _error(str(extra), reason, "Check the editor lexicon file's path.") from exc
        layers.append((_parse(text, str(extra)), str(extra)))
    tables: dict[str, dict[str, list[_Raw]]] = {t: {} for t in LIST_TABLES}
    scoring: dict[str, Any] = {}
    for data, label in layers:
        for table in LIST_TABLES:
            for key, raw in _read_table(data.get(table, {}), table, label).items():
                tables[table].setdefault(key, []).extend(raw)
        scoring.update(_check_scoring(data.get("scoring", {}), label))
    return _assemble(tables, scoring, tuple(label for _, label in layers))


def _error(label: str, message: str, hint: str | None = None, **context: str) -> ConfigError:
    return ConfigError(f"{label}: {message}", hint=hint, context={"file": label, **context})


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _error(label, f"not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {*LIST_TABLES, "scoring"})
    if unknown:
        tables = ", ".join((*LIST_TABLES, "scoring"))
        raise _error(label, f"unknown table(s) {', '.join(unknown)}", f"The tables are {tables}.")
    return data


@dataclass(frozen=True)
class _Raw:
    """One pattern as written, with the file it came from (for error messages)."""

    pattern: str
    label: str


def _read_table(raw: Any, table: str, label: str) -> dict[str, list[_Raw]]:
    if not isinstance(raw, dict):
        raise _error(label, f"[{table}] must be a table of name = [patterns]")
    read: dict[str, list[_Raw]] = {}
    for key, patterns in raw.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            hint = f"Write it as {key!r} = ['pattern one', 'pattern two']."
            raise _error(label, f"[{table}] {key!r} must be a list of pattern strings", hint)
        read[key] = [_Raw(p, label) for p in patterns]
    return read


def _compile_terms(
    raw: Mapping[str, list[_Raw]], table: str, cancer: str | None = None
) -> tuple[Term, ...]:
    """Compile one table; ``cancer`` replaces CANCER_PLACEHOLDER in its patterns."""
    terms = []
    for key, patterns in raw.items():
        compiled = []
        for p in patterns:
            expanded = p.pattern.replace(CANCER_PLACEHOLDER, cancer) if cancer else None
            compiled.append(_compile(p.pattern, p.label, table, key, expanded))
        terms.append(Term(key, tuple(compiled)))
    return tuple(terms)


def _compile(
    pattern: str, label: str, table: str, key: str, expanded: str | None = None
) -> re.Pattern[str]:
    """Compile ``pattern`` (or its ``expanded`` form); errors name what the editor wrote."""
    where = f"[{table}] {key!r}: pattern {pattern!r}"
    source = pattern if expanded is None else expanded
    # Word boundaries are added here so editors cannot forget them: "ms" must never
    # match inside "items".
    try:
        compiled = re.compile(rf"(?<!\w)(?:{source})(?!\w)", re.IGNORECASE)
    except re.error as exc:
        message = f"{where} is not a valid regular expression ({exc})"
        raise _error(label, message, PATTERN_HINT, key=f"{table}.{key}", pattern=pattern) from exc
    # A pattern matching nothing at all would count every position in the text.
    if re.fullmatch(rf"(?:{source})", "", re.IGNORECASE) is not None:
        message = f"{where} matches empty text"
        raise _error(label, message, PATTERN_HINT, key=f"{table}.{key}", pattern=pattern)
    return compiled


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_SCORING_CHECKS: Mapping[str, tuple[Callable[[object], bool], str]] = {
    **{key: (_is_number, "a number") for key in NUMBER_SETTINGS},
    "broad_terms": (_is_names, "a list of names"),
    "fallback_therapy": (lambda v: isinstance(v, str), "a therapy name"),
}


def _check_scoring(raw: Any, label: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _error(label, "[scoring] must be a table")
    for key, value in raw.items():
        if key not in _SCORING_CHECKS:
            known = ", ".join(_SCORING_CHECKS)
            raise _error(label, f"[scoring] {key}: unknown setting", f"Known: {known}.", key=key)
        check, expected = _SCORING_CHECKS[key]
        if not check(value):
            raise _error(label, f"[scoring] {key} = {value!r}: expected {expected}", key=key)
    return dict(raw)


def _assemble(
    tables: Mapping[str, Mapping[str, list[_Raw]]],
    scoring: Mapping[str, Any],
    sources: tuple[str, ...],
) -> Lexicon:
    missing = [key for key in _SCORING_CHECKS if key not in scoring]
    if missing:
        raise _error(sources[0], f"[scoring] lacks {', '.join(missing)}")
    terms = {t: _compile_terms(tables[t], t) for t in LIST_TABLES if t != "oncology_context"}
    # Any cancer or cancer product, as one alternation, for the context patterns.
    named = [p for term in (*terms["oncology"], *terms["oncology_products"]) for p in term.patterns]
    cancer = "(?:" + "|".join(p.pattern for p in named) + ")"
    return Lexicon(
        diseases=terms["diseases"],
        therapies=terms["therapies"],
        other_treatments=terms["other_treatments"],
        targets=terms["targets"],
        oncology=terms["oncology"],
        oncology_products=terms["oncology_products"],
        oncology_context=_compile_terms(tables["oncology_context"], "oncology_context", cancer),
        evidence=terms["evidence"],
        weights={k: float(scoring[k]) for k in NUMBER_SETTINGS},
        broad_terms=frozenset(scoring["broad_terms"]),
        fallback_therapy=str(scoring["fallback_therapy"]),
        sources=sources,
    )


# --- matching ------------------------------------------------------------------------


def _claim(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the longest of overlapping matches, so one phrase is counted once."""
    kept: list[tuple[int, int, str]] = []
    for start, end, name in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, name))
    return kept


def _claimed(terms: Iterable[Term], text: str, *, shared: bool) -> list[tuple[int, int, str]]:
    """Every mention as (start, end, term); with ``shared`` the terms compete for
    overlapping text, otherwise each term only with itself."""
    lowered = text.lower()
    groups = [[(m.start(), m.end(), t.name) for m in matches(t.patterns, text, lowered)]
              for t in terms]  # fmt: skip
    return _claim(chain(*groups)) if shared else list(chain(*map(_claim, groups)))


def _count(terms: Iterable[Term], text: str, *, shared: bool) -> Counter[str]:
    """Mentions per term."""
    return Counter(name for _, _, name in _claimed(terms, text, shared=shared))


def _as_hits(terms: tuple[Term, ...], in_title: Counter[str], in_text: Counter[str]) -> list[_Hit]:
    hits = (_Hit(t.name, in_title[t.name], in_text[t.name]) for t in terms)
    return [hit for hit in hits if hit.title or hit.text]


def _hits(terms: tuple[Term, ...], title: str, text: str, *, shared: bool) -> list[_Hit]:
    in_title, in_text = _count(terms, title, shared=shared), _count(terms, text, shared=shared)
    return _as_hits(terms, in_title, in_text)


def _outside_context(lexicon: Lexicon, body: str) -> tuple[Counter[str], Counter[str], int]:
    """Cancer and cancer-product mentions that are not mere context, and how many were.

    Context is a product's approval, a comparison, a side effect ("secondary T-cell
    malignancy") or an absence ("without tumour"): see [oncology_context]."""
    cancers = _claimed(lexicon.oncology, body, shared=True)
    products = _claimed(lexicon.oncology_products, body, shared=False)
    # The context patterns are slow (every cancer name in one alternation), so they
    # only run where a cancer is named.
    patterns = [p for term in lexicon.oncology_context for p in term.patterns]
    lowered = body.lower()
    spans = [m.span() for m in matches(patterns, body, lowered)] if cancers or products else []

    def kept(found: list[tuple[int, int, str]]) -> Counter[str]:
        return Counter(n for at, _, n in found if not any(s <= at < e for s, e in spans))

    kept_cancers, kept_products = kept(cancers), kept(products)
    skipped = len(cancers) + len(products) - kept_cancers.total() - kept_products.total()
    return kept_cancers, kept_products, skipped


@dataclass(frozen=True)
class _Found:
    """Everything the lexicon found in one entry."""

    diseases: list[_Hit]
    therapies: list[_Hit]
    treatments: list[_Hit]
    cancers: list[_Hit]
    products: list[_Hit]
    in_context: int
    repurposed: tuple[str, ...]


def _find(lexicon: Lexicon, title: str, text: str) -> _Found:
    title_cancers, title_products, title_context = _outside_context(lexicon, title)
    text_cancers, text_products, text_context = _outside_context(lexicon, text)
    cancers = _as_hits(lexicon.oncology, title_cancers, text_cancers)
    products = _as_hits(lexicon.oncology_products, title_products, text_products)
    diseases = _hits(lexicon.diseases, title, text, shared=True)
    # A cancer product in a story whose title names an autoimmune disease and no cancer
    # is being tried in that disease (obe-cel in lupus): it says nothing against it.
    specific = any(h.title and h.name not in lexicon.broad_terms for h in diseases)
    repurposed = specific and not any(h.title for h in cancers)
    return _Found(
        diseases=diseases,
        therapies=_hits(lexicon.therapies, title, text, shared=False),
        treatments=_hits(lexicon.other_treatments, title, text, shared=False),
        cancers=cancers,
        products=[] if repurposed else products,
        in_context=title_context + text_context,
        repurposed=tuple(h.name for h in products) if repurposed else (),
    )


def _points(hits: list[_Hit], kind: str, lexicon: Lexicon) -> tuple[float, list[str]]:
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


def _pick_therapy(hits: list[_Hit], fallback: str) -> str | None:
    """The kind named most (title counts triple); the general fallback only if alone."""
    return _most([h for h in hits if h.name != fallback] or hits)


def _most(hits: list[_Hit]) -> str | None:
    """The term named most, a title mention counting triple. max() keeps the first of
    equals and hits are in lexicon order, so ties go to the term listed first."""
    return max(hits, key=lambda h: 3 * h.title + h.text).name if hits else None


def _therapy_points(hits: list[_Hit], kind: str | None, lexicon: Lexicon) -> tuple[float, str]:
    # Counted once, not per mention: a therapy is a precondition, not a measure of
    # how autoimmune a story is.
    if any(h.title for h in hits):
        p, where = lexicon.weights["therapy_title"], "title"
    else:
        p, where = lexicon.weights["therapy_text"], "text"
    return p, f"therapy '{kind}' in {where} ({p:+.1f})"


def _grade(lexicon: Lexicon, title: str, text: str) -> tuple[str, str]:
    """Evidence level and where it was seen: title first, then body, in lexicon order."""
    for where, body in (("title", title), ("text", text)):
        lowered = body.lower()
        for term in lexicon.evidence:
            if any(search(p, body, lowered) for p in term.patterns):
                return term.name, where
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


def classify(title: str, text: str, *, lexicon: Lexicon, threshold: float = 2.0) -> Verdict:
    """Decide whether an entry belongs in the newsletter, and say why."""
    found = _find(lexicon, title, text)
    evidence, seen_in = _grade(lexicon, title, text)
    therapy = _pick_therapy(found.therapies, lexicon.fallback_therapy)
    target = _most(_hits(lexicon.targets, title, text, shared=False))
    score, reasons = _score(found, therapy, lexicon)
    if target:
        reasons.append(f"target '{target}' (no points: shared with cancer)")
    reasons.append(f"evidence '{evidence}'" + (f" from {seen_in}" if seen_in else ""))
    blockers = _blockers(found, evidence != "review", lexicon.weights["oncology_dominance"])
    reasons += blockers
    relevant = not blockers and score >= threshold
    if not blockers:
        verb = "≥" if relevant else "below"
        reasons.append(f"score {score:.1f} {verb} threshold {threshold:.1f}")
    ranked = sorted(
        found.diseases, key=lambda h: (h.name in lexicon.broad_terms, -h.title, -h.text)
    )
    return Verdict(
        relevant=relevant,
        score=round(score, 2),
        diseases=tuple(h.name for h in ranked),
        therapy=therapy,
        target=target,
        evidence=evidence,
        patients=_count_patients(f"{title}\n{text}"),
        reasons=tuple(reasons),
    )


def _score(found: _Found, therapy: str | None, lexicon: Lexicon) -> tuple[float, list[str]]:
    """Points for diseases, cancers and cancer products, and for the therapy named."""
    score, reasons = 0.0, []
    kinds = ((found.diseases, "disease"), (found.cancers, "oncology"), (found.products, "product"))
    for hits, kind in kinds:
        points, why = _points(hits, kind, lexicon)
        score += points
        reasons += why
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


def _blockers(found: _Found, primary: bool, dominance: float) -> list[str]:
    """Reasons that drop a story whatever its score."""
    blockers = []
    if not found.diseases:
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
    if found.diseases and primary and title_cancers:
        blockers.append(
            f"no autoimmune indication: the title names {', '.join(title_cancers)}, "
            "so the therapy was given for cancer"
        )
    cancer_mentions = sum(h.text for h in found.cancers + found.products)
    disease_mentions = sum(h.text for h in found.diseases)
    # A review may survey cancer at length and still be about autoimmunity; a primary
    # report (anything but a review) that talks mostly about cancer treated a cancer.
    dominated = cancer_mentions >= 2 and cancer_mentions >= dominance * disease_mentions
    if found.diseases and primary and dominated:
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


# --- disease names for subscribers -------------------------------------------------------


def disease_names(lexicon: Lexicon) -> list[str]:
    """The normalised disease names, in lexicon order, for subscribers to choose from."""
    return [term.name for term in lexicon.diseases]


def normalise_disease(name: str, lexicon: Lexicon) -> str | None:
    """Map what a subscriber typed ("SLE", "Lupus", "scleroderma") to a disease name."""
    wanted = name.strip()
    for term in lexicon.diseases:
        if term.name.casefold() == wanted.casefold():
            return term.name
    # Short names like "RA" are only matched in context in running text, so a bare
    # name is also tried as a phrase.
    for phrase in (wanted, f"patients with {wanted}"):
        found = _count(lexicon.diseases, phrase, shared=True).most_common(1)
        if found:
            return found[0][0]
    return None
