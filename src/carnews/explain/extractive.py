"""Explain stage: plain-language summary, glossary and reading grade.

A pure, offline core: text in, :class:`Explanation` out. No network, no model
downloads, no clock. The summary is *extractive* (:mod:`carnews.explain.summary`): every
sentence is taken from one source sentence, at most with asides deleted or a
clause split off, so every word and number a patient reads is one the source
printed. An editor rewrites it later if needed; this stage never paraphrases.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from carnews.errors import ConfigError
from carnews.explain.summary import summarise
from carnews.text.readability import fk_grade
from carnews.text.textmatch import PatternSet

__all__ = [
    "Explanation", "GlossaryTerm", "explain", "explain_summary", "load_glossary",
    "looks_like_jargon", "summarise", "what_it_means",
]  # fmt: skip

# --------------------------------------------------------------------------- glossary


@dataclass(frozen=True)
class GlossaryTerm:
    """One glossary entry: how it is shown, what it means, how to find it."""

    term: str
    plain: str
    patterns: tuple[re.Pattern[str], ...]


_PACKAGED = "carnews/data/glossary.toml"
_GLOSSARY_HINT = (
    "Each [[terms]] block needs term, patterns (a list of regexes) and plain; "
    "the comments at the top of carnews/data/glossary.toml show an example."
)


def load_glossary(extra: Path | None = None) -> tuple[GlossaryTerm, ...]:
    """The packaged glossary, plus an editor's file whose terms replace or extend it."""
    text = resources.files("carnews.data").joinpath("glossary.toml").read_text(encoding="utf-8")
    terms = _parse_glossary(text, _PACKAGED)
    if extra is None:
        return terms
    try:
        extra_text = extra.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{extra}: cannot read glossary file ({exc.strerror or exc})",
            hint="Check the path given for the editor's glossary file.",
            context={"file": str(extra)},
        ) from exc
    # An editor's entry with a packaged name rewords it in place; new names go last.
    by_name = {t.term.casefold(): t for t in _parse_glossary(extra_text, str(extra))}
    merged = [by_name.pop(t.term.casefold(), t) for t in terms]
    return (*merged, *by_name.values())


