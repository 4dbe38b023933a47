"""Reading grades on the development set's abstracts, measured offline.

Run with -s to print the figures reported in docs/relevance.md:
    .venv/bin/python -m pytest -q tests/test_readability.py -s
"""

from __future__ import annotations

import json
import socket
import statistics
from pathlib import Path

import pytest

from carnews.curate import classify, load_lexicon
from carnews.explain import explain, fk_grade, load_glossary

DEV_SET = Path(__file__).parent / "data" / "relevance_dev.jsonl"


def relevant_items() -> list[dict[str, str]]:
    items = [json.loads(line) for line in DEV_SET.read_text().splitlines() if line.strip()]
    return [item for item in items if item["relevant"]]


def test_grades_of_summaries_and_newsletter_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("reading grades must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    lexicon, glossary = load_lexicon(), load_glossary()
    source, summary, newsletter = [], [], []
    for item in relevant_items():
        verdict = classify(item["title"], item["summary"], lexicon=lexicon)
        result = explain(item["title"], item["summary"], evidence=verdict.evidence,
                         patients=verdict.patients, glossary=glossary)  # fmt: skip
        source.append(fk_grade(item["summary"]))
        summary.append(result.fk_grade)
        shown = [result.summary, result.what_it_means]
        shown += [f"{term.term}: {term.plain}" for term in result.terms]
        newsletter.append(fk_grade("\n\n".join(shown)))
    medians = [statistics.median(values) for values in (source, summary, newsletter)]
    print(f"\nmedian Flesch-Kincaid grade over {len(source)} relevant dev abstracts: "
          f"source {medians[0]:.1f}, summary {medians[1]:.1f}, "
          f"newsletter text with explanations {medians[2]:.1f}")  # fmt: skip
    assert len(source) >= 100
    assert medians[2] < medians[1], "the plain explanations make the newsletter easier"
    assert medians[1] <= medians[0] + 1.5, "a verbatim summary is no harder than its source"
