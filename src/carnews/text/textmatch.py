"""Fast pattern matching for the lexicon and the glossary.

Most of the hundreds of editor-written patterns do not occur in any one text, yet
running each of them costs a regex scan, and a slow one: the patterns are
case-insensitive and the lexicon's start with a look-behind, so the regex engine
cannot skip ahead and tries the whole pattern at every position. Instead, each
pattern is read once (with the regex module's own parser) for:

* ``anchors``: the strings every match *starts* with ("cd19", "cd-19", "cd 19" for
  "CD[\\s-]?19"). The pattern is tried only where one occurs, which finds, match
  for match, what ``finditer`` finds.
* ``contained``: for a pattern without anchors, strings one of which every match
  contains; a text without them is not scanned.

``PatternSet`` does this for many patterns at once, finding the anchors that start a
word with one regex pass. Whatever the shortcuts, the matches are exactly
``pattern.finditer(text)``'s: a shortcut may only skip a pattern that cannot match.
(An earlier shortcut, "a literal the pattern starts with must be in the text",
broke that for patterns with an optional start, such as "(?:multiple )?myeloma".)
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any

# The regex parser is private (``re._parser``). It is used only on the Python versions it
# was checked on; elsewhere, or if it ever changes shape, ``anchors`` and ``contained``
# find nothing and patterns are scanned in full (slower, never wrong).
PARSER_CHECKED_ON = ((3, 11), (3, 12), (3, 13), (3, 14))


def load_parser(version: tuple[int, int]) -> ModuleType | None:
    """``re._parser`` on a Python version it was checked on; None elsewhere."""
    if version not in PARSER_CHECKED_ON:
        return None
    try:
        return importlib.import_module("re._parser")
    except ImportError:
        return None


_parser: Any = load_parser(sys.version_info[:2])

# --- anchors ---------------------------------------------------------------------------
#
# An anchor is a string every match starts with, as it appears in the folded text:
# ``text.lower()`` with every whitespace character made a space, position for
# position. A pattern character that is ASCII only matches text characters whose
# folded form equals its own, except three that case-insensitive matching equates
# with ASCII letters without lower-casing to them: "ı", "ſ", and "İ" (two characters
# when lower-cased). Texts holding them are scanned in full.
#
# Where an anchor says the match starts:
ANYWHERE = 0  # where the anchor occurs
WORD_START = 1  # ...and only where a word starts there ("(?<!\w)" or "\b" before it)
WORD_BEFORE = 2  # at the start of the word it occurs in ("(?<!\w)\w*myositis")
_GUARDED = 3  # while walking, before the first letter: "(?<!\w)" holds here
_BOUNDARY = 4  # ...or "\b" does

Anchor = tuple[str, int]  # (folded string, where the match starts)
_State = tuple[str, bool, int]  # anchor so far, whether it still grows, where it starts

_LONGEST = 16  # anchors stop growing here: longer ones barely narrow the candidates
_MOST_STATES = 256  # ...and when a pattern's alternatives multiply beyond this
_MOST_CLASS = 8  # a character class of more (folded) characters ends an anchor
if _parser is not None:
    _WORD_CATEGORIES = frozenset({_parser.CATEGORY_WORD, _parser.CATEGORY_DIGIT})
    _REPEATS = frozenset({_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT})
    _ZERO_WIDTH = frozenset({_parser.AT, _parser.ASSERT, _parser.ASSERT_NOT})
    _WORD_GUARD = [(_parser.IN, [(_parser.CATEGORY, _parser.CATEGORY_WORD)])]
_NOT_FOLDABLE = ("ı", "ſ")  # "İ" changes the length of lower(), which is checked apart
_OTHER_SPACE = re.compile(r"[^\S ]")


@functools.lru_cache(maxsize=8192)
def anchors(pattern: re.Pattern[str]) -> tuple[Anchor, ...]:
    """Where every match of ``pattern`` starts; () when that is not known."""
    if _parser is None or pattern.flags & re.ASCII:
        return ()  # no parser: scan in full; re.ASCII: "\w" is not what str.isalnum() says
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
        states = _walk(tree, {("", True, ANYWHERE)})
    except Exception:  # see the import of _parser: the plain scan is always right
        return ()
    found = {(text, kind) for text, _, kind in states}
    # One letter (or none: a pattern that may start anywhere) narrows nothing down.
    if not found or any(len(text) < 2 or kind > WORD_BEFORE for text, kind in found):
        return ()
    # Where "cd" is looked up, "cd19" need not be.
    return tuple(sorted(a for a in found if not any(_covers(b, a) for b in found)))


def _covers(wider: Anchor, narrower: Anchor) -> bool:
    (short, kind), (long, long_kind) = wider, narrower
    same = kind == long_kind or (kind == ANYWHERE and long_kind == WORD_START)
    return same and short != long and long.startswith(short)


def _walk(items: Iterable[tuple[Any, Any]], states: set[_State]) -> set[_State]:
    for op, av in items:
        if not any(growing for _, growing, _ in states):
            break
        states = _step(op, av, states)
    return states


def _step(op: Any, av: Any, states: set[_State]) -> set[_State]:
    if op is _parser.LITERAL:
        return _extend(states, _fold_chars([chr(av)]))
    if op is _parser.IN:
        return _extend(states, _class_chars(av))
    if op is _parser.BRANCH:
        return _capped(states, set().union(*(_walk(branch, states) for branch in av[1])))
    if op is _parser.SUBPATTERN:
        return _walk(av[-1], states)
    if op is _parser.ATOMIC_GROUP:
        return _walk(av, states)
    if op in _REPEATS:
        return _repeat(av, states)
    if op is _parser.ASSERT_NOT and av[0] == -1 and list(av[1]) == _WORD_GUARD:
        return _at_start(states, _GUARDED)
    if op is _parser.AT and av is _parser.AT_BOUNDARY:
        return _at_start(states, _BOUNDARY)
    if op in _ZERO_WIDTH:
        return states
    return _close(states)  # any character, a negated class, a back-reference…


def _at_start(states: set[_State], kind: int) -> set[_State]:
    """Note a word-boundary check made before the match's first letter."""
    return {
        (text, growing, kind if (not text and growing and was == ANYWHERE) else was)
        for text, growing, was in states
    }