def _parse_glossary(text: str, source: str) -> tuple[GlossaryTerm, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _glossary_error(source, f"not valid TOML ({exc})") from exc
    entries = data.get("terms", [])
    if set(data) - {"terms"} or not isinstance(entries, list):
        raise _glossary_error(source, "expected only [[terms]] blocks at the top level")
    terms: list[GlossaryTerm] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        term = _parse_entry(entry, source, index)
        if term.term.casefold() in seen:
            raise _glossary_error(source, f"term {term.term!r} is defined twice", term=term.term)
        seen.add(term.term.casefold())
        terms.append(term)
    return tuple(terms)


def _parse_entry(entry: Any, source: str, index: int) -> GlossaryTerm:
    name = entry.get("term") if isinstance(entry, dict) else None
    label = name.strip() if isinstance(name, str) and name.strip() else f"entry {index}"
    problem = _entry_problem(entry)
    if problem:
        raise _glossary_error(source, f"term {label!r}: {problem}", term=label)
    patterns = tuple(_compile(p, source, label) for p in entry["patterns"])
    return GlossaryTerm(term=label, plain=entry["plain"].strip(), patterns=patterns)


def _entry_problem(entry: Any) -> str:
    """What is wrong with one [[terms]] block, or "" if nothing is."""
    if not isinstance(entry, dict):
        return "not a [[terms]] table"
    if unknown := sorted(set(entry) - {"term", "patterns", "plain"}):
        return f"unknown key(s) {unknown}; expected term, patterns and plain"
    if not all(isinstance(entry.get(k), str) and entry[k].strip() for k in ("term", "plain")):
        return "'term' and 'plain' must be non-empty strings"
    patterns = entry.get("patterns")
    if not (isinstance(patterns, list) and patterns and all(isinstance(p, str) for p in patterns)):
        return "'patterns' must be a non-empty list of strings"
    return ""


def _compile(pattern: str, source: str, term: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise _glossary_error(
            source, f"term {term!r}: bad pattern {pattern!r} ({exc})", term=term, pattern=pattern
        ) from exc
    # A pattern that matches nothing at all would "find" the term in every text.
    if compiled.search("") is not None:
        raise _glossary_error(
            source, f"term {term!r}: pattern {pattern!r} matches empty text", term, pattern
        )
    return compiled


def _glossary_error(source: str, what: str, term: str = "", pattern: str = "") -> ConfigError:
    context = {"file": source, "term": term, "pattern": pattern}
    return ConfigError(
        f"{source}: {what}",
        hint=_GLOSSARY_HINT,
        context={k: v for k, v in context.items() if v},
    )


# --------------------------------------------------------------------------- framing

# Evidence level -> (how a known patient count is worded, the line it goes into).
# Each line says, in two short sentences, what kind of evidence it is and what it
# does *not* show yet.
# fmt: off
_FRAMES: dict[str, tuple[str, str]] = {
    "lab study": (" using samples from {n}",
                  "A lab study{count}. It has not yet been tested in people."),
    "case report": (" of {n}", "A report on the treatment{count}. One case cannot show how well"
                    " it works for others."),
    "case series": (" {n}", "A report on{count} treated the same way, with no group to compare"
                    " with. The results are hopeful but early."),
    "phase 1": (" in {n}", "An early safety study{count}. For now, you can only get this"
                " treatment in a clinical trial."),
    "phase 1/2": (" in {n}", "An early study of safety and first signs of benefit{count}."
                  " For now, you can only get this treatment in a clinical trial."),
    "phase 2": (" in {n}", "A mid-stage study of how well the treatment works{count}. It is"
                " not yet approved for this use."),
    "phase 3": (" in {n}", "A large study that compares the treatment with usual care{count}."
                " This is often the last step before approval."),
    "review": (" covering {n}", "A review of earlier studies{count}. It sums up what is known"
               " and adds no new results."),
    "regulatory": (" about a treatment tested in {n}", "News from a medicines"
                   " regulator{count}. Ask your care team what it means for you."),
    "trial registration": (" that plans to enrol {n}", "A newly registered clinical"
                           " trial{count}. It has no results yet."),
    "conference abstract": (" on {n}", "A short report from a medical meeting{count}. Other"
                            " scientists have not yet fully checked it."),
    "patient story": (" shared by {n}",
                      "A personal experience{count}. It is not a scientific study."),
    "news": (" about results in {n}",
             "A news report{count}. Check the original study before you draw conclusions."),
}
# fmt: on
# Where a line needs words in place of the missing count; they carry no number.
_NO_COUNT = {"case report": " of a single patient", "case series": " a small group of patients"}


def what_it_means(evidence: str, patients: int | None) -> str:
    """One line framing a story by its evidence level and, if known, its patient count."""
    key = " ".join(evidence.lower().split())
    # A level an editor added to the lexicon has no wording yet: frame it as plain news.
    key = key if key in _FRAMES else "news"
    count_phrase, line = _FRAMES[key]
    if not patients or patients < 0:  # unknown: say nothing rather than invent a number
        return line.format(count=_NO_COUNT.get(key, ""))
    people = f"{patients} {'person' if patients == 1 else 'people'}"
    return line.format(count=count_phrase.format(n=people))


# --------------------------------------------------------------------------- explain


@dataclass(frozen=True)
class Explanation:
    """What the explain stage adds to a story."""

    summary: str
    what_it_means: str
    fk_grade: float
    terms: tuple[GlossaryTerm, ...]
    unexplained_terms: tuple[str, ...]
    # Which backend wrote the summary, and why a configured one was passed over:
    # the editor sees both, so a silent fallback to "extractive" is never silent.
    backend: str = "extractive"
    warnings: tuple[str, ...] = ()


def explain(
    title: str,
    text: str,
    *,
    evidence: str,
    patients: int | None,
    glossary: tuple[GlossaryTerm, ...],
) -> Explanation:
    """Summarise ``text``, frame it, grade it and list the jargon it uses."""
    summary = summarise(title, text)
    return explain_summary(title, summary, evidence=evidence, patients=patients, glossary=glossary)


def explain_summary(
    title: str,
    summary: str,
    *,
    evidence: str,
    patients: int | None,
    glossary: tuple[GlossaryTerm, ...],
    backend: str = "extractive",
) -> Explanation:
    """Frame, grade and list the jargon of a summary, whichever backend wrote it.

    One place builds every :class:`Explanation`, so an LLM summary is graded and
    glossed exactly as an extractive one is, and its framing never comes from the model.
    """
    return Explanation(
        summary=summary,
        what_it_means=what_it_means(evidence, patients),
        fk_grade=fk_grade(summary),
        terms=_terms_used(f"{title}\n{summary}", glossary),
        unexplained_terms=_unexplained(summary, glossary),
        backend=backend,
    )


def _terms_used(text: str, glossary: tuple[GlossaryTerm, ...]) -> tuple[GlossaryTerm, ...]:
    """Terms found in ``text``, each once, ordered by where they first appear."""
    patterns, ranks = _glossary_patterns(glossary)
    first: dict[int, int] = {}  # rank in the glossary -> where the term first appears
    for index, found in patterns.scan(text).finditer(range(len(patterns))).items():
        rank, start = ranks[index], found[0].start()
        first[rank] = min(start, first.get(rank, start))
    return tuple(glossary[rank] for rank in sorted(first, key=lambda r: (first[r], r)))


# The glossary's patterns as one PatternSet (the stages pass the same tuple each time),
# with the rank of each pattern's term. Keyed by identity: hashing the tuple of frozen
# dataclasses would cost more than the matching it saves.
_PATTERN_SETS: dict[int, tuple[tuple[GlossaryTerm, ...], PatternSet, tuple[int, ...]]] = {}


def _glossary_patterns(glossary: tuple[GlossaryTerm, ...]) -> tuple[PatternSet, tuple[int, ...]]:
    cached = _PATTERN_SETS.get(id(glossary))
    if cached is None or cached[0] is not glossary:
        if len(_PATTERN_SETS) >= 8:
            _PATTERN_SETS.clear()
        patterns = PatternSet(p for term in glossary for p in term.patterns)
        ranks = tuple(rank for rank, term in enumerate(glossary) for _ in term.patterns)
        # The glossary is kept with them, so its id is not reused while cached.
        cached = _PATTERN_SETS[id(glossary)] = (glossary, patterns, ranks)
    return cached[1], cached[2]


# Capitals that are not jargon: roman numerals, countries, abstract headings.
_NOT_JARGON = {
    "I", "A", "OK", "US", "USA", "UK", "EU", "CEO", "II", "III", "IV", "VI", "VII", "VIII", "IX",
    "BACKGROUND", "METHODS", "RESULTS", "FINDINGS", "CONCLUSION", "CONCLUSIONS", "INTRODUCTION",
}  # fmt: skip
# Long words every reader knows; other words of 13 letters or more count as jargon.
_COMMON_LONG = {
    "approximately", "significantly", "international", "understanding", "relationship",
    "relationships", "responsibility", "administration", "comprehensive", "communication",
    "organisation", "organization", "participants", "participation", "researchers",
    "information", "particularly", "additionally", "consistently", "nevertheless",
    "investigators",
}  # fmt: skip
_MEDICAL_SUFFIX = re.compile(
    r"(?:itis|osis|a?emia|opathy|ectomy|ocytes?|uria|penia|plasia|genic|ology|otoxicity)$"
)


_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_PART = re.compile(r"[^\W_]+")


def _unexplained(summary: str, glossary: tuple[GlossaryTerm, ...]) -> tuple[str, ...]:
    """Jargon-looking words in ``summary`` that no glossary pattern covers, once each."""
    patterns, _ = _glossary_patterns(glossary)
    covered = bytearray(len(summary))  # 1 where a glossary pattern matched
    for found in patterns.scan(summary).finditer(range(len(patterns))).values():
        for match in found:
            covered[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    words: dict[str, str] = {}
    for token in _TOKEN.finditer(summary):
        start, end = token.span()
        # "anti-CD19" is covered by CD19; in "MG-ADL" only MG is, so ADL is judged alone.
        parts = [token]
        if covered.find(1, start, end) >= 0:
            pieces = _PART.finditer(summary, start, end)
            parts = [p for p in pieces if covered.find(1, p.start(), p.end()) < 0]
        for part in parts:
            word = part.group(0)
            if _looks_like_jargon(word):
                words.setdefault(word.casefold(), word)
    return tuple(words.values())


def looks_like_jargon(word: str) -> bool:
    """Whether a reader would need ``word`` explained: IL-6, SLE, lymphodepletion."""
    return _looks_like_jargon(word)


@functools.lru_cache(maxsize=65536)
def _looks_like_jargon(word: str) -> bool:
    if word.upper() in _NOT_JARGON or not any(c.isalpha() for c in word):
        return False
    if word[0].isalpha() and any(c.isdigit() for c in word):
        return True  # IL-6, CD20, KYV-101
    upper = sum(c.isupper() for c in word)
    if upper >= 2 and upper >= sum(c.islower() for c in word):
        return True  # SLE, CRS, IgG, mRNA
    lower = word.lower()
    if "-" in lower or not lower.isalpha() or lower in _COMMON_LONG:
        return False
    return len(lower) >= 13 or (len(lower) >= 9 and bool(_MEDICAL_SUFFIX.search(lower)))
