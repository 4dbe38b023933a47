"""Extractive summary: the source's own sentences, trimmed but never reworded.

Offline and cheap: a few regex passes and one reading grade per source sentence.
Each summary sentence is one source sentence with asides deleted: abbreviation
definitions and other parentheses that hold no number, citations, statistics
such as "95% CI 1.2-3.4" or "P = 0.003", section labels and openings such as
"In conclusion,". Where a semicolon or ", and" joins two clauses, each clause may
become a sentence of its own. Nothing is added but a capital letter and a full
stop where a cut needs them, so every word and number a patient reads is the
source's own, in the source's order. The cutting, and the check that every cut
traces back to one source sentence, live in :mod:`carnews.explain.trimming`; this module
chooses which sentences a patient reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carnews.explain.trimming import NUMBER, trim
from carnews.text.readability import fk_grade, split_sentences

__all__ = ["summarise"]

# --------------------------------------------------------------------------- selection

# Section labels of structured abstracts and trial records; the label is dropped and
# the section is remembered for the sentences that follow it.
_LABEL = re.compile(
    r"^(background|introduction|importance|objectives?|aims?|purpose|methods?|design|setting"
    r"|patients and methods|results?|findings|conclusions?(?: and relevance)?|interpretation"
    r"|discussion|significance|summary|brief summary|detailed description)"
    r"(?:\s*[:.\u2013\u2014]\s*|\s*\n\s*|\s*$)",
    re.IGNORECASE,
)
_CAPS_LABEL = re.compile(r"^(BACKGROUND|METHODS|RESULTS|FINDINGS|CONCLUSIONS?)\s+")
# Matched against lower-cased text: one scan, not one per alternative.
_BOILERPLATE = re.compile(
    r"©|doi\.org/|https?://|www\.|^\s*funding\b|;\s*\d+\s*\(\d+\)\s*:\s*\d+"  # "2022;28(10):2124"
    r"|\b(?:copyright\b|all rights reserved\b|pmc?id\s*:|doi\s*:|licen[cs]ed under\b"
    r"|creative commons\b|keywords?\s*:|funded by\b|conflicts? of interest\b"
    r"|competing interests?\b|trial registration\b|clinicaltrials\.gov number\b|click here\b"
    r"|read more\b|subscribe\b)"
    # A trial record's fields are labels, not sentences: "Conditions: Lupus Nephritis; ..."
    r"|^\s*(?:conditions?|interventions?|phase|overall status|study type|sponsor"
    r"|collaborators?|locations?|(?:estimated |actual )?enrol?ment)\s*:"
)
_NAME = re.compile(r"^[A-ZÀ-Þ][\w'’.-]*(?: [A-ZÀ-Þ][\w'’.-]*){0,3}$")
# Lower-case patterns, matched against lower-cased text (much faster than IGNORECASE).
_CUES = re.compile(
    r"\b(?:results?|found|show(?:s|ed|n)?|demonstrat\w*|achiev\w*|remission\w*|respon\w*"
    r"|improv\w*|conclu\w*|suggest\w*|indicat\w*|safe\w*|tolerat\w*|effective\w*|efficacy"
    r"|reduc\w*|decreas\w*|lower\w*|fell|resolv\w*|normali[sz]\w*|maintain\w*|sustain\w*"
    r"|stopp?ed|relaps\w*|side effects?|adverse|no longer"
    r"|cytokine release|crs|icans|\w*toxicit\w*|infections?)\b"
)
_BACKGROUND = re.compile(
    r"\b(?:is an?|remains? an?|unmet need|little is known|aim(?:ed|s)? (?:to|of)|objective"
    r"|we (?:sought|hypothesi[sz]ed)|is characteri[sz]ed)\b"
)
# An outcome counted in people: "in all five patients", "10 of 13 participants", "none had".
_COUNTED = re.compile(
    r"\b(?:all|none|each|every|both|\d+(?:[.,]\d+)?%?|one|two|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve)\b(?: (?:of|in) (?:the )?(?:\d+|\w+))?"
    r"(?: (?:\w+ ){0,2}(?:patients|participants|people|subjects|children|adults|mice)"
    r"(?: (?:with|on|in|receiving|treated)(?: [\w-]+){1,2})?)?"
    r"\s+(?:had|reached|achieved|were|was|remained|stopped|met|showed|responded|developed)\b"
    r"|\b(?:in|of) (?:all )?(?:\d+(?:[.,]\d+)?%?|one|two|three|four|five|six|seven|eight|nine"
    r"|ten)"
    r"(?: of \d+| \w+)? (?:patients|participants|people|subjects|children|adults)\b"
)
# What happened to them, for better (remission) or worse (side effects).
_OUTCOME = re.compile(
    r"\b(?:remission\w*|respon\w*|relaps\w*|improv\w*|stopp?ed|fell|resolv\w*|occurred"
    r"|developed|adverse|cytokine release|crs|icans|\w*toxicit\w*|infections?|died|deaths?)\b"
)
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Words too common to tell whether a sentence is about the title's subject.
_STOPWORDS = {
    "the", "and", "for", "with", "from", "into", "onto", "that", "this", "these", "those",
    "are", "was", "were", "has", "have", "had", "its", "their", "after", "before", "about",
    "over", "under", "new", "study", "trial", "patients", "patient", "people",
}  # fmt: skip


@dataclass(frozen=True)
class _Candidate:
    section: str
    text: str  # a trimmed source sentence, as the reader will see it
    lowered: str
    words: int
    grade: float


def summarise(title: str, text: str, *, max_sentences: int = 4) -> str:
    """The ``max_sentences`` best trimmed sentences of ``text``, in source order."""
    candidates = _candidates(text, title)
    if not candidates:
        return ""
    title_words = _content_words(title.lower())
    last = len(candidates) - 1
    ranked = sorted(
        range(len(candidates)),
        key=lambda i: (-_score(candidates[i], i, last, title_words), i),
    )
    keep = sorted(ranked[: max(1, max_sentences)])
    return " ".join(candidates[i].text for i in keep)


def _candidates(text: str, title: str = "") -> list[_Candidate]:
    """Every trimmed sentence worth ranking, in source order."""

    context = f"{title}\n{text}"
    found: list[_Candidate] = []
    section = ""
    for sentence in split_sentences(text):
        label = _LABEL.match(sentence) or _CAPS_LABEL.match(sentence)
        if label:
            section, sentence = label.group(1).lower(), sentence[label.end() :]
        if len(_WORD.findall(sentence)) < 5 or _is_boilerplate(sentence):
            continue
        for piece in trim(sentence, context):
            words = len(_WORD.findall(piece))
            if words >= 3:
                found.append(_Candidate(section, piece, piece.lower(), words, fk_grade(piece)))
    return found


def _is_boilerplate(sentence: str) -> bool:
    if _BOILERPLATE.search(sentence.lower()):
        return True
    # Author lists ("Mackensen A, Müller F, ...") are mostly short capitalised chunks.
    chunks = [c.strip() for c in re.split(r"[,;]", sentence.rstrip(". ")) if c.strip()]
    names = sum(1 for c in chunks if _NAME.match(c))
    return len(chunks) >= 3 and names >= 0.7 * len(chunks)


def _content_words(lowered: str) -> set[str]:
    return {w for w in _WORD.findall(lowered) if len(w) >= 3 and w not in _STOPWORDS}


# Above this grade a sentence costs points, up to a cap: among sentences that say as
# much, the plainer one wins, but a key result (remission in all patients) still beats
# a plain sentence that says little. A larger weight or no cap reads a little easier
# on the development set but starts to leave out results and safety findings.
_PLAIN_GRADE = 8.0
_PLAINNESS_WEIGHT = 0.3
_PLAINNESS_CAP = 2.5


def _score(candidate: _Candidate, index: int, last: int, title: set[str]) -> float:
    """Higher is more summary-worthy. Weights favour what a patient asks: what happened?"""
    label, sentence = candidate.section, candidate.lowered
    score = min(3.0, 0.75 * len(set(_CUES.findall(sentence))))
    score += min(2.0, 0.5 * len(NUMBER.findall(sentence)))
    if _OUTCOME.search(sentence) and _COUNTED.search(sentence):
        score += 1.5  # an outcome counted in people: what a patient asks about
    if title:
        score += 3.0 * len(title & _content_words(sentence)) / len(title)
    if label.startswith(("result", "finding", "conclu", "interpret")):
        score += 2.0
    elif label.startswith(("background", "intro", "importance", "objective", "aim")):
        score -= 1.0
    elif label.startswith(("method", "design", "setting", "patients and")):
        score -= 0.5
    if _BACKGROUND.search(sentence):
        score -= 1.0
    if not label and index == 0:
        score += 1.0  # unlabelled text (news) leads with its point...
    elif not label and index == last >= 3:
        score += 0.5  # ...and an unstructured abstract ends with its conclusion
    if candidate.words > 50:
        score -= 1.5  # very long sentences are hard to read
    return score - min(_PLAINNESS_CAP, _PLAINNESS_WEIGHT * max(0.0, candidate.grade - _PLAIN_GRADE))
