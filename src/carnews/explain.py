"""Explain stage: plain-language summary, glossary and reading grade.

A pure, offline core: text in, :class:`Explanation` out. No network, no model
downloads, no clock. The summary is *extractive*: every sentence is copied
verbatim from the source, so every number a patient reads is one the source
printed. An editor rewrites it later if needed; this stage never paraphrases.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from carnews.errors import ConfigError
from carnews.textmatch import matches, search

__all__ = [
    "Explanation", "GlossaryTerm", "explain", "explain_summary", "fk_grade", "load_glossary",
    "smog_grade", "split_sentences", "summarise", "syllables", "what_it_means",
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


# --------------------------------------------------------------------------- sentences


# Words that end in a full stop without ending a sentence. A rule-based splitter
# replaced pysbd here: pysbd compiled regexes per call and cost milliseconds per
# abstract, which alone kept curation under its 500 entries/s target.
_NOT_ENDINGS = frozenset(
    {
        "e.g",
        "i.e",
        "al",
        "vs",
        "v",
        "fig",
        "figs",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "approx",
        "ca",
        "cf",
        "no",
        "nos",
        "st",
        "ref",
        "refs",
        "inc",
        "ltd",
        "co",
        "corp",
        "vol",
        "pp",
        "ed",
        "eds",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "e.u",
        "etc",
        "resp",
        "incl",
        "dept",
        "univ",
    }
)
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_STARTS_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018(\[]?[A-Z0-9]")
_LAST_WORD = re.compile(r"(\S+)$")


def _is_sentence_end(flat: str, end: re.Match[str]) -> bool:
    if end.end() < len(flat) and not _STARTS_SENTENCE.match(flat, end.end()):
        return False  # "vs. placebo", "et al. in 2023": the next word is not a sentence start
    if end.group(0)[0] != ".":
        return True
    word = _LAST_WORD.search(flat, 0, end.start())
    token = word.group(1).lower().lstrip("([\"'") if word else ""
    return not (token in _NOT_ENDINGS or (len(token) == 1 and token.isalpha()))


def _segments(flat: str) -> list[str]:
    """Sentences of unwrapped text: at . ! ? before a capital or digit, and at blank lines."""
    pieces: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*\S)", flat):
        start = 0
        for end in _END.finditer(block):
            if _is_sentence_end(block, end):
                pieces.append(block[start : end.end()])
                start = end.end()
        pieces.append(block[start:])
    return pieces


_ALNUM = re.compile(r"[^\W_]")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, each an exact substring of it, minus tiny fragments."""
    return list(_split_cached(text))


@functools.lru_cache(maxsize=2048)
def _split_cached(text: str) -> tuple[str, ...]:
    # One story's summary is split for the summary, both reading grades and the
    # jargon check: split each text once.
    flat = _unwrap(text)
    sentences: list[str] = []
    cursor = 0
    for piece in _segments(flat):
        core = str(piece).strip()
        start = flat.find(core, cursor)
        if not core or start < 0:
            continue
        cursor = start + len(core)
        # Slice the original, not the unwrapped copy, so line breaks stay verbatim.
        sentence = text[start:cursor]
        if len(_ALNUM.findall(sentence)) >= 3:
            sentences.append(sentence)
    return tuple(sentences)


def _unwrap(text: str) -> str:
    """Same-length copy with hard-wrapped line breaks turned into spaces.

    A newline ends a sentence, which would cut hard-wrapped abstracts
    mid-sentence. A break after a long line that does not end in punctuation,
    followed by more text, is a wrap; blank lines and short heading lines are kept.
    """
    chars = list(text)
    lines = text.split("\n")
    offset = 0
    for line, following in itertools.pairwise(lines):
        offset += len(line)
        stripped = line.rstrip()
        if len(stripped.strip()) >= 40 and stripped[-1] not in ".!?:" and following.strip():
            chars[offset] = " "
            if line.endswith("\r"):
                chars[offset - 1] = " "
        offset += 1
    return "".join(chars)


# --------------------------------------------------------------------------- summary