def _repeat(av: Any, states: set[_State]) -> set[_State]:
    low, high, item = av
    result: set[_State] = set()
    rest = states
    if high != 1 and _is_word_run(item):
        # A run of letters right after "(?<!\w)" starts where its word starts. (An
        # optional letter, as in "[cj]?SLE", is better followed letter by letter.)
        guarded = {state for state in states if state[2] == _GUARDED}
        result |= {("", True, WORD_BEFORE) for _ in guarded}
        rest = states - guarded
    once = _walk(item, rest)
    result |= once if high == 1 else _close(once)
    if low == 0:
        result |= rest
    return _capped(states, result)


def _extend(states: set[_State], chars: set[str] | None) -> set[_State]:
    if chars is None:
        return _close(states)
    grown: set[_State] = set()
    for text, growing, kind in states:
        if not growing:
            grown.add((text, growing, kind))
            continue
        for char in chars:
            longer = text + char
            where = kind
            if kind in (_GUARDED, _BOUNDARY):
                where = WORD_START if _is_word_char(char) else ANYWHERE
            grown.add((longer, len(longer) < _LONGEST, where))
    return _capped(states, grown)


def _capped(before: set[_State], after: set[_State]) -> set[_State]:
    return after if len(after) <= _MOST_STATES else _close(before)


def _close(states: set[_State]) -> set[_State]:
    return {(text, False, kind) for text, _, kind in states}


def _fold_chars(chars: Iterable[str]) -> set[str] | None:
    """The folded forms of pattern characters; None if one might match a non-ASCII one."""
    folded = set()
    for char in chars:
        if not char.isascii():
            return None
        folded.add(" " if char.isspace() else char.lower())
    return folded if len(folded) <= _MOST_CLASS else None


def _class_chars(members: Any) -> set[str] | None:
    chars: list[str] = []
    for op, av in members:
        if op is _parser.LITERAL:
            chars.append(chr(av))
        elif op is _parser.RANGE and av[1] - av[0] < _MOST_CLASS:
            chars.extend(map(chr, range(av[0], av[1] + 1)))
        elif op is _parser.CATEGORY and av is _parser.CATEGORY_SPACE:
            chars.append(" ")  # the folded text has a space for every kind of space
        else:
            return None
    return _fold_chars(chars)


def _is_word_run(item: Any) -> bool:
    """Whether a repeated item only ever matches word characters ("\\w", "[a-z]")."""
    if len(item) != 1:
        return False
    op, av = item[0]
    if op is _parser.LITERAL:
        return _is_word_char(chr(av))
    return op is _parser.IN and all(_is_word_member(member, value) for member, value in av)


def _is_word_member(op: Any, av: Any) -> bool:
    if op is _parser.LITERAL:
        return _is_word_char(chr(av))
    if op is _parser.CATEGORY:
        return av in _WORD_CATEGORIES
    if op is _parser.RANGE and av[1] - av[0] < 256:
        return all(_is_word_char(chr(c)) for c in range(av[0], av[1] + 1))
    return False


