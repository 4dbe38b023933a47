"""Story-card facts from the fifth round of phrasings (tests/data/stories_dev.jsonl,
dev-351 onward, written by annotators who never saw the extractor): how studies,
regulators, explainers and patients count and name harms, how a card with two diseases
to explain stays readable, and how regulators' safety notices and news of a decision
say what they are. Each example is written here, one per family, in words of its own.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story
from tests.helpers import facts, side_effects

SERIES = "Ten patients with lupus received CD19 CAR T cells. "


# --------------------------------------------------------------------------- harms named


@pytest.mark.parametrize(
    ("said", "named"),
    [
        # A study's word for low blood counts: "haematological toxicity", "myelosuppression".
        ("Haematological toxicity of grade 3 occurred in four patients.", "low blood counts"),
        ("Hematologic toxicity was common and resolved by day 30.", "low blood counts"),
        ("Two patients had myelosuppression lasting beyond day 21.", "low blood counts"),
        ("One patient had pancytopenia at month 2.", "low blood counts"),
        # A virus come back, by its name: varicella-zoster, HSV, hepatitis B, BK virus.
        ("One patient had a varicella-zoster reactivation in month 3.", "infection"),
        ("HSV reactivation occurred in two patients.", "infection"),
        ("One patient had hepatitis B reactivation.", "infection"),
        ("VZV reactivation was seen in one.", "infection"),
        # Infections named by the germ or the organ.
        ("One patient developed invasive aspergillosis.", "infection"),
        ("A cellulitis of the leg needed oral antibiotics.", "infection"),
    ],
)  # fmt: skip
def test_harms_named_in_a_studys_own_words(lexicon: Lexicon, said: str, named: str) -> None:
    assert named in side_effects(lexicon, "CD19 CAR-T in lupus", SERIES + said)


def test_antibodies_against_a_virus_are_not_an_infection(lexicon: Lexicon) -> None:
    text = ("We measured IgG against varicella-zoster virus and measles in sera from 8 patients"
            " after CD19 CAR T cells; titres stayed protective.")  # fmt: skip
    assert "infection" not in side_effects(lexicon, "Vaccine antibodies after CAR-T", text)


@pytest.mark.parametrize(
    "said",
    [
        "A week after the infusion my platelets dropped and I needed a transfusion.",
        "His neutrophils fell to almost nothing in the second week.",
        "Her haemoglobin went down for a month after the cells.",
    ],
)
def test_a_patients_own_words_for_low_blood_counts(lexicon: Lexicon, said: str) -> None:
    text = f"I had CAR-T cells for my lupus last spring. {said} Now I feel well."
    assert "low blood counts" in side_effects(lexicon, "My CAR-T story", text)


def test_low_counts_before_the_treatment_are_the_disease(lexicon: Lexicon) -> None:
    text = ("I was diagnosed with ITP at 20 and my platelets kept dropping despite steroids."
            " Then I had CAR-T cells. I had a mild fever for two days.")  # fmt: skip
    assert "low blood counts" not in side_effects(lexicon, "My CAR-T story", text)


def test_a_year_is_not_a_count_of_people(lexicon: Lexicon) -> None:
    text = "I had CAR-T cells for lupus in 2025 and had a mild fever for two days."
    effects = side_effects(lexicon, "My CAR-T story", text)
    assert "2025" not in effects and "fever" in effects


def test_weight_lost_by_treated_animals_is_a_harm_of_theirs(lexicon: Lexicon) -> None:
    text = (
        "We engineered CD19 CAR T cells and tested them in humanised mice with lupus."
        " Three of ten treated mice lost more than 15% of body weight, which recovered."
    )
    effects = side_effects(lexicon, "CAR T cells in humanised lupus mice", text)
    assert "weight loss" in effects and "animals" in effects
    assert "15% of people" not in effects, "the share is of body weight, not of mice"


# --------------------------------------------------------------------------- harms counted


@pytest.mark.parametrize(
    ("said", "told"),
    [
        # Deaths counted by the noun, or by who died.
        ("Late events included one death from pneumonia.", "1 person died."),
        ("Two treatment-related deaths were reported.", "2 people died."),
        ("One patient with scleroderma died of sepsis on day 60.", "1 person died."),
        # News of one death, told without a number: a person, not "deaths".
        ("A participant in the trial died of a fungal infection.", "A person died."),
        # A day is not a count of the dead.
        ("She developed pneumonia and on day 40 died.", "Deaths were reported."),
    ],
)  # fmt: skip
def test_how_many_died_as_sources_count_it(lexicon: Lexicon, said: str, told: str) -> None:
    assert told in side_effects(lexicon, "CD19 CAR-T in lupus", SERIES + said)


def test_one_persons_death_in_a_case_report(lexicon: Lexicon) -> None:
    text = ("A 44-year-old woman with lupus received CD19 CAR T cells. She developed HLH in"
            " the third week, and it was fatal.")  # fmt: skip
    assert "The patient died." in side_effects(
        lexicon, "Fatal HLH after CAR-T: a case report", text
    )


@pytest.mark.parametrize(
    ("title", "text", "told"),
    [
        ("Safety communication: T cell cancers after CAR-T", "The agency has received 17"
         " reports of T cell malignancies after treatment with CAR T cell products.",
         "There were 17 reports of a new cancer."),
        ("Update on T-cell lymphoma after CAR-T", "Some 25 cases of secondary T-cell lymphoma"
         " have been reported worldwide among treated patients.",
         "There were 25 cases of a new cancer."),
    ],
)  # fmt: skip
def test_a_regulators_reports_are_counted_as_reports_not_people(
    lexicon: Lexicon, title: str, text: str, told: str
) -> None:
    effects = side_effects(lexicon, title, text)
    assert told in effects and "people" not in effects


def test_every_patient_is_everyone(lexicon: Lexicon) -> None:
    said = (
        "Every patient had grade 1 cytokine release syndrome, and grade 3 neutropenia"
        " occurred in 4."
    )
    effects = side_effects(lexicon, "CD19 CAR-T in lupus", SERIES + said)
    assert "Everyone treated had CRS" in effects and "4 people had low blood counts" in effects


@pytest.mark.parametrize(
    ("said", "told", "not_told"),
    [
        # After the harm's own count, a graded count is a subgroup: 80% had CRS of any grade.
        ("CRS occurred in 80% (grade 3 or higher, 3%).", "80% of people had CRS", "severe"),
        ("The pooled rate of CRS was 64%, of grade 3 or higher CRS 2%.", "64% of people had CRS",
         "severe"),
        # Graded subgroups that add up to all of them give the range.
        ("CRS occurred in six patients (grade 1, n=5; grade 2, n=1).", "grade 1 or 2",
         "CRS, grade 1 ("),
    ],
)  # fmt: skip
def test_a_grade_with_its_own_count_is_a_subgroup(
    lexicon: Lexicon, said: str, told: str, not_told: str
) -> None:
    effects = side_effects(lexicon, "CD19 CAR-T in autoimmune disease", SERIES + said)
    assert told in effects and not_told not in effects


def test_a_pooled_incidence_is_what_happened_not_a_risk(lexicon: Lexicon) -> None:
    text = (
        "We searched three databases for studies of CAR T cells in autoimmune disease. The"
        " pooled incidence of cytokine release syndrome was 58% across 14 studies."
    )
    effects = side_effects(lexicon, "CAR-T in autoimmune disease: a meta-analysis", text)
    assert effects.startswith("58% of people had CRS")


# --------------------------------------------------------------------------- risks named


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Every minor risk a clause names, not only the first.
        ("Side effects can include fever, headache and tiredness.", "fever, headache or tiredness"),
        # An explainer's "possible side effects include", "may lead to", "in rare cases".
        ("Possible side effects include nausea, chills and, in rare cases, cytokine release"
         " syndrome.", "CRS"),
        ("The treatment may lead to low blood counts and infections for some months.",
         "low blood counts"),
    ],
)  # fmt: skip
def test_an_explainers_risks_are_risks_each_named(lexicon: Lexicon, text: str, names: str) -> None:
    page = "What is CAR-T? It changes your own immune cells in a lab. " + text
    effects = side_effects(lexicon, "What is CAR-T cell therapy?", page)
    assert effects.startswith("Possible side effects it names include") and names in effects
    assert "had" not in effects, "nobody is said to have had them"


# --------------------------------------------------------------------------- readable cards


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # A person with two diseases the card explains: Evans syndrome is both.
        ("My CAR-T story", "I have systemic sclerosis and myositis. I received CAR-T cells"
         " last year and had a mild fever. I can climb stairs again."),
        # A review of several diseases the card explains.
        ("CAR T cells in NMOSD and MOGAD: a systematic review", "We searched MEDLINE for"
         " reports of CAR T cells in neuromyelitis optica spectrum disorder and MOG antibody"
         " disease. Infections were reported in 12%."),
    ],
)  # fmt: skip
def test_two_diseases_to_explain_get_a_sentence_each(
    lexicon: Lexicon, title: str, text: str
) -> None:
    story = explain_story(title, text, lexicon=lexicon)
    assert not story.needs_editor, story.checks
    assert story.card.who_took_part.count(". ") >= 1
    assert all(sentence.count("(") <= 1 for sentence in story.card.who_took_part.split(". "))


# --------------------------------------------------------------------------- what it is


@pytest.mark.parametrize(
    ("title", "text", "regulator"),
    [
        # A regulator's advisory, in its own voice, on the product information of a class.
        ("Safety advisory: neurotoxicity with CAR T-cell therapies", "The Therapeutic Goods"
         " Administration (TGA) is advising health professionals that the Product Information"
         " for all CAR T-cell therapies is being updated with new warnings on parkinsonism.",
         "Australian regulator"),
        # A bulletin that names itself, not its agency, and warnings in the plural.
        ("CAR-T medicines: new warnings on infections", "Drug Safety Update, volume 20, issue"
         " 2. Serious and fatal infections have been reported after CAR-T cell medicines;"
         " report suspected reactions via the Yellow Card scheme.", "UK regulator"),
    ],
)  # fmt: skip
def test_a_regulators_safety_advisory_is_its_notice(
    lexicon: Lexicon, title: str, text: str, regulator: str
) -> None:
    story = explain_story(title, text, lexicon=lexicon)
    found = story.facts
    assert (found.study_type, found.source_kind) == ("regulatory", "regulator")
    assert story.card.headline.startswith(f"{regulator} safety warning")


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        # The decision is the headline's first claim; the money comes after it.
        ("Regulator clears IND for in vivo CAR-T in lupus as start-up eyes U.S. filing",
         "regulatory"),
        # A funding story that mentions a decision is news.
        ("Start-up raises $80 million after regulator clears IND for in vivo CAR-T", "news"),
    ],
)  # fmt: skip
def test_news_of_a_decision_is_regulatory_when_it_leads(
    lexicon: Lexicon, title: str, kind: str
) -> None:
    text = (
        "China's National Medical Products Administration has cleared an IND for a CD19"
        " in vivo CAR-T in lupus, the company said on Tuesday. It raised $80 million."
    )
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == (kind, "news site")


def test_an_assay_of_treated_peoples_samples_is_a_lab_study_though_it_names_their_crs(
    lexicon: Lexicon,
) -> None:
    text = (
        "We performed flow cytometry and T-cell receptor sequencing on blood and bone"
        " marrow samples from three patients with myasthenia gravis who received the"
        " autologous anti-BCMA CAR T-cell product XY-22. CAR T cells expanded by day 10 in"
        " all three, and plasma cells became undetectable. Two had grade 1 CRS."
    )
    found = facts(lexicon, "BCMA CAR T cells deplete marrow plasma cells in myasthenia", text)
    assert (found.study_type, found.treated_n) == ("lab study", 3)


def test_a_pilot_study_that_analyses_samples_stays_a_case_series(lexicon: Lexicon) -> None:
    text = (
        "We analysed serum from six patients with myositis who received CD19 CAR T cells"
        " in a pilot study. Creatine kinase normalised in five. Grade 1 cytokine release"
        " syndrome occurred in four patients."
    )
    assert facts(lexicon, "CD19 CAR-T in myositis: a pilot study", text).study_type == "case series"


def test_a_results_rarely_is_what_happened_not_a_risk(lexicon: Lexicon) -> None:
    said = "Cytokine release syndrome occurred in 9 and rarely lasted more than two days."
    assert "9 people had CRS" in side_effects(lexicon, "CD19 CAR-T in lupus", SERIES + said)


# --------------------------------------------------------------------------- a count of zero


@pytest.mark.parametrize(
    "said",
    [
        "There were 0 deaths.",
        "There were zero deaths.",
        "Deaths: 0.",
        "Infections: 2; deaths: 0.",
        "No patient died.",
    ],
)
def test_a_count_of_zero_deaths_says_nobody_died(lexicon: Lexicon, said: str) -> None:
    effects = side_effects(lexicon, "CAR-T in lupus", SERIES + said + " CRS was grade 1 in 4.")
    assert "Nobody died." in effects
    assert "Deaths were reported" not in effects


@pytest.mark.parametrize(
    "said",
    ["ICANS (0%) and CRS (40%) were recorded.", "ICANS occurred in 0 of 10; CRS in 4 of 10.",
     "0 patients had ICANS; CRS occurred in 4."],
)  # fmt: skip
def test_a_harm_counted_as_zero_is_one_nobody_had(lexicon: Lexicon, said: str) -> None:
    effects = side_effects(lexicon, "CAR-T in lupus", SERIES + said)
    assert "Nobody had ICANS" in effects and "had CRS" in effects


@pytest.mark.parametrize(
    "said",
    ["Patients received 1.0 x 10^6 cells/kg. CRS occurred in 4.",
     "Cells were given on day 0. CRS occurred in 4 patients on day 2.",
     "Grade 0-1 CRS occurred in 4 patients."],
)  # fmt: skip
def test_a_zero_that_is_a_dose_a_day_or_a_grade_is_no_count(lexicon: Lexicon, said: str) -> None:
    effects = side_effects(lexicon, "CAR-T in lupus", SERIES + said)
    assert "4 people had CRS" in effects and "Nobody had CRS" not in effects
