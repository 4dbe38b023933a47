"""The relevance filter measured on a labelled development set.

``tests/data/relevance_dev.jsonl`` holds realistic, hand-labelled items (PubMed abstracts,
trial records, preprints, trade news, regulatory notices, patient-organisation news): cell
therapy or T-cell redirection *in* an autoimmune disease is relevant; cancer CAR-T, drugs
that are not cell therapies, transplants and homonyms are not. docs/relevance.md explains
the labelling rules. Run with ``-s`` to see the figures:

    .venv/bin/python -m pytest -q tests/test_relevance_dev.py -s
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from carnews.curate.classify import classify
from carnews.curate.lexicon import load_lexicon

DEV_SET = Path(__file__).parent / "data" / "relevance_dev.jsonl"
THRESHOLD = 2.0
MIN_PRECISION = 0.97
MIN_RECALL = 0.95
STYLES = {"pubmed", "trial", "preprint", "news", "regulatory", "patient"}


@dataclass(frozen=True)
class Item:
    title: str
    summary: str
    relevant: bool
    why: str
    style: str
    hard: bool
    group: str
    topic_diseases: tuple[str, ...] = ()  # the source's own topic (a lupus news site: lupus)


@dataclass(frozen=True)
class Measure:
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int
    missed: tuple[str, ...]
    wrongly_kept: tuple[str, ...]

    @property
    def precision(self) -> float:
        kept = self.true_pos + self.false_pos
        return self.true_pos / kept if kept else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 0.0

    def report(self) -> str:
        lines = [
            f"relevance dev set: {sum(self.counts)} items, threshold {THRESHOLD}",
            f"  precision {self.precision:.3f}  recall {self.recall:.3f}",
            f"  confusion: TP {self.true_pos}  FP {self.false_pos}  "
            f"FN {self.false_neg}  TN {self.true_neg}",
        ]
        lines += [f"  missed (relevant, dropped): {title}" for title in self.missed]
        lines += [f"  wrongly kept (not relevant): {title}" for title in self.wrongly_kept]
        return "\n".join(lines)

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return self.true_pos, self.false_pos, self.false_neg, self.true_neg


def load_items() -> list[Item]:
    with DEV_SET.open(encoding="utf-8") as lines:
        return [Item(**json.loads(line)) for line in lines if line.strip()]


ITEMS = load_items()


def measure(items: list[Item]) -> Measure:
    lexicon = load_lexicon()
    tp = fp = fn = tn = 0
    missed: list[str] = []
    wrongly_kept: list[str] = []
    for item in items:
        kept = classify(item.title, item.summary, lexicon=lexicon, threshold=THRESHOLD,
                        topic_diseases=item.topic_diseases).relevant  # fmt: skip
        if kept and item.relevant:
            tp += 1
        elif kept:
            fp += 1
            wrongly_kept.append(item.title)
        elif item.relevant:
            fn += 1
            missed.append(item.title)
        else:
            tn += 1
    return Measure(tp, fp, fn, tn, tuple(missed), tuple(wrongly_kept))


def test_precision_and_recall_meet_the_targets() -> None:
    result = measure(ITEMS)
    print("\n" + result.report())
    assert result.precision >= MIN_PRECISION, result.report()
    assert result.recall >= MIN_RECALL, result.report()


def test_the_set_is_big_and_hard_enough() -> None:
    relevant = sum(item.relevant for item in ITEMS)
    hard_negatives = sum(item.hard and not item.relevant for item in ITEMS)
    assert len(ITEMS) >= 260
    assert hard_negatives >= 80
    assert 0.35 <= relevant / len(ITEMS) <= 0.55
    assert {item.style for item in ITEMS} == STYLES


def test_items_are_well_formed() -> None:
    bad = [
        item.title
        for item in ITEMS
        if not (item.title.strip() and item.why.strip() and item.group.strip())
        or item.style not in STYLES
        or not 80 <= len(item.summary.split()) <= 200
    ]
    assert not bad, bad


def test_titles_are_unique() -> None:
    titles = [item.title for item in ITEMS]
    assert len(titles) == len(set(titles))