def _is_word_char(char: str) -> bool:
    # Exactly what "\w" matches in a str pattern: Unicode letters and digits, and "_".
    return char.isalnum() or char == "_"


# --- what every match contains ---------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def contained(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Folded strings one of which every match of ``pattern`` contains; () if unsure.

    For patterns without anchors ("[\\w-]+\\s*[x×]\\s*CD3" contains "cd3"): a text
    without any of them is not scanned.
    """
    if _parser is None or pattern.flags & re.ASCII:
        return ()
    try:
        found = _contained(_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # see the import of _parser
        return ()
    return tuple(sorted(found)) if found else ()


def _contained(items: Any) -> set[str] | None:
    options: list[set[str]] = []
    run: set[str] = {""}
    for op, av in [*items, (None, None)]:
        chars = None
        if op is _parser.LITERAL:
            chars = _fold_chars([chr(av)])
        elif op is _parser.IN:
            chars = _class_chars(av)
        if chars is not None and len(run) * len(chars) <= _MOST_STATES:
            run = {text + char for text in run for char in chars}
            continue
        if op in _ZERO_WIDTH:
            continue  # takes no letters: the run goes on
        if "" not in run:
            options.append(run)
        run = {""}
        if op is _parser.SUBPATTERN:
            options.append(_contained(av[-1]) or set())
        elif op is _parser.BRANCH:
            branches = [_contained(branch) for branch in av[1]]
            if all(branches):
                options.append(set().union(*(b for b in branches if b)))
        elif op in _REPEATS and av[0] >= 1:
            options.append(_contained(av[2]) or set())
    usable = [option for option in options if option and min(map(len, option)) >= 2]
    return max(usable, key=lambda o: (min(map(len, o)), -len(o)), default=None)


# --- matching --------------------------------------------------------------------------


def _fold(text: str, lowered: str) -> str | None:
    """``lowered`` with every space a " ", or None if it does not line up with ``text``."""
    if len(lowered) != len(text):
        return None
    if not text.isascii() and any(char in lowered for char in _NOT_FOLDABLE):
        return None
    return _OTHER_SPACE.sub(" ", lowered) if _OTHER_SPACE.search(lowered) else lowered


def _word_start(text: str, at: int) -> int:
    while at and _is_word_char(text[at - 1]):
        at -= 1
    return at


def _matches_from(
    pattern: re.Pattern[str], text: str, positions: Iterable[int]
) -> list[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields, given (in order) every position where a
    match may start: ``finditer`` takes the first position where one does, then goes on
    from its end, and so does this."""
    found: list[re.Match[str]] = []
    end = 0
    for at in positions:
        if at < end:
            continue
        match = pattern.match(text, at)
        if match is not None:
            if match.end() == at:  # anchors are never empty, but be safe
                return list(pattern.finditer(text))
            found.append(match)
            end = match.end()
    return found


def _positions(pattern: re.Pattern[str], text: str, folded: str) -> list[int] | None:
    """Where a match of ``pattern`` may start, in order; None when it must be scanned."""
    found = anchors(pattern)
    if not found:
        needed = contained(pattern)
        return [] if needed and not any(s in folded for s in needed) else None
    positions: set[int] = set()
    for literal, where in found:
        at = folded.find(literal)
        while at >= 0:
            positions.add(_word_start(text, at) if where == WORD_BEFORE else at)
            at = folded.find(literal, at + 1)
    return sorted(positions)


def search(pattern: re.Pattern[str], text: str, lowered: str) -> re.Match[str] | None:
    """``pattern.search(text)``; ``lowered`` is ``text.lower()``."""
    folded = _fold(text, lowered)
    positions = None if folded is None else _positions(pattern, text, folded)
    if positions is None:
        return pattern.search(text)
    return next((m for at in positions if (m := pattern.match(text, at))), None)


def matches(
    patterns: Iterable[re.Pattern[str]], text: str, lowered: str
) -> Iterator[re.Match[str]]:
    """Each pattern's ``finditer(text)`` in turn; ``lowered`` is ``text.lower()``."""
    folded = _fold(text, lowered)
    for pattern in patterns:
        positions = None if folded is None else _positions(pattern, text, folded)
        if positions is None:
            yield from pattern.finditer(text)
        else:
            yield from _matches_from(pattern, text, positions)


