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
def literal_prefix(pattern: str) -> str:
    """Lower-case letters every match of ``pattern`` starts with, or "" if unsure.

    A cheap ``in`` test on the text then skips the patterns that cannot match: most
    glossary terms are absent from any one summary, and running all of them cost more
    than the rest of explaining.
    """
    depth = 0
    for char in pattern:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            return ""  # alternatives at the top level: no common start
    rest = pattern
    for lead in ("(?-i:", "(?i:", "(?:", r"\b"):
        rest = rest.removeprefix(lead)
    literal: list[str] = []
    for index, char in enumerate(rest):
        if not (char.isalnum() or char == " "):
            break
        if rest[index + 1 : index + 2] in ("?", "*", "{"):
            break  # optional: not every match has it
        literal.append(char)
    prefix = "".join(literal).lower()
    return prefix if len(prefix) >= 2 else ""


def may_match(pattern: re.Pattern[str], lowered: str) -> bool:
    prefix = literal_prefix(pattern.pattern)
    return not prefix or prefix in lowered


def search(pattern: re.Pattern[str], text: str, lowered: str) -> re.Match[str] | None:
    return pattern.search(text) if may_match(pattern, lowered) else None


def matches(
    patterns: Iterable[re.Pattern[str]], text: str, lowered: str
) -> Iterator[re.Match[str]]:
    for pattern in patterns:
        if may_match(pattern, lowered):
            yield from pattern.finditer(text)
