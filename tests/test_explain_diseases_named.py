"""Who took part: a study of many diseases is not told as if it were about two of them."""

from __future__ import annotations

from carnews.cli.contracts import story_json
from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story

TEXT = (
    "Methods: Twenty patients received CD19 CAR T cells: lupus (n=8), systemic sclerosis"
    " (n=5), myositis (n=4) and myasthenia gravis (n=3). Results: Sixteen of 20 stopped"
    " their immune drugs."
)


def test_more_than_two_diseases_are_told_as_two_and_others(lexicon: Lexicon) -> None:
    card = story_json(
        explain_story("CD19 CAR T cells in autoimmune disease", TEXT, lexicon=lexicon)
    )
    assert len(card["diseases"]) == 4
    assert "and other diseases" in card["who_took_part"]
    assert " or " not in card["who_took_part"]


def test_two_diseases_are_both_named(lexicon: Lexicon) -> None:
    text = "Six patients with lupus or myositis received CD19 CAR T cells. Five improved."
    card = story_json(explain_story("CAR T cells in lupus and myositis", text, lexicon=lexicon))
    assert "other diseases" not in card["who_took_part"]
    assert "lupus" in card["who_took_part"] and "myositis" in card["who_took_part"]
