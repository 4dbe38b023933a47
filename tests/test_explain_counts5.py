"""Counts, diseases, targets and product kinds, one test per way sources state them (the
fifth round of phrasings, dev-351 onward). The sentences are this file's own, written for
each family: corrections, arms beside a placebo, "of whom", those evaluable beside those
infused, a drug for a side effect named with a hyphenated dose, samples of people given an
engager; rivals' targets and products named after the work's own, a background antigen,
antibody receptors named by their antigen, engagers named by their drug name, whose cells
in a patient's words; and the diseases a work covers (autoimmune disease in general, a
class-wide warning, the people counted, plans and rivals, the order they are named in).
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from tests.helpers import facts


@pytest.mark.parametrize(
    "sentence",
    [
        "In the Results, “Nine patients were infused” should read “Eight patients were"
        " infused; one withdrew before infusion”.",
        "In Table 1, '9 patients were dosed' should have been '8 patients were dosed'.",
        "The sentence “nine participants received the cells” has been corrected to read"
        " “eight participants received the cells”.",
    ],
)
def test_a_correction_counts_what_the_text_should_read(lexicon: Lexicon, sentence: str) -> None:
    title = "Erratum: CD19 CAR T cells in refractory myositis"
    found = facts(lexicon, title, f"An error occurred in the article. {sentence}")
    assert found.treated_n == 8


def test_a_correction_does_not_hide_a_count_beside_advice(lexicon: Lexicon) -> None:
    text = "Ten patients received CD19 CAR T cells; they should be monitored for infections."
    assert facts(lexicon, "CD19 CAR-T in lupus", text).treated_n == 10


@pytest.mark.parametrize(
    "sentence",
    [
        "Of 30 randomised participants, 28 were treated (CAR-T, n=15; placebo, n=13).",
        "Patients were assigned to the CAR-T group (n = 15) or the standard-care group (n = 13).",
    ],
)
def test_only_the_arm_given_the_cells_is_counted(lexicon: Lexicon, sentence: str) -> None:
    title = "BCMA CAR-T versus placebo in myasthenia gravis: a randomised trial"
    assert facts(lexicon, title, f"Methods: {sentence} Results: MG-ADL fell.").treated_n == 15


@pytest.mark.parametrize(
    ("sentence", "count"),
    [
        (
            "Patients were assigned to low dose (n=5), high dose (n=5) or placebo (n=4); the"
            " 10 given CAR-T were followed for a year.",
            10,
        ),
        ("Patients were assigned to low dose (n=5), high dose (n=5) or placebo (n=4).", None),
    ],
)
def test_several_arms_given_the_cells_are_added_where_the_sum_is_printed(
    lexicon: Lexicon, sentence: str, count: int | None
) -> None:
    title = "BCMA CAR-T versus placebo in myasthenia gravis: a randomised trial"
    assert facts(lexicon, title, f"Methods: {sentence}").treated_n == count


def test_a_drug_for_a_side_effect_with_a_hyphenated_dose_is_not_the_therapy(
    lexicon: Lexicon,
) -> None:
    text = (
        "A patient in the trial of CD19 CAR-T for myasthenia gravis had grade 3 ICANS. The"
        " patient, a 64-year-old woman, was treated with high-dose steroids and recovered."
        " It was the first such event among the nine patients dosed so far."
    )
    assert facts(lexicon, "Neurotoxicity in a CAR-T trial", text).treated_n == 9


def test_the_antigen_named_first_is_the_works_not_a_rivals_pair(lexicon: Lexicon) -> None:
    text = (
        "The company's CD19 CAR-T improved skin scores in 10 patients with systemic"
        " sclerosis. Elsewhere at the meeting, academic groups showed BCMA-CD19 data."
    )
    found = facts(lexicon, "Company posts scleroderma data as rivals gather", text)
    assert found.target == "CD19"


def test_a_pair_named_first_stays_the_target(lexicon: Lexicon) -> None:
    text = "We treated 6 patients with BCMA-CD19 compound CAR T cells. CD19 alone failed before."
    assert facts(lexicon, "Compound CAR T cells in lupus", text).target == "CD19+BCMA"


@pytest.mark.parametrize(
    ("title", "antigen"),
    [
        ("NMDAR chimeric autoantibody receptor T cells in encephalitis models", "NMDAR"),
        ("PLA2R-CAAR T cells kill autoreactive B cells from nephropathy patients", "PLA2R"),
    ],
)
def test_an_antibody_receptor_takes_its_antigen_as_target(
    lexicon: Lexicon, title: str, antigen: str
) -> None:
    text = "The CAAR T cells lysed target B cells in vitro and spared other B cells."
    assert facts(lexicon, title, text).target == antigen


def test_a_hyphenated_citrullinated_protein_is_named(lexicon: Lexicon) -> None:
    title = "First Patient Dosed With a Citrullinated-Fibrinogen-Targeted CAR-Treg in RA"
    assert facts(lexicon, title, "The company dosed the first patient.").target == (
        "citrullinated fibrinogen"
    )


def test_a_rivals_cells_named_later_do_not_change_whose_cells(lexicon: Lexicon) -> None:
    text = (
        "The company said 12 patients with lupus have now received its autologous CD19 CAR-T."
        " A competitor is pursuing the same target with an allogeneic product."
    )
    assert facts(lexicon, "CAR-T race: lupus update", text).product == "autologous CAR-T"


def test_an_engager_named_after_the_works_car_t_is_a_rival(lexicon: Lexicon) -> None:
    text = (
        "The firm has dosed 20 patients with its CD19 CAR-T across lupus and myositis trials."
        " Its chief executive said there is room for both cell therapies and T-cell engagers."
    )
    assert facts(lexicon, "Firm's cell therapy reaches 20 patients", text).product == "CAR-T"


def test_an_engager_named_first_stays_the_works(lexicon: Lexicon) -> None:
    text = "We gave blinatumomab to 4 patients with arthritis; unlike CAR-T, it needs no chemo."
    assert facts(lexicon, "Off-label use in arthritis", text).product == "T-cell engager"


def test_healthy_donor_levels_are_a_comparison_not_the_cells_source(lexicon: Lexicon) -> None:
    text = (
        "We sequenced B cells from 6 patients treated with CD19 CAR T cells. Interferon"
        " scores fell to healthy-donor levels."
    )
    assert facts(lexicon, "B cells after CD19 CAR-T in lupus", text).product == "CAR-T"


@pytest.mark.parametrize(
    "sentence",
    [
        "They collected my T cells, reprogrammed them and gave them back to me.",
        "Doctors took her own immune cells and changed them in a lab.",
    ],
)
def test_whose_cells_in_a_patients_words(lexicon: Lexicon, sentence: str) -> None:
    text = f"Last spring I had CAR-T for myasthenia gravis. {sentence} I feel well."
    assert facts(lexicon, "My year after CAR-T", text).product == "autologous CAR-T"


def test_her_blood_counts_say_nothing_of_whose_cells(lexicon: Lexicon) -> None:
    text = "She had CAR-T for lupus in March. Her blood counts dropped for a week."
    assert facts(lexicon, "A year after CAR-T", text).product == "CAR-T"


@pytest.mark.parametrize(
    "title",
    [
        "CAR T cells in refractory autoimmune diseases: a systematic review",
        "T-cell engagers for autoimmune disease: where the field stands",
    ],
)
def test_a_review_of_autoimmune_disease_in_general_names_it_beside_the_diseases(
    lexicon: Lexicon, title: str
) -> None:
    text = (
        "In this review we summarise reports of B-cell depletion in autoimmune disease,"
        " among them case series in lupus, systemic sclerosis and myositis."
    )
    found = facts(lexicon, title, text)
    assert found.study_type == "review"
    assert found.diseases[0] == "autoimmune disease"
    assert set(found.diseases) == {"autoimmune disease", "lupus", "systemic sclerosis", "myositis"}


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (  # one kind of autoimmune disease, not autoimmune disease in general
            "CAR T cells in autoimmune rheumatic diseases: a review",
            "In this review we summarise autoimmune disease trials in lupus and myositis.",
        ),
        (  # a report of patients, not a review of the field
            "Outcomes after CD19 CAR-T in autoimmune disease",
            "Ten patients with lupus or myositis were followed for two years after CAR T cells.",
        ),
    ],
)
def test_autoimmune_disease_is_not_added_for_one_kind_or_a_report_of_patients(
    lexicon: Lexicon, title: str, text: str
) -> None:
    assert "autoimmune disease" not in facts(lexicon, title, text).diseases


def test_a_class_wide_safety_warning_studies_no_disease(lexicon: Lexicon) -> None:
    text = (
        "The FDA said all approved CAR-T products will carry a boxed warning on T-cell"
        " cancers. For companies testing CAR-T in lupus, the warning raises the bar."
    )
    found = facts(lexicon, "FDA requires boxed warning on all CAR-T therapies", text)
    assert found.study_type == "regulatory"
    assert found.diseases == ()


def test_the_disease_of_the_people_counted_joins_the_titles(lexicon: Lexicon) -> None:
    title = "A CD19 T-cell engager in lupus-prone mice and in patients"
    text = (
        "We treated MRL/lpr mice with a surrogate engager. We also analysed biopsies from"
        " four patients with rheumatoid arthritis who received blinatumomab."
    )
    assert facts(lexicon, title, text).diseases == ("lupus", "rheumatoid arthritis")


def test_features_listed_after_the_counted_peoples_disease_are_not_diseases(
    lexicon: Lexicon,
) -> None:
    title = "CD19 CAR T cells in refractory Sjögren's disease"
    text = (
        "We treated three patients with Sjögren's disease, including cutaneous vasculitis"
        " and neuropathy, with CD19 CAR T cells."
    )
    assert facts(lexicon, title, text).diseases == ("Sjögren's disease",)


def test_a_disease_named_only_under_a_background_label_is_the_works(lexicon: Lexicon) -> None:
    text = (
        "Hi all, I just had my last infusion in the trial. Background: 41M, generalised MG"
        " for 9 years, on pyridostigmine. My scores are much better now."
    )
    assert facts(lexicon, "Done with my infusions - AMA", text).diseases == ("myasthenia gravis",)


def test_diseases_come_in_the_order_the_source_names_them(lexicon: Lexicon) -> None:
    title = "CD19 CAR T cells in lupus, systemic sclerosis and myositis"
    text = "We treated 9 patients. Myositis and systemic sclerosis responded; lupus did too."
    assert facts(lexicon, title, text).diseases == ("lupus", "systemic sclerosis", "myositis")
    text = "We treated 5 patients with ITP and 3 with autoimmune haemolytic anaemia."
    found = facts(lexicon, "CD19 CAR-T in autoimmune cytopenias", text)
    assert found.diseases == ("immune thrombocytopenia", "autoimmune haemolytic anaemia")


def test_a_background_antigen_does_not_outrank_the_works_pair(lexicon: Lexicon) -> None:
    text = (
        "Background: CD19 CAR T cells induced remission in lupus. Methods: We treated 6"
        " patients with BCMA-CD19 compound CAR T cells. Results: All 6 responded."
    )
    assert facts(lexicon, "Compound CAR T cells in lupus", text).target == "CD19+BCMA"


def test_cd20_positive_cells_counted_are_not_the_target(lexicon: Lexicon) -> None:
    text = (
        "Objectives: To test blinatumomab, a CD19×CD3 engager, in arthritis. Methods: Five"
        " patients received it. Results: Synovial CD20+ B cells fell by 90%."
    )
    assert facts(lexicon, "Engager in arthritis", text).target == "CD19"


def test_a_kind_named_as_a_contrast_is_not_the_works(lexicon: Lexicon) -> None:
    text = (
        "Unlike autologous CAR-T, which takes weeks to make, the company's allogeneic"
        " CD19 CAR-T was given to 8 patients with lupus straight from the freezer."
    )
    assert facts(lexicon, "A new CAR-T in lupus", text).product == "allogeneic CAR-T"


@pytest.mark.parametrize(
    ("sentence", "count"),
    [
        ("The study enrolled 14 patients, of whom 11 have received CAR T cells.", 11),
        (
            "Twelve patients were evaluable for efficacy; all 15 infused were evaluable for"
            " safety.",
            15,
        ),
    ],
)
def test_those_given_the_cells_beside_a_subset_of_them(
    lexicon: Lexicon, sentence: str, count: int
) -> None:
    assert facts(lexicon, "CD19 CAR-T in lupus", f"Results: {sentence}").treated_n == count


def test_samples_of_people_given_an_engager_count_them(lexicon: Lexicon) -> None:
    text = (
        "We treated lupus-prone mice with a CD19×CD3 engager. We then analysed synovial"
        " biopsies from four patients with rheumatoid arthritis who received blinatumomab."
    )
    found = facts(lexicon, "Tissue B-cell depletion by a T-cell engager", text)
    assert found.treated_n == 4


@pytest.mark.parametrize(
    ("text", "antigen"),
    [
        ("Three patients with refractory RA received teclistamab with step-up dosing.", "BCMA"),
        ("Two patients with SSc were given blinatumomab by continuous infusion.", "CD19"),
        ("We gave teclistamab to two patients and mosunetuzumab to one.", None),
    ],
)
def test_an_engager_named_only_by_its_drug_name_takes_its_antigen(
    lexicon: Lexicon, text: str, antigen: str | None
) -> None:
    assert facts(lexicon, "Off-label engagers in arthritis", text).target == antigen


@pytest.mark.parametrize(
    "aside",
    [
        "The company will also test the cells in myositis next year.",
        "A rival reported data in systemic sclerosis last month.",
    ],
)
def test_plans_for_other_indications_and_rivals_data_are_not_the_works_diseases(
    lexicon: Lexicon, aside: str
) -> None:
    text = f"Doctors treated 7 people with lupus with the cells. {aside}"
    assert facts(lexicon, "A new cell therapy shows early results", text).diseases == ("lupus",)


def test_a_teaser_about_plans_keeps_its_disease(lexicon: Lexicon) -> None:
    text = "The company will present data from its myositis trial at the meeting."
    assert facts(lexicon, "Company to present CAR-T data", text).diseases == ("myositis",)
