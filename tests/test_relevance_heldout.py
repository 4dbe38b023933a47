"""Relevance on the held-out set: written without seeing the filter, never tuned on.

Prints the figures with -s:
    .venv/bin/python -m pytest -q tests/test_relevance_heldout.py -s
Do not change the lexicon to fix an item of this set: that would turn it into a second
development set and the figure would stop saying anything about unseen news.
"""

from __future__ import annotations

import json
from pathlib import Path

from carnews.curate.classify import classify
from carnews.curate.lexicon import load_lexicon

HELDOUT = Path(__file__).parent / "data" / "relevance_heldout.jsonl"


def test_unseen_items_are_judged_well() -> None:
    lexicon = load_lexicon()
    items = [json.loads(line) for line in HELDOUT.read_text().splitlines() if line.strip()]
    outcomes = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    wrong = []
    for item in items:
        kept = classify(item["title"], item["summary"], lexicon=lexicon).relevant
        key = ("t" if kept == item["relevant"] else "f") + ("p" if kept else "n")
        outcomes[key] += 1
        if kept != item["relevant"]:
            wrong.append(("kept" if kept else "dropped", item["title"]))
    precision = outcomes["tp"] / (outcomes["tp"] + outcomes["fp"])
    recall = outcomes["tp"] / (outcomes["tp"] + outcomes["fn"])
    print(f"\nheld-out set: {len(items)} items; precision {precision:.3f}, recall {recall:.3f}; "
          f"{outcomes}")  # fmt: skip
    for what, title in wrong:
        print(f"  {what}: {title}")
    assert len(items) >= 150
    assert precision >= 0.97 and recall >= 0.95
