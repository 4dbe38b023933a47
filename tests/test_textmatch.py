"""The matching shortcuts never change what a pattern finds: only where it is tried."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from carnews.curate.lexicon import load_lexicon
from carnews.explain.extractive import load_glossary
from carnews.text import textmatch
from carnews.text.textmatch import (
    ANYWHERE,
    WORD_BEFORE,
    WORD_START,
    PatternSet,
    anchors,
    contained,
    matches,
    search,
)

DATA = Path(__file__).parent / "data"
GUARD = r"(?<!\w)(?:{})(?!\w)"  # how the lexicon compiles what an editor writes


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bCD19\b", [("cd19", WORD_START)]),
        (
            GUARD.format(r"CD[\s-]?19"),
            [("cd 19", WORD_START), ("cd-19", WORD_START), ("cd19", WORD_START)],
        ),
        (
            GUARD.format(r"(?:multiple )?myeloma"),
            [("multiple myeloma", WORD_START), ("myeloma", WORD_START)],
        ),
        (
            GUARD.format(r"(?-i:[cj]?SLE)"),
            [("csle", WORD_START), ("jsle", WORD_START), ("sle", WORD_START)],
        ),
        (GUARD.format(r"\w*myositis"), [("myositis", WORD_BEFORE)]),
        (r"lupus|SLE", [("lupus", ANYWHERE), ("sle", ANYWHERE)]),
        (r"\bm?RNA", [("mrna", WORD_START), ("rna", WORD_START)]),
        (r".*lupus", []),  # may start anywhere
        (r"\b[a-z]+itis", []),  # one letter of many: nothing to look up
    ],
)
def test_anchors_are_what_every_match_starts_with(
    pattern: str, expected: list[tuple[str, int]]
) -> None:
    assert list(anchors(re.compile(pattern, re.IGNORECASE))) == expected


def test_a_pattern_without_anchors_is_skipped_only_without_what_it_contains() -> None:
    pattern = re.compile(GUARD.format(r"[\w-]+\s*[x×]\s*CD3"), re.IGNORECASE)
    assert anchors(pattern) == () and contained(pattern) == ("cd3",)
    scan = PatternSet([pattern]).scan("A CD19 x CD3 engager; BCMA×CD3 too.")
    assert [m.group(0) for m in scan.finditer(range(1))[0]] == ["CD19 x CD3", "BCMA×CD3"]


def test_an_optional_start_does_not_hide_the_rest() -> None:
    # The shortcut this replaced required "multiple " and so never saw a bare myeloma.
    pattern = re.compile(GUARD.format(r"(?:multiple )?myeloma"), re.IGNORECASE)
    text = "Relapsed myeloma and multiple myeloma."
    assert [m.group(0) for m in matches([pattern], text, text.lower())] == [
        "myeloma",
        "multiple myeloma",
    ]


def test_case_sensitive_patterns_still_match_through_lowered_text() -> None:
    pattern = re.compile(r"(?-i:\bMG\b)")
    assert [m.group(0) for m in matches([pattern], "Refractory MG.", "refractory mg.")] == ["MG"]


def _texts() -> list[str]:
    texts = [
        "Five patients with SLE received anti-CD19 CAR T cells; plasmablasts fell and "
        "mRNA CAR-T was given without lymphodepletion. CRS was grade 1.",
        "Dermatomyositis, ANCA-vasculitis and MS (not LC-MS) in 3 RA patients; "
        "teclistamab, a BCMAxCD3 engager approved for multiple myeloma, and axi-cel.",
        # Characters case-insensitive matching treats specially, and odd spaces.
        "ſLE and LUPUſ; İnflammatory myopathy; Kelvin: CD19 K; T\u00a0cell engager;\n"
        "no secondary\tmalignancies; thymoma-negative; ıdiopathic; CAR\u2009T cells.",
    ]
    for name in ("relevance_dev.jsonl", "relevance_heldout.jsonl"):
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        items = [json.loads(line) for line in lines[::9] if line.strip()]
        texts += [text for item in items for text in (item["title"], item["summary"])]
    return texts


TEXTS = _texts()


@pytest.mark.parametrize("source", ["lexicon", "glossary"])
def test_shortcuts_find_exactly_what_plain_regex_finds(source: str) -> None:
    if source == "lexicon":
        index = load_lexicon().index
        patterns = list(index.patterns.patterns)
    else:
        patterns = [p for term in load_glossary() for p in term.patterns]
    together = PatternSet(patterns)
    for text in TEXTS:
        lowered = text.lower()
        plain = {i: [m.span() for m in p.finditer(text)] for i, p in enumerate(patterns)}
        found = together.scan(text).finditer(range(len(patterns)))
        assert {i: [m.span() for m in hits] for i, hits in found.items()} == {
            i: spans for i, spans in plain.items() if spans
        }, text
        one_by_one = [m.span() for m in matches(patterns, text, lowered)]
        assert one_by_one == [span for spans in plain.values() for span in spans], text
        for i, pattern in enumerate(patterns):
            first = search(pattern, text, lowered)
            assert (first.span() if first else None) == (plain[i][0] if plain[i] else None)


def test_the_private_parser_is_used_only_on_checked_python_versions() -> None:
    assert textmatch.load_parser((3, 11)) is not None
    assert textmatch.load_parser((3, 99)) is None, "an unchecked version scans in full"


def test_without_the_parser_every_pattern_is_scanned_and_matches_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback path: no anchors, no shortcuts, the same matches as plain regex."""
    monkeypatch.setattr(textmatch, "_parser", None)
    anchors.cache_clear()
    contained.cache_clear()
    try:
        patterns = list(load_lexicon().index.patterns.patterns)
        assert all(anchors(p) == () and contained(p) == () for p in patterns)
        together = PatternSet(patterns)
        for text in TEXTS[:40]:
            plain = {i: [m.span() for m in p.finditer(text)] for i, p in enumerate(patterns)}
            found = together.scan(text).finditer(range(len(patterns)))
            assert {i: [m.span() for m in hits] for i, hits in found.items()} == {
                i: spans for i, spans in plain.items() if spans
            }, text
    finally:
        anchors.cache_clear()
        contained.cache_clear()
