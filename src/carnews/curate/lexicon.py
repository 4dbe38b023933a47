"""The curate stage's vocabulary: the lexicon, loaded, checked and compiled.

The vocabulary is data (``carnews/data/lexicon.toml``), extended by an editor's file;
every pattern is checked at start-up, and a bad one stops it with the file, the table,
the key and the pattern. ``carnews.curate.classify`` scores texts with what is built here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from carnews.errors import ConfigError
from carnews.text.textmatch import PatternSet

BUILTIN_LABEL = "carnews/data/lexicon.toml"
LIST_TABLES = (
    *("diseases", "therapies", "other_treatments", "targets", "oncology", "oncology_products"),
    *("oncology_context", "evidence", "safety", "remission"),
)
# Written in [oncology_context] patterns where a cancer or cancer product name goes.
CANCER_PLACEHOLDER = "<cancer>"
# Written in [remission] patterns where the name of a specific autoimmune disease goes.
DISEASE_PLACEHOLDER = "<disease>"
# Weights are named "<kind>_<place>", the way _points looks them up.
WEIGHTS = tuple(
    f"{k}_{p}" for k in ("disease", "therapy", "oncology", "product") for p in ("title", "text")
)
NUMBER_SETTINGS = (*WEIGHTS, "text_mentions_cap", "broad_factor", "oncology_dominance",
                   "safety_title", "disease_topic")  # fmt: skip
PATTERN_HINT = (
    "Patterns are Python regular expressions, matched case-insensitively with word "
    "boundaries added; fix or remove the one named."
)


@dataclass(frozen=True)
class Term:
    """One named thing (a disease, a therapy kind, an evidence level) and its patterns."""

    name: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Index:
    """Every pattern of a lexicon in one ``PatternSet``, so that a text is looked
    through once for all of them, and which table and term each pattern belongs to."""

    patterns: PatternSet
    tables: Mapping[str, range]  # table -> the indices of its patterns
    terms: tuple[int, ...]  # pattern index -> its term, numbered across all tables
    names: tuple[str, ...]  # pattern index -> its term's name


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
    safety: tuple[Term, ...]
    remission: tuple[Term, ...]
    weights: Mapping[str, float]
    broad_terms: frozenset[str]
    fallback_therapy: str
    safety_therapies: frozenset[str]
    sources: tuple[str, ...]
    index: Index = field(repr=False, compare=False)


# --- loading -------------------------------------------------------------------------


def lexicon_disease_names(extra: Path | None = None) -> tuple[str, ...]:
    """The lexicon's disease names, in ``load_lexicon``'s order, without compiling a pattern.

    Compiling the whole lexicon costs most of a second; a subscriber import whose cells
    name catalogue diseases exactly ("lupus;myositis"), and the list of per-disease pages
    a publish writes, need only the names. An editor's file adds its new names after the
    built-in ones, as ``load_lexicon`` does; its patterns are checked where they are used.
    """
    builtin = resources.files("carnews.data").joinpath("lexicon.toml").read_text("utf-8")
    layers = [(builtin, BUILTIN_LABEL)]
    if extra is not None:
        try:
            layers.append((extra.read_text(encoding="utf-8"), str(extra)))
        except OSError as exc:
            reason = f"cannot be read: {exc.strerror or exc}"
            raise _error(str(extra), reason, "Check the editor lexicon file's path.") from exc
    names: dict[str, None] = {}
    for text, label in layers:
        names.update(dict.fromkeys(_read_table(_parse(text, label).get("diseases", {}),
                                               "diseases", label)))  # fmt: skip
    return tuple(names)


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
    raw: Mapping[str, list[_Raw]], table: str, placeholders: Mapping[str, str] | None = None
) -> tuple[Term, ...]:
    """Compile one table; each of ``placeholders`` is replaced in its patterns."""
    terms = []
    for key, patterns in raw.items():
        compiled = []
        for p in patterns:
            expanded = None
            if placeholders:
                expanded = p.pattern
                for placeholder, alternation in placeholders.items():
                    expanded = expanded.replace(placeholder, alternation)
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
    "safety_therapies": (_is_names, "a list of therapy names"),
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
    expanded = ("oncology_context", "remission")
    terms = {t: _compile_terms(tables[t], t) for t in LIST_TABLES if t not in expanded}
    # Any cancer or cancer product, as one alternation, for the context patterns.
    named = [p for term in (*terms["oncology"], *terms["oncology_products"]) for p in term.patterns]
    terms["oncology_context"] = _compile_terms(
        tables["oncology_context"], "oncology_context", {CANCER_PLACEHOLDER: _either(named)}
    )
    # Any specific disease (not a broad bucket), for the remission patterns.
    broad = set(scoring["broad_terms"])
    diseases = [p for term in terms["diseases"] if term.name not in broad for p in term.patterns]
    terms["remission"] = _compile_terms(
        tables["remission"], "remission", {DISEASE_PLACEHOLDER: _either(diseases)}
    )
    therapies = {term.name for term in terms["therapies"]}
    if unknown := sorted(set(scoring["safety_therapies"]) - therapies):
        raise _error(sources[-1], f"[scoring] safety_therapies names {', '.join(unknown)}",
                     f"Name therapies of [therapies]: {', '.join(sorted(therapies))}.")  # fmt: skip
    return Lexicon(
        diseases=terms["diseases"],
        therapies=terms["therapies"],
        other_treatments=terms["other_treatments"],
        targets=terms["targets"],
        oncology=terms["oncology"],
        oncology_products=terms["oncology_products"],
        oncology_context=terms["oncology_context"],
        evidence=terms["evidence"],
        safety=terms["safety"],
        remission=terms["remission"],
        weights={k: float(scoring[k]) for k in NUMBER_SETTINGS},
        broad_terms=frozenset(scoring["broad_terms"]),
        fallback_therapy=str(scoring["fallback_therapy"]),
        safety_therapies=frozenset(scoring["safety_therapies"]),
        sources=sources,
        index=_index(terms),
    )


def _either(patterns: list[re.Pattern[str]]) -> str:
    """One alternation of compiled patterns' sources, for a placeholder."""
    return "(?:" + "|".join(p.pattern for p in patterns) + ")"


def _index(terms: Mapping[str, tuple[Term, ...]]) -> Index:
    """All patterns, table by table and term by term, in lexicon order."""
    ordered = [term for table in LIST_TABLES for term in terms[table]]
    tables: dict[str, range] = {}
    first = 0
    for table in LIST_TABLES:
        count = sum(len(term.patterns) for term in terms[table])
        tables[table] = range(first, first + count)
        first += count
    return Index(
        patterns=PatternSet(p for term in ordered for p in term.patterns),
        tables=tables,
        terms=tuple(number for number, term in enumerate(ordered) for _ in term.patterns),
        names=tuple(term.name for term in ordered for _ in term.patterns),
    )
