"""Fast pattern matching for the lexicon and the glossary.

Most of the hundreds of editor-written patterns do not occur in any one text, yet
running each of them costs a regex scan. A pattern that must start with some
literal letters ("lymphodepletion", "\\bCD19") cannot match a text that lacks
them, and ``in`` finds that out far faster than the regex engine.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator


@functools.lru_cache(maxsize=4096)
def required_literals(pattern: str) -> tuple[str, ...]:
    """Lower-case strings one of which every match of ``pattern`` contains; () if unsure.

    For "\\bCD19\\b" that is ("cd19",); for "(?-i:IIM|IMNM|JDM)" one per alternative;
    a leading "\\w*" or optional "[cj]?" is skipped, since the letters after it still
    have to be there.
    """
    alternatives = _alternatives(_strip_openers(pattern))
    found = tuple(_leading_literal(alternative) for alternative in alternatives)
    return found if found and all(found) else ()


def literal_prefix(pattern: str) -> str:
    """The required literal of a pattern without alternatives ("" otherwise)."""
    found = required_literals(pattern)
    return found[0] if len(found) == 1 else ""


_OPENERS = ("(?<!\\w)", "(?-i:", "(?i:", "(?:", "\\b")
_SKIPPABLE = re.compile(r"^(?:\\w[*+]|\[[^\]]*\]\?)")


def _strip_openers(pattern: str) -> str:
    """Drop leading word-boundary checks and group openings: they match no letters."""
    rest, previous = pattern, None
    while rest != previous:
        previous = rest
        for opener in _OPENERS:
            rest = rest.removeprefix(opener)
    return rest


def _leading_literal(alternative: str) -> str:
    rest = _SKIPPABLE.sub("", alternative)
    literal: list[str] = []
    for index, char in enumerate(rest):
        if not (char.isalnum() or char == " "):
            break
        if rest[index + 1 : index + 2] in ("?", "*", "{"):
            break  # optional: not every match has it
        literal.append(char)
    prefix = "".join(literal).lower()
    return prefix if len(prefix) >= 2 else ""


def _alternatives(rest: str) -> list[str]:
    """The branches of the group the text starts in (or of the whole pattern)."""
    branches: list[str] = []
    depth, index, start, in_class = 0, 0, 0, False
    while index < len(rest):
        char = rest[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break  # the group the text starts in has closed
        elif char == "|" and depth == 0:
            branches.append(rest[start:index])
            start = index + 1
        index += 1
    return [*branches, rest[start:index]]


@functools.lru_cache(maxsize=8192)
def _needed(pattern: re.Pattern[str]) -> tuple[str, ...]:
    # Keyed by the compiled pattern (hashed by identity-like pattern+flags, cheaply cached).
    return required_literals(pattern.pattern)


def may_match(pattern: re.Pattern[str], lowered: str) -> bool:
    needed = _needed(pattern)
    return not needed or any(literal in lowered for literal in needed)


def search(pattern: re.Pattern[str], text: str, lowered: str) -> re.Match[str] | None:
    return pattern.search(text) if may_match(pattern, lowered) else None


def matches(
    patterns: Iterable[re.Pattern[str]], text: str, lowered: str
) -> Iterator[re.Match[str]]:
    for pattern in patterns:
        needed = _needed(pattern)
        if not needed or any(literal in lowered for literal in needed):
            yield from pattern.finditer(text)
