"""Trimming a source sentence, and tracing a trimmed sentence back to its source.

:func:`trim` deletes asides (abbreviation definitions and other parentheses that
hold no number, citations, statistics such as "95% CI 1.2-3.4" or "P = 0.003",
openings such as "In conclusion,") and splits a sentence where a semicolon or
", and" joins two clauses. Nothing is added but a capital letter and a full stop
where a cut needs them. A deletion never removes a negation, a limit or a
comparison ("not", "no", "only", "vs") or a number that is not a statistic.

:func:`trace` checks that a sentence is ordered fragments of one source sentence,
cut only between words; ``trim`` runs it on its own output, and the tests on
every summary.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from carnews.text.readability import split_sentences

__all__ = ["NUMBER", "Trace", "trace", "trim"]

# A number as summaries and their checks see it: "12", "1.5", "40%".
NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")

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
