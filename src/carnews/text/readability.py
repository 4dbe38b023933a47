"""Sentences and reading grades, computed offline.

Flesch-Kincaid and SMOG need sentences, words and syllables. textstat ≥ 0.7.9
downloads NLTK data on first use and fails offline, and pysbd compiled regexes on
every call, so both are done here by rule: a sentence splitter that knows the
abbreviations of medical writing, and a syllable counter for English words.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata

__all__ = ["fk_grade", "smog_grade", "split_sentences", "syllables"]

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


def _is_sentence_end(flat: str, end: re.Match[str]) -> bool:
    if end.end() < len(flat) and not _STARTS_SENTENCE.match(flat, end.end()):
        return False  # "vs. placebo", "et al. in 2023": the next word is not a sentence start
    if end.group(0)[0] != ".":
        return True
    # The word before the stop, found by walking back: a regex search for it would
    # rescan the text from its start at every full stop.
    begin = stop = end.start()
    while begin > 0 and not flat[begin - 1].isspace():
        begin -= 1
    token = flat[begin:stop].lower().lstrip("([\"'")
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
