"""A company's own press release is told apart from a reporter's story: its card says it is
the company's own account."""

from __future__ import annotations

import pytest

from carnews.cli.contracts import story_json
from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story
from carnews.explain.facts import extract_facts
from carnews.explain.press import is_press_release

BODY = (
    " reported that six patients with lupus received its CD19 CAR T-cell therapy; all six"
    " reached remission and two had grade 1 cytokine release syndrome."
)
TITLE = "Company reports lupus data for its CD19 CAR-T"


@pytest.mark.parametrize(
    "text",
    [
        "BOSTON, March 3, 2026 /PRNewswire/ -- Acme Bio today" + BODY,
        "PHILADELPHIA, Nov. 18, 2025 (BUSINESS WIRE) -- Acme Bio today" + BODY,
        "LEIDEN, May 2, 2026 (GLOBE NEWSWIRE) -- Acme Bio today" + BODY,
        "Acme Bio (Nasdaq: ACME), a clinical-stage company, today" + BODY,
        "Acme Bio today" + BODY + " This press release contains forward-looking statements.",
        "Acme Bio" + BODY + " Forward-Looking Statements: actual results may differ materially.",
    ],
)
def test_a_release_is_the_companys_own_account(lexicon: Lexicon, text: str) -> None:
    facts = extract_facts(TITLE, text, lexicon=lexicon)
    assert (facts.source_kind, facts.study_type, facts.treated_n) == ("press release", "news", 6)
    card = story_json(explain_story(TITLE, text, lexicon=lexicon))
    assert "the company's own account" in " ".join(card["unknowns"])


@pytest.mark.parametrize(
    "text",
    [
        "Acme Bio (NASDAQ: ACME) said on Monday that six patients with lupus had responded.",
        "Acme Bio said it looks forward to more data; six patients with lupus responded.",
        "Six patients with lupus responded, the company told reporters at the meeting.",
    ],
)
def test_a_reporter_retelling_a_release_writes_news(text: str) -> None:
    assert not is_press_release(text)


def test_a_release_on_a_regulators_decision_is_regulatory_news(lexicon: Lexicon) -> None:
    text = (
        "SAN DIEGO, Jan. 8, 2026 /PRNewswire/ -- Acme Bio today announced that the FDA has"
        " granted RMAT designation to its CD19 CAR T-cell therapy for lupus nephritis."
    )
    facts = extract_facts("FDA grants RMAT designation to Acme's CAR-T", text, lexicon=lexicon)
    assert (facts.source_kind, facts.study_type) == ("press release", "regulatory")
