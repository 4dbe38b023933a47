"""The story card: its sections, the checks that block a bad one, the safe fallback card,
golden cards (tests/data/cards/) and the development set's figures as a floor.

Regenerate the golden cards only as a reviewed step, after reading every difference:
    CARNEWS_REGENERATE_CARDS=1 .venv/bin/python -m pytest -q tests/test_explain_cards.py
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from carnews.cli.contracts import story_json
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.explain.card import Card, write_card
from carnews.explain.checks import MAX_GRADE, check_card, explain_story, fallback_card
from carnews.explain.facts import extract_facts
from carnews.explain.measure import measure
from tests.helpers import LONG_NAMES_TEXT, LONG_NAMES_TITLE

DATA = Path(__file__).parent / "data"
CARDS = DATA / "cards"

SERIES = (
    "BACKGROUND: Autologous CD19-directed CAR T cells induced remission in refractory systemic "
    "lupus erythematosus (SLE). METHODS: We followed eight patients treated under "
    "compassionate use after lymphodepletion with fludarabine and cyclophosphamide. RESULTS: "
    "All eight patients reached DORIS remission by month 6 and remained off glucocorticoids "
    "at a median follow-up of 26 months. Cytokine release syndrome was grade 1 in five "
    "patients; there was no ICANS. CONCLUSIONS: CD19 CAR T-cell therapy produced durable "
    "drug-free remission in refractory SLE."
)
TITLE = "Anti-CD19 CAR T cells in refractory lupus: two-year follow-up"


@pytest.fixture(scope="module")
def card(lexicon: Lexicon) -> Card:
    return write_card(extract_facts(TITLE, SERIES, lexicon=lexicon), SERIES)


def test_a_case_series_card_says_what_a_patient_asks_in_plain_words(card: Card) -> None:
    assert card.headline == "CAR-T for lupus: 8 people in a small study"
    assert "CD19 (a marker on B cells)" in card.what_was_tested, "explained at first use"
    assert card.who_took_part.startswith("8 people with lupus were treated.")
    assert "chemotherapy to make room for the new cells" in card.who_took_part
    assert card.what_happened == (
        "All 8 people went into remission (the disease went quiet) by month 6."
    )
    assert card.side_effects is not None
    assert card.side_effects.startswith("5 people had CRS (")
    assert "Nobody had ICANS" in card.side_effects
    assert "There was no comparison group." in card.unknowns
    assert any("26 months" in line for line in card.unknowns)
    assert card.quote.startswith("All eight patients reached DORIS remission")
    assert card.quote_intro == "In the researchers' words"
    assert {"CAR-T", "CD19", "CRS", "ICANS", "remission", "lymphodepletion"} <= set(
        card.terms_explained
    )


def test_a_good_card_passes_every_check(card: Card) -> None:
    assert all(check_card(card, TITLE, SERIES).values())


@pytest.mark.parametrize(
    ("check", "change"),
    [
        ("numbers_traced", {"what_happened": "All 9 people went into remission."}),
        ("harms_reported", {"side_effects": None}),
        ("no_hype", {"what_it_means": "A breakthrough that may cure lupus."}),
        ("no_dangling_opener", {"what_happened": "However, all 8 people went into remission."}),
        ("no_statistics", {"what_happened": "All 8 people went into remission (IQR not given)."}),
        ("headline_length", {"headline": " ".join(["word"] * 15)}),
        ("unknowns_present", {"unknowns": ()}),
        (
            "grade",
            {
                "what_happened": "Immunosuppressive pharmacotherapeutic discontinuation "
                "necessitated comprehensive multidisciplinary institutional authorisation "
                "procedures."
            },
        ),
    ],
)
def test_each_check_blocks_the_fault_it_names(card: Card, check: str, change: dict) -> None:  # type: ignore[type-arg]
    checks = check_card(replace(card, **change), TITLE, SERIES)
    assert [name for name, ok in checks.items() if not ok] == [check]


def test_hype_is_allowed_only_inside_the_quote(card: Card) -> None:
    quoted = replace(card, quote="These remarkable results are promising.")
    assert check_card(quoted, TITLE, SERIES)["no_hype"]


def test_grade_limit_is_the_documented_one() -> None:
    assert MAX_GRADE == 10.0


def test_a_card_that_fails_becomes_the_safe_card_never_the_abstract(lexicon: Lexicon) -> None:
    # A card that reads above the grade limit: two long disease names, each explained.
    item = {"title": LONG_NAMES_TITLE, "text": LONG_NAMES_TEXT}
    story = explain_story(item["title"], item["text"], lexicon=lexicon, link="https://x.org/a")
    assert story.needs_editor and story.card.fallback
    assert story.checks["grade"] is False
    shown = " ".join([*story.card.sections().values(), story.card.quote])
    assert story.card.headline == "New regulator decision about cell therapy"
    assert "An editor will summarise this." in shown and "https://x.org/a" in shown
    for sentence in re.split(r"(?<=\.)\s+", item["text"]):
        assert sentence not in shown


def test_the_safe_card_keeps_a_side_effects_line_when_the_source_reports_harm(
    lexicon: Lexicon,
) -> None:
    facts = extract_facts(TITLE, SERIES, lexicon=lexicon)
    assert fallback_card(facts, harm_reported=True).side_effects
    assert fallback_card(facts, harm_reported=False).side_effects is None


def test_side_effects_is_none_only_when_the_source_says_nothing_on_safety(
    lexicon: Lexicon,
) -> None:
    silent = "We treated six patients with myositis with CD19 CAR T cells. All six improved."
    story = explain_story("CAR-T in myositis", silent, lexicon=lexicon)
    assert story.card.side_effects is None
    clean = silent + " No cytokine release syndrome occurred."
    story = explain_story("CAR-T in myositis", clean, lexicon=lexicon)
    assert story.card.side_effects == (
        "Nobody had CRS (a fever-like reaction of the immune system)."
    )


def test_a_recruiting_trial_says_how_to_ask_about_joining(lexicon: Lexicon) -> None:
    text = (
        "Brief Summary: This study will test an autologous CD19 CAR T-cell therapy in lupus "
        "nephritis. Phase: PHASE1. Overall status: RECRUITING. Estimated enrollment: 24."
    )
    story = explain_story("CAR-T in lupus nephritis", text, lexicon=lexicon)
    assert story.card.what_happened == "There are no results yet."
    assert "ask your specialist" in story.card.what_it_means
    assert "looking for volunteers" in story.card.headline


def test_a_preprint_says_it_is_not_yet_checked(lexicon: Lexicon) -> None:
    text = "We treated five patients with CD19 CAR T cells. This preprint is not peer reviewed."
    story = explain_story("CAR-T in multiple sclerosis", text, lexicon=lexicon)
    assert "not yet been checked by other scientists" in " ".join(story.card.unknowns)


def test_a_press_release_is_the_companys_own_account(lexicon: Lexicon) -> None:
    story = explain_story("CAR-T in lupus", "We treated five patients.", lexicon=lexicon,
                          source_kind="press release")  # fmt: skip
    assert "the company's own account" in " ".join(story.card.unknowns)


# --------------------------------------------------------------------------- golden cards

GOLDEN = ("dev-1", "dev-9", "dev-3", "dev-37", "dev-232", "dev-17")


def _items(split: str) -> list[dict]:  # type: ignore[type-arg]
    lines = (DATA / f"stories_{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("ident", GOLDEN)
def test_golden_cards(lexicon: Lexicon, ident: str) -> None:
    item = next(i for i in _items("dev") if i["id"] == ident)
    answer = story_json(explain_story(item["title"], item["text"], lexicon=lexicon))
    path = CARDS / f"{ident}.json"
    rendered = json.dumps(answer, ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("CARNEWS_REGENERATE_CARDS"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the dev set

# What the development split measured when these floors were set (bench/stories.py prints
# the same figures); a change may raise them, never lower them without a reason.
# The third round's 54 items (dev-185 on) brought forms not every rule reads: a count the
# source never prints ("two dozen"), preprints whose text does not say so. The fourth and
# fifth rounds (dev-251 on, dev-351 on) were written without the rules in mind; each has a
# floor of its own, so the first rounds' floor is not diluted by them. The fourth round's
# study types and harms were then read by phrasing family (tests/test_explain_types4.py);
# six of its ten preprints never say so in their text, which holds its source kind at 0.94.
# The fifth round's were read the same way (tests/test_explain_types5.py): seven of its ten
# preprints never say so, which holds its source kind at 0.91.
FLOOR = {"study_type": 0.99, "source_kind": 0.98, "treated_n": 0.97, "diseases": 0.97,
         "target": 0.97, "product": 0.96}  # fmt: skip
# The fifth round's counts, diseases, targets and product kinds were then read by
# phrasing family (tests/test_explain_counts5.py); its one count left is a sum of dose
# levels the source never prints (dev-411), and those floors hold what both rounds measure.
FOURTH_ROUND_FLOOR = {"study_type": 1.0, "source_kind": 0.94, "treated_n": 0.98,
                      "diseases": 0.97, "target": 0.98, "product": 0.99}  # fmt: skip
FIFTH_ROUND_FLOOR = {"study_type": 0.99, "source_kind": 0.91, "treated_n": 0.98,
                     "diseases": 0.96, "target": 1.0, "product": 0.98}  # fmt: skip
SIXTH_ROUND_FLOOR = {"study_type": 0.99, "source_kind": 0.96, "treated_n": 0.93,
                     "diseases": 0.98, "target": 0.97, "product": 0.97}  # fmt: skip


@dataclass(frozen=True)
class Round:
    first: int  # id numbers, inclusive
    last: int
    floor: dict[str, float]
    harm_recall: float  # items reporting a harm that get a side-effects section
    fallbacks: int  # cards that failed a check and fell back to the minimal card
    every_harm_named: bool = True  # each harm the source reports is named on the card


ROUNDS = {
    "first rounds": Round(1, 250, FLOOR, 1.0, 0),
    "fourth round": Round(251, 350, FOURTH_ROUND_FLOOR, 1.0, 0),
    "fifth round": Round(351, 450, FIFTH_ROUND_FLOOR, 1.0, 0),
    "sixth round": Round(451, 550, SIXTH_ROUND_FLOOR, 1.0, 0),
}


@pytest.mark.parametrize("name", ROUNDS)
def test_development_set_figures_stay_at_or_above_the_floor(lexicon: Lexicon, name: str) -> None:
    spec = ROUNDS[name]
    items = [i for i in _items("dev") if spec.first <= int(i["id"].split("-")[1]) <= spec.last]
    figures = measure(items, lexicon=lexicon)
    assert figures.items >= (238 if spec.first == 1 else 100)
    for field, floor in spec.floor.items():
        assert figures.accuracy(field) >= floor, (field, figures.misses.get(field))
    assert figures.harm_recall >= spec.harm_recall
    if spec.every_harm_named:
        assert figures.harms_named == figures.harm_items, figures.misses.get("harms")
    assert figures.untraced == [] and figures.hype == []
    assert len(figures.fallbacks) <= spec.fallbacks, figures.fallbacks
    assert figures.median_grade <= 8.0


def test_a_card_survives_storage_as_json() -> None:
    import json

    from carnews.explain.card import Card

    card = Card(
        headline="A new cell treatment for lupus",
        study_type="case series",
        what_was_tested="Doctors tested CAR-T cells.",
        who_took_part="5 people with lupus took part.",
        what_happened="All 5 stopped their lupus medicines.",
        side_effects=None,
        unknowns=("The study was small.", "There was no comparison group."),
        what_it_means="It is too early to know.",
        quote="All five patients reached remission.",
        quote_intro="In the researchers' words",
        terms_explained=("CAR-T",),
    )
    stored = json.loads(json.dumps(card.to_dict()))
    assert Card.from_dict(stored) == card
    assert Card.from_dict({**stored, "added_later": 1}) == card


def test_no_severe_harm_is_not_no_harm(lexicon: Lexicon) -> None:
    """ "No patient had severe CRS" rules out severe CRS only; the card must not say nobody
    had CRS at all."""
    text = (
        "We treated five patients with lupus using CD19 CAR T cells. All five were in "
        "remission after three months. No patient had severe cytokine release syndrome."
    )
    story = explain_story("CAR-T in lupus", text, lexicon=lexicon)
    assert story.card.side_effects is not None
    assert "Nobody had severe CRS" in story.card.side_effects


@pytest.mark.parametrize("text", [".", "…", " - ", "?!"])
def test_a_text_with_no_sentence_gets_a_card_not_a_crash(lexicon: Lexicon, text: str) -> None:
    """A thin entry whose teaser is only punctuation once crashed curation's explainer."""
    story = explain_story("CAR-T in lupus", text, lexicon=lexicon)
    assert story.card.headline and story.card.unknowns