class PatternSet:
    """Many patterns, their anchors looked up together in one pass over a text.

    ``scan(text)`` finds where each pattern may match; ``Scan.finditer`` then runs the
    patterns asked for, so patterns needed only now and then (the lexicon's context
    patterns) cost little otherwise.
    """

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self.patterns: tuple[re.Pattern[str], ...] = tuple(patterns)
        at_word: dict[str, set[int]] = {}
        elsewhere: dict[str, list[tuple[int, bool]]] = {}
        unanchored: list[tuple[int, tuple[str, ...]]] = []
        for index, pattern in enumerate(self.patterns):
            found = anchors(pattern)
            if not found:
                unanchored.append((index, contained(pattern)))
            for literal, where in found:
                if where == WORD_START:
                    at_word.setdefault(literal, set()).add(index)
                else:
                    elsewhere.setdefault(literal, []).append((index, where == WORD_BEFORE))
        # Anchors that start a word (most of the lexicon's) are found by one regex, a
        # trie of them all, tried at each word start; it names the longest one there,
        # and so every one, since the others there are its prefixes.
        self._at_word = re.compile(rf"\b(?=({_trie(at_word)}))") if at_word else None
        self._covering = _with_prefixes(at_word)
        # Where "lymphoma" is looked up, "lymphoma " need not be: its users are
        # tried where "lymphoma" occurs, which includes everywhere it does.
        for literal in sorted(elsewhere, key=len, reverse=True):
            shorter = [s for s in elsewhere if s != literal and literal.startswith(s)]
            if shorter:
                elsewhere[min(shorter, key=len)].extend(elsewhere.pop(literal))
        self._elsewhere = tuple((literal, tuple(users)) for literal, users in elsewhere.items())
        self._unanchored = tuple(unanchored)

    def __len__(self) -> int:
        return len(self.patterns)

    def scan(self, text: str, lowered: str | None = None) -> Scan:
        """Where in ``text`` each pattern may match (``lowered`` is ``text.lower()``)."""
        lowered = text.lower() if lowered is None else lowered
        folded = _fold(text, lowered)
        if folded is None:
            return Scan(self, text, None)
        starts: dict[int, set[int]] = {}
        if self._at_word is not None:
            covering = self._covering
            for match in self._at_word.finditer(folded):
                at = match.start()
                for index in covering[match.group(1)]:
                    starts.setdefault(index, set()).add(at)
        for literal, users in self._elsewhere:
            at = folded.find(literal)
            while at >= 0:
                for index, word_before in users:
                    starts.setdefault(index, set()).add(
                        _word_start(text, at) if word_before else at
                    )
                at = folded.find(literal, at + 1)
        positions: dict[int, list[int] | None] = {i: sorted(s) for i, s in starts.items()}
        for index, needed in self._unanchored:
            if not needed or any(literal in folded for literal in needed):
                positions[index] = None
        return Scan(self, text, positions)


def _with_prefixes(users: dict[str, set[int]]) -> dict[str, tuple[int, ...]]:
    """For each literal, the users of it and of every other literal it starts with."""
    found = {}
    for literal in users:
        prefixes = (users.get(literal[:n], set()) for n in range(2, len(literal) + 1))
        found[literal] = tuple(sorted(set().union(*prefixes)))
    return found


def _trie(literals: Iterable[str]) -> str:
    """A regex matching any of ``literals``, the longest where several match: a trie,
    so the regex engine follows one branch per letter instead of trying them all."""
    root: dict[str, Any] = {}
    for literal in literals:
        node = root
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}  # a literal ends here

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if "" in node:  # tried after the longer ones, as greedy "?" does
            return "(?:" + "|".join(branches) + ")?"
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(root)


class Scan:
    """One text as scanned by a ``PatternSet``: ``finditer`` runs its patterns."""

    def __init__(
        self, patterns: PatternSet, text: str, positions: dict[int, list[int] | None] | None
    ) -> None:
        self._set = patterns
        self.text = text
        # Pattern index -> where it may match (None: anywhere; missing: nowhere).
        # None for them all when the text could not be folded: every pattern is run.
        self._positions = positions
        self._order = sorted(positions) if positions is not None else []

    def finditer(self, indices: range) -> dict[int, list[re.Match[str]]]:
        """``finditer(text)`` for each pattern of ``indices`` (a range, step 1), by index
        and in index order; patterns that found nothing are left out."""
        found: dict[int, list[re.Match[str]]] = {}
        text, positions, patterns = self.text, self._positions, self._set.patterns
        if positions is None:
            for index in indices:
                if hits := list(patterns[index].finditer(text)):
                    found[index] = hits
            return found
        order = self._order  # only these patterns may match at all
        for index in order[bisect_left(order, indices.start) : bisect_left(order, indices.stop)]:
            where = positions[index]
            pattern = patterns[index]
            hits = (
                list(pattern.finditer(text))
                if where is None
                else _matches_from(pattern, text, where)
            )
            if hits:
                found[index] = hits
        return found