# Section labels of structured abstracts; the label is dropped, the rest stays verbatim,
# and the section is remembered for the sentences that follow it.
_LABEL = re.compile(
    r"^(background|introduction|importance|objectives?|aims?|purpose|methods?|design|setting"
    r"|patients and methods|results?|findings|conclusions?(?: and relevance)?|interpretation"
    r"|discussion|significance|summary)(?:\s*[:.\u2013\u2014]\s*|\s*\n\s*|\s*$)",
    re.IGNORECASE,
)
_CAPS_LABEL = re.compile(r"^(BACKGROUND|METHODS|RESULTS|FINDINGS|CONCLUSIONS?)\s+")
_BOILERPLATE = re.compile(
    r"©|\bcopyright\b|\ball rights reserved\b|\bPMID\s*:|\bPMCID\s*:|\bDOI\s*:|doi\.org/"
    r"|\blicen[cs]ed under\b|\bcreative commons\b|\bkeywords?\s*:|^\s*funding\b|\bfunded by\b"
    r"|\bconflicts? of interest\b|\bcompeting interests?\b|\btrial registration\b"
    r"|\bclinicaltrials\.gov number\b|\bclick here\b|\bread more\b|\bsubscribe\b"
    r"|https?://|www\.|;\s*\d+\s*\(\d+\)\s*:\s*\d+",  # the last: "2022;28(10):2124", a citation
    re.IGNORECASE,
)
_NAME = re.compile(r"^[A-ZÀ-Þ][\w'’.-]*(?: [A-ZÀ-Þ][\w'’.-]*){0,3}$")
_CUES = re.compile(
    r"\b(?:results?|found|show(?:s|ed|n)?|demonstrat\w*|achiev\w*|remission\w*|respon\w*"
    r"|improv\w*|conclu\w*|suggest\w*|indicat\w*|safe\w*|tolerat\w*|effective\w*|efficacy"
    r"|reduc\w*|decreas\w*|lower\w*|fell|resolv\w*|normali[sz]\w*|maintain\w*|sustain\w*"
    r"|stopp?ed|relaps\w*|side effects?|adverse|no longer"
    r"|cytokine release|crs|icans|toxicit\w*|infections?)\b",
    re.IGNORECASE,
)
_BACKGROUND = re.compile(
    r"\b(?:is an?|remains? an?|unmet need|little is known|aim(?:ed|s)? (?:to|of)|objective"
    r"|we (?:sought|hypothesi[sz]ed)|is characteri[sz]ed)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Words too common to tell whether a sentence is about the title's subject.
_STOPWORDS = {
    "the", "and", "for", "with", "from", "into", "onto", "that", "this", "these", "those",
    "are", "was", "were", "has", "have", "had", "its", "their", "after", "before", "about",
    "over", "under", "new", "study", "trial", "patients", "patient", "people",
}  # fmt: skip


def summarise(title: str, text: str, *, max_sentences: int = 4) -> str:
    """The ``max_sentences`` best sentences of ``text``, verbatim and in source order."""
    candidates = _candidates(text)
    if not candidates:
        return ""
    title_words = _content_words(title)
    last = len(candidates) - 1
    ranked = sorted(
        range(len(candidates)),
        key=lambda i: (-_score(candidates[i], i, last, title_words), i),
    )
    keep = sorted(ranked[: max(1, max_sentences)])
    return " ".join(candidates[i][1] for i in keep)


def _candidates(text: str) -> list[tuple[str, str]]:
    """(section, sentence) for every sentence worth ranking, in source order."""
    found: list[tuple[str, str]] = []
    section = ""
    for sentence in split_sentences(text):
        label = _LABEL.match(sentence) or _CAPS_LABEL.match(sentence)
        if label:
            section, sentence = label.group(1).lower(), sentence[label.end() :]
        # The guard that keeps the summary honest: only exact source text survives.
        if sentence in text and len(_WORD.findall(sentence)) >= 5 and not _is_boilerplate(sentence):
            found.append((section, sentence))
    return found


def _is_boilerplate(sentence: str) -> bool:
    if _BOILERPLATE.search(sentence):
        return True
    # Author lists ("Mackensen A, Müller F, ...") are mostly short capitalised chunks.
    chunks = [c.strip() for c in re.split(r"[,;]", sentence.rstrip(". ")) if c.strip()]
    names = sum(1 for c in chunks if _NAME.match(c))
    return len(chunks) >= 3 and names >= 0.7 * len(chunks)


def _content_words(text: str) -> set[str]:
    words = {w.lower() for w in _WORD.findall(text)}
    return {w for w in words if len(w) >= 3 and w not in _STOPWORDS}


def _score(candidate: tuple[str, str], index: int, last: int, title: set[str]) -> float:
    """Higher is more summary-worthy. Weights favour what a patient asks: what happened?"""
    label, sentence = candidate
    score = min(3.0, 0.75 * len({m.lower() for m in _CUES.findall(sentence)}))
    score += min(2.0, 0.5 * len(_NUMBER.findall(sentence)))
    if title:
        score += 3.0 * len(title & _content_words(sentence)) / len(title)
    if label.startswith(("result", "finding", "conclu", "interpret")):
        score += 2.0
    elif label.startswith(("background", "intro", "importance", "objective", "aim")):
        score -= 1.0
    if _BACKGROUND.search(sentence):
        score -= 1.0
    if not label and index == 0:
        score += 1.0  # unlabelled text (news) leads with its point...
    elif not label and index == last >= 3:
        score += 0.5  # ...and an unstructured abstract ends with its conclusion
    if len(_WORD.findall(sentence)) > 50:
        score -= 1.5  # very long sentences are hard to read
    return score


# --------------------------------------------------------------------------- framing

# Evidence level -> (how a known patient count is worded, the line it goes into).
# Each line says what kind of evidence it is and what it does *not* show yet.
# fmt: off
_FRAMES: dict[str, tuple[str, str]] = {
    "lab study": (" using samples from {n}",
                  "A laboratory study{count}; it has not yet been tested in people."),
    "case report": (" of {n}", "A report on the treatment{count}; a report like this cannot"
                    " show how well it works for others."),
    "case series": (" {n}", "A report on{count} treated the same way, with no comparison"
                    " group; the results are encouraging but early."),
    "phase 1": (" in {n}", "An early safety study{count}; this treatment is not yet available"
                " outside clinical trials."),
    "phase 1/2": (" in {n}", "An early study of safety and first signs of benefit{count};"
                  " this treatment is not yet available outside clinical trials."),
    "phase 2": (" in {n}", "A mid-stage study of how well the treatment works{count}; it is"
                " not yet approved for this use."),
    "phase 3": (" in {n}", "A large study comparing the treatment with usual care{count};"
                " this is often the last step before approval."),
    "review": (" covering {n}", "A review of earlier studies{count}; it sums up what is known"
               " rather than adding new results."),
    "regulatory": (" about a treatment tested in {n}", "News from a medicines"
                   " regulator{count}; ask your care team what it means for you."),
    "trial registration": (" that plans to enrol {n}", "A newly registered clinical"
                           " trial{count}; it has not reported any results yet."),
    "conference abstract": (" on {n}", "A short report from a medical meeting{count}; it has"
                            " not yet been fully checked by other scientists."),
    "patient story": (" shared by {n}",
                      "A personal experience{count}; it is not a scientific study."),
    "news": (" about results in {n}",
             "A news report{count}; check the original study before drawing conclusions."),
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
    first: list[tuple[int, int, GlossaryTerm]] = []
    lowered = text.lower()
    for rank, term in enumerate(glossary):
        starts = [m.start() for p in term.patterns if (m := search(p, text, lowered))]
        if starts:
            first.append((min(starts), rank, term))
    return tuple(term for _, _, term in sorted(first, key=lambda f: (f[0], f[1])))


# Capitals that are not jargon: roman numerals, countries, abstract headings.
_NOT_JARGON = {
    "I", "A", "OK", "US", "USA", "UK", "EU", "II", "III", "IV", "VI", "VII", "VIII", "IX",
    "BACKGROUND", "METHODS", "RESULTS", "FINDINGS", "CONCLUSION", "CONCLUSIONS", "INTRODUCTION",
}  # fmt: skip
# Long words every reader knows; other words of 13 letters or more count as jargon.
_COMMON_LONG = {
    "approximately", "significantly", "international", "understanding", "relationship",
    "relationships", "responsibility", "administration", "comprehensive", "communication",
    "organisation", "organization", "participants", "participation", "researchers",
    "information", "particularly", "additionally", "consistently", "nevertheless",
}  # fmt: skip
_MEDICAL_SUFFIX = re.compile(
    r"(?:itis|osis|a?emia|opathy|ectomy|ocytes?|uria|penia|plasia|genic|ology|otoxicity)$"
)


def _unexplained(summary: str, glossary: tuple[GlossaryTerm, ...]) -> tuple[str, ...]:
    """Jargon-looking words in ``summary`` that no glossary pattern covers, once each."""
    covered = [False] * len(summary)
    lowered = summary.lower()
    for match in matches((p for t in glossary for p in t.patterns), summary, lowered):
        covered[match.start() : match.end()] = [True] * (match.end() - match.start())
    found: dict[str, str] = {}
    for token in re.finditer(r"[^\W_]+(?:-[^\W_]+)*", summary):
        marks = covered[token.start() : token.end()]
        # "anti-CD19" is covered by CD19; in "MG-ADL" only MG is, so ADL is judged alone.
        parts = re.compile(r"[^\W_]+").finditer(summary, token.start(), token.end())
        for part in parts if any(marks) else [token]:
            word = part.group(0)
            if not any(covered[part.start() : part.end()]) and _looks_like_jargon(word):
                found.setdefault(word.casefold(), word)
    return tuple(found.values())


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


# --------------------------------------------------------------------------- readability

_RUNS = re.compile(r"[^\W\d_]+|\d+")
_VOWELS = "aeiou"
# Vowel pairs that are usually two syllables; the lookbehinds skip -tion, -cial, -gious.
_SPLITS = re.compile(
    r"(?<![ctsgx])ia|(?<![ctsgxln])io|(?<![gq])ua|iu|(?<!g)eo(?![pu])|ea$|(?<!t)ience|ism$"
    r"|(?<=[^aeiou])ier|(?<=[^aeiou])iest|(?<![ct])ient|iet|uou|[aeiou]ing$"
    r"|^(?:reinf|reint|react|crea|coop|coord|preex|reex|deac)"
)
_SILENT_E_SUFFIX = re.compile(r"(?<=[^aeiou]e)(?:ments?|ness|ful|less|ly|ty)$")
# Common words the rules get wrong (compounds over a silent e, -ie- and -eo- words).
_EXCEPTIONS = {
    "business": 2, "every": 2, "everyone": 3, "everything": 3, "evening": 2, "interest": 2,
    "interesting": 3, "lion": 2, "people": 2, "poem": 2, "science": 2, "scientist": 3,
    "scientists": 3, "something": 2, "sometimes": 2, "someone": 2,
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def syllables(word: str) -> int:
    """Syllables in ``word`` by rule, no dictionary download; about ±1 for English."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    plain = plain.replace("'", "")
    count = sum(_run_syllables(run) for run in _RUNS.findall(plain))
    # A word in a script the rules do not know still takes at least one beat.
    return max(count, 1) if _ALNUM.search(word) else 0


def _run_syllables(run: str) -> int:
    if run.isdigit():
        return min(len(run), 4)  # "15" ~ "fif-teen": one per digit, capped for long IDs
    if len(run) >= 2 and run.isupper() and (len(run) <= 4 or not set(run) & set("AEIOU")):
        return sum(3 if c == "W" else 1 for c in run)  # CRS, FDA: said letter by letter
    return _english(run.lower())


def _english(word: str) -> int:
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    suffix = _SILENT_E_SUFFIX.search(word)
    if suffix and suffix.start() > 2:  # state|ment, like|ly: the stem's e stays silent
        return _english(word[: suffix.start()]) + 1
    vowel = [_is_vowel(word, i) for i in range(len(word))]
    count = sum(1 for i, v in enumerate(vowel) if v and (i == 0 or not vowel[i - 1]))
    count += len(_SPLITS.findall(word))
    # A vowel y before another vowel starts a new syllable: stu-dy-ing, my-as-the-ni-a.
    count += len(re.findall(r"(?<=[^aeiouy])y(?=[aeiou])(?!e$|es$|ed$)", word))
    count -= _silent_endings(word, vowel)
    return max(1, count)


def _is_vowel(word: str, i: int) -> bool:
    ch = word[i]
    if ch in _VOWELS:
        return True
    if ch != "y":
        return False
    # y is a consonant at the start (year) and between vowels (player, beyond).
    before = word[i - 1] if i else ""
    after = word[i + 1] if i + 1 < len(word) else ""
    return i > 0 and not (before in _VOWELS and after in _VOWELS)


def _silent_endings(word: str, vowel: list[bool]) -> int:
    """1 if the word ends in a silent e, -es or -ed; else 0."""
    n = len(word)
    consonant = [not v for v in vowel]
    if n >= 3 and word.endswith("e") and consonant[-2]:
        le_syllable = word[-2] == "l" and consonant[-3]  # ta-ble, peo-ple
        return 0 if le_syllable else 1
    if n >= 4 and word.endswith("es") and consonant[-3]:
        sounded = word[-3] in "sxzcg" or word[-4:-2] in ("ch", "sh")
        return 0 if sounded or (word[-3] == "l" and consonant[-4]) else 1
    if n >= 4 and word.endswith("ed") and consonant[-3] and word[-3] not in "td":
        return 1
    return 0


def _words(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,]\d+)*|[^\W_]+(?:['’-][^\W_]+)*", text)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level; 0.0 for text without words."""
    words = _words(text)
    if not words:
        return 0.0
    sentences = max(1, len(split_sentences(text)))
    total = sum(syllables(w) for w in words)
    return 0.39 * (len(words) / sentences) + 11.8 * (total / len(words)) - 15.59


def smog_grade(text: str) -> float:
    """SMOG grade from words of three or more syllables; 0.0 for text without words."""
    words = _words(text)
    if not words:
        return 0.0
    sentences = max(1, len(split_sentences(text)))
    polysyllables = sum(1 for w in words if syllables(w) >= 3)
    return 1.0430 * math.sqrt(polysyllables * 30 / sentences) + 3.1291