def test_we_gave_the_cells_to_n_patients_is_who_was_treated(lexicon: Lexicon) -> None:
    text = ("Methods: We gave CD19-directed CAR T cells to 15 patients with refractory SLE. "
            "Results: All 15 patients reached drug-free remission.")  # fmt: skip
    story = explain_story("New CAR-T data", text, lexicon=lexicon)
    assert story.facts.treated_n == 15 and story.card.study_type == "case series"


def test_a_class_wide_safety_warning_gets_a_safety_card() -> None:
    """Not 'a decision about its use in lupus': a warning for everyone treated."""
    from carnews.explain.checks import explain_story

    story = explain_story(
        "FDA expands safety labelling on secondary T-cell cancers after CAR-T",
        "The US Food and Drug Administration has asked makers of approved CD19-directed "
        "CAR-T therapies to expand the boxed warning about secondary T-cell malignancies. "
        "Cases remain rare. Doctors should monitor patients for life.",
        lexicon=load_lexicon(),
    )
    card = story.card
    assert card.study_type == "regulatory" and not card.fallback
    assert card.headline == "US regulator safety warning about CAR-T treatments"
    assert "safety rule for everyone treated" in card.who_took_part
    assert "changed the safety warnings" in card.what_happened
    assert "Do not stop or change a treatment" in card.what_it_means
