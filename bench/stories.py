"""Benchmark: story cards measured against the annotated story sets.

Run: make bench   (or .venv/bin/python bench/stories.py [--split dev|blind|blind2|blind3|both|all]
     [-v])

Prints, per split (tests/data/stories_dev.jsonl, stories_blind.jsonl, stories_blind2.jsonl
and stories_blind3.jsonl, see tests/data/stories.md; ``both`` is dev and blind, ``all``
adds blind2 and blind3): per-field accuracy of the extracted facts, harm recall (items
whose source reports a harm that get a side-effects section, and that name each harm),
number fidelity (numbers in the card the source does not print), hype words, fallback
cards, and the median reading grade of the card's ``summary`` — by carnews's own
Flesch-Kincaid (carnews.text.readability) and by textstat 0.7.8 as a cross-check.
Rules are tuned on the dev split only; the blind splits are measured, never tuned on.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from carnews.explain.measure import FIELDS, Figures, measure
from carnews.jobs import knowledge

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def textstat_grade(text: str) -> float:
    import textstat  # a dev dependency, pinned at 0.7.8 (0.7.9+ downloads NLTK data)

    return float(textstat.flesch_kincaid_grade(text))


def report(split: str, figures: Figures, seconds: float, verbose: bool) -> None:
    print(f"-- {split}: {figures.items} items, {seconds:.2f} s")
    for name in FIELDS:
        print(
            f"   {name:<12} {figures.accuracy(name):6.1%}  ({figures.correct[name]}"
            f"/{figures.judged[name]})"
        )
    print(
        f"   harm recall  {figures.harm_recall:6.1%}  ({figures.harm_sections}/"
        f"{figures.harm_items} have a side-effects section; {figures.harms_named} name"
        " every harm)"
    )
    print(
        f"   numbers not in the source: {len(figures.untraced)}   hype words:"
        f" {len(figures.hype)}   fallback cards: {len(figures.fallbacks)}"
    )
    print(
        f"   median FK grade of summary: carnews {figures.median_grade:.1f},"
        f" textstat {figures.median_other_grade:.1f}"
    )
    if verbose:
        for name, misses in figures.misses.items():
            for miss in misses:
                print(f"   miss {name}: {miss}")
        for line in figures.untraced + figures.hype + figures.fallbacks:
            print(f"   flag {line}")


# A split names one file, stories_<split>.jsonl; a group names several splits.
SPLITS = ("dev", "blind", "blind2", "blind3")
GROUPS = {"both": ("dev", "blind"), "all": SPLITS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, *GROUPS), default="both")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    lexicon = knowledge(2.0).lexicon
    for split in GROUPS.get(args.split, (args.split,)):
        lines = (DATA / f"stories_{split}.jsonl").read_text(encoding="utf-8").splitlines()
        items = [json.loads(line) for line in lines if line.strip()]
        start = time.perf_counter()
        figures = measure(items, lexicon=lexicon, grader=textstat_grade)
        report(split, figures, time.perf_counter() - start, args.verbose)


if __name__ == "__main__":
    main()
