"""How well story cards match an annotated set (tests/data/stories_*.jsonl).

Pure: annotated items in, :class:`Figures` out. ``bench/stories.py`` prints the figures
for both splits; a test holds the development split's figures as a floor. A second
reading grade (textstat's, in the bench) can be passed in as ``grader``.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story, hype_words, untraced_numbers
from carnews.explain.plain import numbers_in
from carnews.text.readability import fk_grade

__all__ = ["FIELDS", "Figures", "measure"]

FIELDS = ("study_type", "source_kind", "treated_n", "diseases", "target", "product")
# How the card names each kind of harm; a harm is recalled when its side-effects text does.
_HARM_WORDS = {
    "crs": r"\bCRS\b", "icans": r"\bICANS\b", "infection": r"infection",
    "low blood counts": r"low blood counts", "low antibodies": r"antibod",
    "death": r"\bdied\b|deaths", "secondary cancer": r"cancer", "other": r".",
}  # fmt: skip


@dataclass
class Figures:
    items: int = 0
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    judged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    harm_items: int = 0  # items whose source reports a harm
    harm_sections: int = 0  # ...whose card has a side-effects section
    harms_named: int = 0  # ...whose section names every harm the source reports
    untraced: list[str] = field(default_factory=list)  # "id: number"
    hype: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    grades: list[float] = field(default_factory=list)
    other_grades: list[float] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=dict)

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.judged[name] if self.judged[name] else 1.0

    @property
    def harm_recall(self) -> float:
        return self.harm_sections / self.harm_items if self.harm_items else 1.0

    @property
    def median_grade(self) -> float:
        return statistics.median(self.grades) if self.grades else 0.0

    @property
    def median_other_grade(self) -> float:
        return statistics.median(self.other_grades) if self.other_grades else 0.0


def measure(items: Iterable[Mapping[str, Any]], *, lexicon: Lexicon,
            grader: Callable[[str], float] | None = None) -> Figures:  # fmt: skip
    figures = Figures()
    for item in items:
        _one(item, lexicon, grader, figures)
    return figures


def _one(item: Mapping[str, Any], lexicon: Lexicon, grader: Callable[[str], float] | None,
         figures: Figures) -> None:  # fmt: skip
    gold, ident = item["gold"], item["id"]
    story = explain_story(item["title"], item["text"], lexicon=lexicon)
    facts, card = story.facts, story.card
    figures.items += 1
    found = {
        "study_type": facts.study_type, "source_kind": facts.source_kind,
        "treated_n": facts.treated_n, "diseases": sorted(facts.diseases),
        "target": facts.target, "product": facts.product,
    }  # fmt: skip
    expected = dict(gold, diseases=sorted(gold["diseases"]))
    for name in FIELDS:
        if name == "treated_n" and expected[name] is None:
            continue  # judged where the source reports a count
        figures.judged[name] += 1
        if found[name] == expected[name]:
            figures.correct[name] += 1
        else:
            figures.misses.setdefault(name, []).append(
                f"{ident}: {found[name]!r} (gold {expected[name]!r})"
            )
    if story.needs_editor:
        figures.fallbacks.append(f"{ident}: " + ", ".join(k for k, v in story.checks.items()
                                                         if not v))  # fmt: skip
    shown = " ".join([*card.sections().values(), card.quote])
    source = numbers_in(f"{item['title']} {item['text']}", words=True)
    figures.untraced += [f"{ident}: {n}" for n in untraced_numbers(shown, source)]
    figures.hype += [f"{ident}: {w}" for w in hype_words(" ".join(card.sections().values()))]
    if gold["harms_present"]:
        figures.harm_items += 1
        effects = card.side_effects or ""
        figures.harm_sections += bool(effects)
        named = all(re.search(_HARM_WORDS[h], effects, re.I) for h in gold["harms"])
        figures.harms_named += bool(effects) and named
        if not (effects and named):
            figures.misses.setdefault("harms", []).append(f"{ident}: {effects!r} {gold['harms']}")
    figures.grades.append(fk_grade(card.summary))
    if grader is not None:
        figures.other_grades.append(grader(card.summary))
