"""Story-card facts from the sixth round of phrasings (tests/data/stories_dev.jsonl,
dev-451 onward, written by annotators who never saw the extractor): harms told in a
person's or a reporter's plain words, a regulator's own voice (a notice to prescribers, a
committee's recommendation, a risk management plan), a preprint's footer in the authors'
own language, a letter answering another's paper and a chart review of the authors' own
patients. Each example is written here, one per family, in words of its own.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from tests.helpers import facts, side_effects


def _kinds(lexicon: Lexicon, title: str, text: str) -> set[str]:
    return {h.kind for h in facts(lexicon, title, text).harms if h.status == "occurred"}


# --------------------------------------------------------------------------- harms named


@pytest.mark.parametrize(
    "said",
    [
        "Three weeks later my antibodies dropped so low that the nurses put me on drips.",
        "The doctors told us her antibodies are very low for now.",
        "Antibody levels fell steeply in everyone, as expected with this drug.",
        "After the cells I needed IVIG infusions for half a year.",
        "He'll have IVIG every month until his B cells come back.",
        "The cells depleted my healthy antibodies along with the harmful ones.",
    ],
)
def test_a_persons_plain_words_for_low_antibodies(lexicon: Lexicon, said: str) -> None:
    text = f"I had CAR-T cells for my myositis in the spring. {said} Now I can climb stairs."
    assert "low antibodies" in _kinds(lexicon, "My CAR-T year", text)


@pytest.mark.parametrize(
    "said",
    [
        # The disease's own antibodies falling is the treatment working.
        "My anti-dsDNA antibodies dropped to normal within three months.",
        "Her autoantibodies fell and her rash faded.",
        # A patient's bare "dropped" may be the disease's own antibodies going.
        "My antibody levels dropped and my skin blisters healed.",
        # IVIG before the cells was a treatment that failed.
        "Before the cells I had IVIG and rituximab without much change.",
    ],
)
def test_the_diseases_antibodies_falling_is_no_harm(lexicon: Lexicon, said: str) -> None:
    text = f"I had CAR-T cells for my lupus in the spring. {said} I had a mild fever."
    assert "low antibodies" not in _kinds(lexicon, "My CAR-T year", text)


@pytest.mark.parametrize(
    "said",
    ["All five no longer need IVIG or plasma exchange.",
     "No participant needed IVIG during follow-up."],
)  # fmt: skip
def test_ivig_no_longer_needed_says_nothing_of_low_antibodies(lexicon: Lexicon, said: str) -> None:
    text = f"Five patients with myasthenia gravis received CD19 CAR T cells. {said}"
    found = facts(lexicon, "CD19 CAR-T in myasthenia gravis", text)
    assert "low antibodies" not in {h.kind for h in found.harms}
    assert "antibod" not in side_effects(lexicon, "CD19 CAR-T in myasthenia gravis", text)


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ("My wife says the worst part was the fevers.", "fever"),
        ("His blood counts were so low he could not see the grandchildren.",
         "low blood counts"),
    ],
)  # fmt: skip
def test_a_relatives_words_for_what_happened(lexicon: Lexicon, said: str, named: str) -> None:
    text = f"My husband had CAR-T cells for his lupus in June. {said} He is back at work."
    effects = side_effects(lexicon, "My husband's CAR-T", text)
    assert named in effects and "Possible" not in effects


# --------------------------------------------------------------------------- tables


def test_a_flattened_tables_zero_belongs_to_the_row_before(lexicon: Lexicon) -> None:
    text = ("Twelve patients with lupus received CD19 CAR T cells. Table 2. Adverse event |"
            " Any grade | Grade ≥3 CRS | 9 | 0 Anaemia | 4 | 2 Pneumonia | 1 | 1")  # fmt: skip
    effects = side_effects(lexicon, "CD19 CAR-T in lupus", text)
    assert "Nobody had low blood counts" not in effects and "low blood counts" in effects
    # the column heading's grade is not the CRS's
    assert "grade 3" not in effects.split("CRS")[1].split(".")[0]


def test_a_lists_count_of_zero_says_nobody_had_it(lexicon: Lexicon) -> None:
    text = ("Twelve patients with lupus received CD19 CAR T cells. Adverse events of special"
            " interest: CRS, n = 8; ICANS, n = 0; infections, n = 2.")  # fmt: skip
    found = facts(lexicon, "CD19 CAR-T in lupus", text)
    assert {h.kind: h.status for h in found.harms}["icans"] == "none"


@pytest.mark.parametrize(
    "said",
    [
        "For ten days my white cells were on the floor and visitors wore masks.",
        "Her blood counts hit rock bottom in the second week.",
        "My platelets bottomed out after the chemo.",
    ],
)
def test_a_patients_idiom_for_low_blood_counts(lexicon: Lexicon, said: str) -> None:
    text = f"I got CAR-T cells for scleroderma last year. {said} My skin is softer now."
    assert "low blood counts" in side_effects(lexicon, "My CAR-T story", text)


def test_a_floor_that_is_a_room_is_no_blood_count(lexicon: Lexicon) -> None:
    text = ("I got CAR-T cells for scleroderma last year. I spent two weeks on the floor of"
            " the cell therapy ward. I had a mild fever.")  # fmt: skip
    assert "low blood counts" not in _kinds(lexicon, "My CAR-T story", text)


@pytest.mark.parametrize(
    "said",
    ["The first nights she had temperatures and needed paracetamol.",
     "He ran a high temperature on day two."],
)  # fmt: skip
def test_a_lay_temperature_is_a_fever(lexicon: Lexicon, said: str) -> None:
    text = f"Our son had CAR T cells for his lupus in May. {said} He is home now."
    assert "fever" in side_effects(lexicon, "An update from his dad", text)


def test_a_stored_temperature_is_no_fever(lexicon: Lexicon) -> None:
    text = ("The cells were frozen and shipped at a controlled temperature before my infusion"
            " for lupus. I had no side effects at all.")  # fmt: skip
    assert "other" not in _kinds(lexicon, "My CAR-T story", text)


# --------------------------------------------------------------------------- source kinds


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # a national regulator's notice to prescribers
        ("Swissmedic: new information on late neurotoxicity after CAR T cells",
         "Bern, 3 March 2026. Swissmedic informs healthcare professionals that cases of"
         " delayed parkinsonism have been reported after BCMA-directed CAR T cells."
         " Suspected cases should be reported to Swissmedic."),
        # a committee's recommendation in its meeting highlights
        ("Meeting highlights from the CHMP, March 2026",
         "The committee recommended granting a marketing authorisation for a CD19 CAR T-cell"
         " product in refractory lupus, based on a single-arm study in 40 patients."),
        # a public assessment report's risk management plan
        ("European public assessment report: summary of the risk management plan",
         "Important identified risks: cytokine release syndrome; infections. Important"
         " potential risks: secondary malignancy."),
    ],
)  # fmt: skip
def test_a_regulators_own_voice_is_the_regulators(lexicon: Lexicon, title: str, text: str) -> None:
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == ("regulatory", "regulator")


def test_a_reporter_quoting_the_committee_is_news(lexicon: Lexicon) -> None:
    text = ("Europe's CHMP recommended approval of a CD19 CAR-T for lupus, the company said on"
            " Friday; the committee recommended a conditional licence.")  # fmt: skip
    assert facts(lexicon, "Biotech's lupus CAR-T wins EU backing", text).source_kind == "news site"


def test_a_notice_on_every_authorised_product_names_no_target(lexicon: Lexicon) -> None:
    text = (
        "The Paul-Ehrlich-Institut informs healthcare professionals that late infections"
        " were reported after all authorised CD19- and BCMA-directed CAR T-cell products."
    )
    found = facts(lexicon, "Paul-Ehrlich-Institut: information on late infections", text)
    assert (found.source_kind, found.target) == ("regulator", None)


def test_a_preprint_footer_in_the_authors_language(lexicon: Lexicon) -> None:
    text = ("We treated four patients with refractory myositis with CD19 CAR-T cells; all"
            " improved by month 3. 该论文为预印本，未经同行评审。")  # fmt: skip
    assert facts(lexicon, "CD19 CAR-T in myositis", text).source_kind == "preprint"


# --------------------------------------------------------------------------- study types


def test_a_letter_answering_anothers_paper_is_a_review(lexicon: Lexicon) -> None:
    text = ("We read with interest the report by Ortiz and colleagues of CD19 CAR T cells in"
            " 12 patients with myositis. Long-term registries will be needed to judge rare"
            " late harms such as second cancers.")  # fmt: skip
    found = facts(lexicon, "Late harms of CAR T cells in myositis", text)
    assert found.study_type == "review"


def test_a_letter_with_its_own_patients_stays_their_study(lexicon: Lexicon) -> None:
    text = ("We read with interest the review by Ortiz and colleagues and add our own"
            " experience. We treated 6 patients with myositis with CD19 CAR T cells; all"
            " improved and none had ICANS.")  # fmt: skip
    found = facts(lexicon, "CAR T cells in myositis: our experience", text)
    assert found.study_type == "case series"


def test_a_chart_review_of_the_authors_patients_is_a_case_series(lexicon: Lexicon) -> None:
    text = ("We retrospectively reviewed patients with myositis treated with CD19 CAR T cells"
            " at our centre who had influenza vaccination afterwards. Hepatitis B titres were"
            " kept; new seroconversion came only after B-cell recovery.")  # fmt: skip
    found = facts(lexicon, "Influenza vaccination after CAR T cells in myositis", text)
    assert found.study_type == "case series"


def test_reviewing_the_literature_stays_a_review(lexicon: Lexicon) -> None:
    text = ("We reviewed published reports of patients treated with CD19 CAR T cells for"
            " myositis. Across reports, CRS has been mild.")  # fmt: skip
    assert facts(lexicon, "CAR T cells in myositis", text).study_type == "review"


def test_a_journals_news_piece_on_anothers_study_is_news(lexicon: Lexicon) -> None:
    text = ("A recent study of CD19 CAR T cells in myositis suggests the muscle can recover."
            " In the study, 8 patients regained strength within six months. Whether it lasts"
            " is unknown.")  # fmt: skip
    found = facts(lexicon, "Can CAR T cells rebuild muscle?", text)
    assert found.study_type == "news"


def test_authors_telling_of_their_own_study_stay_its_authors(lexicon: Lexicon) -> None:
    text = ("In the study, 8 patients with myositis received our CD19 CAR T cells and"
            " regained strength within six months.")  # fmt: skip
    assert facts(lexicon, "CD19 CAR T cells in myositis", text).study_type == "case series"


def test_a_reporters_attribution_after_the_claim_is_news(lexicon: Lexicon) -> None:
    text = ("The FDA's decision to drop its boxed warning wording for CAR-T has made clinics"
            " keener to treat lupus, rheumatologists say. Ten centres now offer it.")  # fmt: skip
    found = facts(lexicon, "After FDA label change, lupus clinics turn to CAR-T", text)
    assert found.source_kind == "news site"


def test_a_teaser_about_biotechs_is_news(lexicon: Lexicon) -> None:
    text = "Three biotechs have begun treating myositis with in vivo CAR-T. Who leads?"
    assert facts(lexicon, "The in vivo CAR-T race", text).source_kind == "news site"
