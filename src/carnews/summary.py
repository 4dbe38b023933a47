"""Extractive summary: the source's own sentences, trimmed but never reworded.

Offline and cheap: a few regex passes and one reading grade per source sentence.
Each summary sentence is one source sentence with asides deleted: abbreviation
definitions and other parentheses that hold no number, citations, statistics
such as "95% CI 1.2-3.4" or "P = 0.003", section labels and openings such as
"In conclusion,". Where a semicolon or ", and" joins two clauses, each clause may
become a sentence of its own. Nothing is added but a capital letter and a full
stop where a cut needs them, so every word and number a patient reads is the
source's own, in the source's order. :func:`trace` checks exactly that for any
summary sentence, and :func:`trim` runs it on its own output: a trimmed sentence
that cannot be traced back is replaced by the verbatim one.

A deletion never removes a negation, a limit or a comparison ("not", "no",
"only", "vs") or a number that is not a statistic, so trimming cannot turn "did
not respond" into "did respond" or drop the only place a result is stated.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from carnews.readability import fk_grade, split_sentences

__all__ = ["Trace", "summarise", "trace", "trim"]

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
NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")
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


# --------------------------------------------------------------------------- tracing


@dataclass(frozen=True)
class Trace:
    """Where a summary sentence comes from: fragments of one source sentence, in order."""

    start: int  # offset in the source text of the first fragment
    fragments: tuple[str, ...]
    dropped: tuple[str, ...]  # the source text deleted between the fragments


# A token is a word or a number with its inner punctuation: "1.5", "anti-CD19", "don't".
# A cut may fall between tokens, never inside one.
_JOINERS = frozenset(".,'’-/")
_MAX_FRAGMENTS = 12


def trace(sentence: str, text: str) -> Trace | None:
    """How ``sentence`` is made of fragments of one sentence of ``text``, or None.

    The fragments appear in ``sentence`` and in one source sentence in the same
    order, cut only between words. The only changes allowed besides deletion: the
    first letter may be capitalised after a deleted opening, and a full stop may
    end a sentence cut at a semicolon.
    """

    cursor = 0
    for source in split_sentences(text):
        offset = text.find(source, cursor)
        cursor = offset + len(source)
        spans = _match(sentence, source)
        if spans is not None:
            fragments = tuple(source[a:b] for a, b in spans)
            gaps = tuple(source[b:a] for (_, b), (a, _) in itertools.pairwise(spans))
            return Trace(offset + spans[0][0], fragments, tuple(g for g in gaps if g.strip()))
    return None


def _match(sentence: str, source: str) -> list[tuple[int, int]] | None:
    """Spans of ``source`` that ``sentence`` is made of, in order, or None."""
    if not sentence:
        return None
    if sentence.endswith("."):
        # A full stop added where a semicolon split the source sentence in two.
        spans = _spans(sentence[:-1], source)
        if spans is not None and source[spans[-1][1] :].lstrip()[:1] in (";", ","):
            return spans
    return _spans(sentence, source)


def _spans(piece: str, source: str) -> list[tuple[int, int]] | None:
    if not piece:
        return None
    spans: list[tuple[int, int]] = []
    i, j = 0, 0
    while i < len(piece):
        if len(spans) == _MAX_FRAGMENTS:
            return None
        best = _longest(piece, i, source, j)
        if best is None:
            return None
        start, length = best
        spans.append((start, start + length))
        i, j = i + length, start + length
    return spans


def _longest(piece: str, i: int, source: str, j: int) -> tuple[int, int] | None:
    """The longest word-aligned run of ``piece[i:]`` found in ``source[j:]``: (start, length)."""
    first = piece[i]
    # The opening letter may have been capitalised, but only after a deleted opening.
    firsts = {first, first.lower()} if i == 0 else {first}
    best: tuple[int, int] | None = None
    for char in firsts:
        k = source.find(char, j)
        while k >= 0:
            if not _inside(source, k) and (char == first or k > 0):
                length = _common(piece, i + 1, source, k + 1) + 1
                # Back off to a cut that splits no token in either text.
                while length > 0 and (_inside(piece, i + length) or _inside(source, k + length)):
                    length -= 1
                if length > 0 and (best is None or (length, -k) > (best[1], -best[0])):
                    best = (k, length)
                    if i + length == len(piece):
                        return best
            k = source.find(char, k + 1)
    return best


def _common(a: str, i: int, b: str, j: int) -> int:
    """Length of the common run of ``a[i:]`` and ``b[j:]``, by halving."""
    low, high = 0, min(len(a) - i, len(b) - j)
    while low < high:
        mid = (low + high + 1) // 2
        if b.startswith(a[i : i + mid], j):
            low = mid
        else:
            high = mid - 1
    return low


def _inside(text: str, p: int) -> bool:
    """Whether position ``p`` falls inside a token of ``text``, where no cut may fall."""
    if p <= 0 or p >= len(text):
        return False
    before, after = text[p - 1], text[p]
    if before.isalnum():
        return after.isalnum() or (after in _JOINERS and text[p + 1 : p + 2].isalnum())
    return before in _JOINERS and after.isalnum() and text[p - 2 : p - 1].isalnum()


# --------------------------------------------------------------------------- trimming

# Words whose deletion could change what a sentence says: negations, limits, comparisons.
_KEEP = re.compile(
    r"\b(?:not|no|non|none|never|neither|nor|without|cannot|unable|fail\w*|absent|lack\w*"
    r"|only|except|but|although|however|unlike|vs|versus|compared|than|placebo|control\w*"
    r"|worse|fewer|less|more|increas\w*|decreas\w*)\b|n't\b",
    re.IGNORECASE,
)
# An aside holding a statistic rather than a result: "(95% CI 1.2-3.4)", "(P = 0.003)".
_STATISTIC = re.compile(
    r"^\s*(?:95\s*%\s*(?:CI|confidence interval)|CI\b|[Pp]\s*[=<>≤]|[nN]\s*=|range\b|IQR\b"
    r"|interquartile|SD\b|SE\b|SEM\b|(?:HR|OR|RR)\b|(?:hazard|odds|risk) ratio\b)",
)
# The same, set off by a comma or semicolon outside parentheses.
_LOOSE_STATISTIC = re.compile(
    r"[,;]\s*(?:95\s*%\s*(?:CI|confidence interval)|[Pp]\s*[=<>≤]\s*0?\.\d)[^,;()]*?"
    r"(?=[,;)]|\.?\s*$)"
)
_ASIDE = re.compile(r"\s*\(([^()]*)\)(?=[\s,.;:]|$)")
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
# Openings that only signal where the writer is: "In conclusion, ", "To the Editor:".
_DISCOURSE = re.compile(
    r"^(?:(?:in (?:conclusion|summary|addition)|taken together|collectively|notably"
    r"|importantly|interestingly|furthermore|moreover|additionally),\s*"
    r"|to the editor:\s*|here,?\s+(?=we\b))",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# Where two clauses may be joined: "; " and ", and " ("and" goes with the cut). Not
# ", but": what follows it qualifies what precedes it, so the two stay together.
_JOINT = re.compile(r";\s+|,\s+and\s+")
# Words that open a phrase, not a clause with its own subject.
_NOT_SUBJECTS = {
    "in", "at", "on", "by", "for", "with", "without", "from", "to", "of", "after", "before",
    "during", "then", "also", "so", "thus", "not", "that", "which", "who", "whose", "whom",
    "whether", "if", "when", "where", "while", "as", "than", "including", "such", "what",
    "how", "why",
}  # fmt: skip
_WORDS = re.compile(r"[^\W_]+")
# A clause has a verb; these catch most of them in abstracts and news.
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|had|has|have|did|does|do|will|would|can|could|may|might"
    r"|must|should|remain(?:s|ed)?|became|fell|rose|died|grew|began|led|made|saw|took"
    r"|need(?:s|ed)?|show(?:s|ed|n)?|[a-z]{3,}ed|said|says|told|plans|expects|includes"
    r"|suggests|assess(?:es)?|receives?|offers?)\b",
    re.IGNORECASE,
)


def trim(sentence: str, context: str = "") -> tuple[str, ...]:
    """``sentence`` with its asides deleted; split in two where it joins two clauses.

    ``context`` is the rest of the story (title and text): an abbreviation defined in
    ``sentence`` and used there again keeps its definition. Each result traces back
    to ``sentence`` (:func:`trace`) and holds only numbers it holds; if a cut would
    break that, the sentence comes back whole.
    """
    cut = _delete(sentence, _deletions(sentence, context))
    pieces = [_capitalise(p) for p in _split_clauses(cut)] if cut else []
    known = set(_numbers(sentence))
    if pieces == [sentence]:
        return (sentence,)
    for piece in pieces:
        if _match(piece, sentence) is None or not set(_numbers(piece)) <= known:
            return (sentence,)
    return tuple(pieces) or (sentence,)


def _deletions(sentence: str, context: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if opening := _DISCOURSE.match(sentence):
        spans.append(opening.span())
    spans += [m.span() for m in _CITATION.finditer(sentence)]
    for aside in _ASIDE.finditer(sentence):
        if _droppable(aside.group(1)) and not _used_again(aside.group(1), sentence, context):
            spans.append(aside.span())
    spans += [m.span() for m in _LOOSE_STATISTIC.finditer(sentence)]
    # Never delete a negation, a limit or a comparison.
    return [(a, b) for a, b in spans if not _KEEP.search(sentence, a, b)]


def _droppable(aside: str) -> bool:
    """An aside that adds no result: a statistic, or words without numbers."""
    if _STATISTIC.match(aside):
        return True
    return not _DIGIT.search(aside) and len(_WORDS.findall(aside)) <= 15


def _used_again(aside: str, sentence: str, context: str) -> bool:
    """Whether a one-word aside ("(SLE)", "(rese-cel)") is used outside its definition."""
    word = aside.strip()
    if not word or any(c.isspace() for c in word):
        return False
    pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
    return len(pattern.findall(context)) > len(pattern.findall(sentence))


def _delete(sentence: str, spans: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        if start >= cursor:
            kept.append(sentence[cursor:start])
            cursor = end
        else:
            cursor = max(cursor, end)
    kept.append(sentence[cursor:])
    return "".join(kept).strip()


def _split_clauses(sentence: str) -> list[str]:
    """Split where a semicolon or ", and" joins two clauses that each have a verb.

    A ", and" is left alone when either side holds another comma: it then most often
    ends a list ("A fell, B rose, and C improved") or a compound subject. Questions
    stay whole.
    """
    if sentence.rstrip().endswith(("?", "!")):
        return [sentence]
    pieces: list[str] = []
    start = 0
    for joint in _JOINT.finditer(sentence):
        left = sentence[start : joint.start()]
        following = _JOINT.search(sentence, joint.end())
        right = sentence[joint.end() : following.start() if following else len(sentence)]
        if _depth(sentence, joint.start()) or not (_is_clause(left) and _is_clause(right)):
            continue
        if joint.group(0).startswith(",") and (
            "," in left or "," in right or not _has_subject(right)
        ):
            continue
        pieces.append(left.strip() + ".")
        start = joint.end()
    return [*pieces, sentence[start:].strip()]


def _depth(sentence: str, index: int) -> int:
    """How many brackets are open at ``index``."""
    text = sentence[:index]
    return text.count("(") + text.count("[") - text.count(")") - text.count("]")


def _is_clause(part: str) -> bool:
    return len(_WORDS.findall(part)) >= 3 and bool(_VERB.search(part))


def _has_subject(part: str) -> bool:
    """A clause after ", and" starts with its own subject, not a second verb of the first."""
    first = _WORDS.search(part)
    word = first.group(0).lower() if first else ""
    return bool(word) and not _VERB.fullmatch(word) and word not in _NOT_SUBJECTS


def _capitalise(piece: str) -> str:
    return piece[0].upper() + piece[1:] if piece[:1].islower() else piece


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(text)
