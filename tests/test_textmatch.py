"""The literal-prefix shortcut never skips a pattern that could match."""

from __future__ import annotations

import re

import pytest

from carnews.explain import load_glossary
from carnews.textmatch import literal_prefix, matches


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"\bchimeric antigen receptor\b", "chimeric antigen receptor"),
        (r"\bCAR[- ]?T(?:s|[- ]cells?)?\b", "car"),
        (r"(?-i:\bCARs?\b)", "car"),
        (r"\bm?RNA[- ]?CAR", ""),  # optional first letter: no safe prefix
        (r"\bCD19\b", "cd19"),
        (r"lupus|SLE", ""),  # alternatives at the top level
        (r"\bplasma ?(?:cells?|blasts?)\b", "plasma"),
    ],
)
def test_prefix_is_what_every_match_starts_with(pattern: str, prefix: str) -> None:
    assert literal_prefix(pattern) == prefix


def test_shortcut_finds_exactly_what_plain_regex_finds() -> None:
    text = (
        "Five patients with SLE received anti-CD19 CAR T cells; plasmablasts fell and "
        "mRNA CAR-T was given without lymphodepletion. CRS was grade 1."
    )
    patterns = [p for term in load_glossary() for p in term.patterns]
    fast = [(m.start(), m.end()) for m in matches(patterns, text, text.lower())]
    slow = [(m.start(), m.end()) for p in patterns for m in p.finditer(text)]
    assert fast == slow and fast


def test_case_sensitive_patterns_still_match_through_lowered_text() -> None:
    pattern = re.compile(r"(?-i:\bMG\b)")
    assert [m.group(0) for m in matches([pattern], "Refractory MG.", "refractory mg.")] == ["MG"]
