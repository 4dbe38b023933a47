"""Counts of people treated, one test per way sources state them (the sixth round of
phrasings, dev-451 onward). The sentences are this file's own, written for each family:
counts told over several sentences whose whole a later one prints ("Two further patients
followed … All five"), a whole printed only as "all three" or "both patients", a group
compared with the treated, a harm's "(n=2)", "among 12 lupus patients", "in the study, 9
patients"; and guards where no number may be shown ("a handful", "more than a dozen",
a whole never printed). Diseases: those of more people joining a cohort, and "autoimmune
disease" kept beside named ones only where some of the people's disease is left unnamed.
Targets and kinds: an antigen outside the table a CAR is aimed at ("anti-CD22", "PR3-directed"),
"their own modified T cells", an autologous transplant named as a comparator.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from tests.helpers import facts


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (
            "We treated adults with refractory myositis. The first received CD19 CAR T cells"
            " in 2022. Three further patients followed in 2023. All four regained muscle"
            " strength by month 6.",
            4,
        ),
        (
            "Two patients with lupus were treated in spring; two more received the cells in"
            " autumn. Of the 4, none has relapsed.",
            4,
        ),
        (
            "Six patients were dosed at the low level, and an additional three received the"
            " high dose. Grade 1 CRS occurred in 4/9 (44%).",
            9,
        ),
        (
            "Doctors gave the cells to patients with lupus, myositis and vasculitis, one"
            " patient each, plus a fourth with scleroderma. Two of the four stopped all"
            " other medicines.",
            4,
        ),
    ],
)
def test_a_count_told_in_parts_takes_the_whole_a_later_sentence_prints(
    lexicon: Lexicon, text: str, count: int
) -> None:
    assert facts(lexicon, "CD19 CAR-T in autoimmune disease", text).treated_n == count


def test_a_cohort_joined_by_more_people_counts_the_whole(lexicon: Lexicon) -> None:
    text = (
        "The centre's first six patients have been joined by 14 more with lupus or myositis."
        " Of the 20, three have relapsed."
    )
    assert facts(lexicon, "Lupus CAR-T cohort grows", text).treated_n == 20


def test_a_part_with_no_whole_printed_keeps_the_count_printed(lexicon: Lexicon) -> None:
    # "further" with no later total: the card keeps what the sentence says, and does
    # not add up a whole the source never prints.
    text = (
        "Three patients received CD19 CAR T cells, and further data on their B cells were"
        " shown. All patients improved."
    )
    assert facts(lexicon, "CD19 CAR-T in lupus", text).treated_n == 3


def test_a_later_count_smaller_than_the_part_is_not_the_whole(lexicon: Lexicon) -> None:
    text = (
        "Eight patients received CD19 CAR T cells and two more were dosed in May."
        " All three with myositis improved."
    )
    assert facts(lexicon, "CD19 CAR-T in myositis", text).treated_n == 8


def test_all_three_is_the_count_where_no_number_stands_beside_treating(
    lexicon: Lexicon,
) -> None:
    text = (
        "We describe CD19 CAR T-cell therapy in teenagers with lupus nephritis, aged 13, 14"
        " and 17 years. All three reached complete renal response by month 6."
    )
    assert facts(lexicon, "CAR-T in childhood lupus", text).treated_n == 3


def test_both_patients_is_two(lexicon: Lexicon) -> None:
    text = (
        "We report CD19 CAR T-cell therapy in sisters with refractory lupus. Both patients"
        " stopped prednisone within three months."
    )
    assert facts(lexicon, "CAR-T in familial lupus", text).treated_n == 2


def test_all_of_a_time_span_is_not_a_count(lexicon: Lexicon) -> None:
    text = (
        "We describe CD19 CAR T-cell therapy in refractory lupus. B cells were absent in all"
        " 6 months of follow-up."
    )
    assert facts(lexicon, "CAR-T in lupus", text).treated_n is None


def test_a_comparison_group_is_not_added_to_the_treated(lexicon: Lexicon) -> None:
    text = (
        "We sequenced blood samples from seven patients with lupus who had received CD19 CAR"
        " T cells, and compared them with 15 healthy controls and 11 patients with lupus on"
        " standard therapy."
    )
    assert facts(lexicon, "B-cell repertoire after CAR-T in lupus", text).treated_n == 7


def test_a_harms_n_is_not_the_cohort(lexicon: Lexicon) -> None:
    text = (
        "Adults with refractory nephropathy received autologous CD19 CAR T cells. Adverse"
        " events: grade 1 CRS (n=3) and neutropenia (n=2)."
    )
    assert facts(lexicon, "CD19 CAR-T in membranous nephropathy", text).treated_n is None


def test_among_a_count_with_a_disease_word_before_the_people(lexicon: Lexicon) -> None:
    text = (
        "The company presented new data for its CD19 CAR-T. Among 12 lupus patients with a"
        " year of follow-up, 10 were in remission."
    )
    assert facts(lexicon, "Lupus CAR-T data", text).treated_n == 12


def test_in_the_study_names_the_studys_people(lexicon: Lexicon) -> None:
    text = (
        "A new report of CD19 CAR T cells in scleroderma adds to the evidence. In the study,"
        " 9 patients had softer skin at one year; in two patients autoantibodies returned."
    )
    assert facts(lexicon, "CAR-T in scleroderma", text).treated_n == 9


@pytest.mark.parametrize(
    "sentence",
    [
        "A handful of patients with lupus have received CD19 CAR T cells at the centre.",
        "More than a dozen patients with myositis have been treated with CAR T cells.",
    ],
)
def test_a_vague_count_shows_no_number(lexicon: Lexicon, sentence: str) -> None:
    assert facts(lexicon, "CAR-T in autoimmune disease", sentence).treated_n is None


def test_per_disease_counts_whose_sum_is_never_printed_show_no_number(
    lexicon: Lexicon,
) -> None:
    text = (
        "We followed patients treated with CD19 CAR T cells at two centres: lupus 9,"
        " myositis 4 and scleroderma 2. B cells returned after a median of 100 days."
    )
    assert facts(lexicon, "Late effects of CAR-T in autoimmunity", text).treated_n is None


def test_the_diseases_of_more_people_joining_a_cohort_are_the_works(lexicon: Lexicon) -> None:
    text = (
        "The centre's first six patients have been joined by 14 more with myositis or"
        " systemic sclerosis. Of the 20, three have relapsed."
    )
    found = facts(lexicon, "Lupus CAR-T cohort grows", text)
    assert set(found.diseases) == {"lupus", "myositis", "systemic sclerosis"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Lupus remissions lasted, and an engager given to 6 patients with refractory"
        " autoimmune disease depleted B cells.",
        "We analysed 40 patients (SLE 20, IIM 16, other 4) infused with CAR T cells.",
    ],
)
def test_people_with_an_unnamed_autoimmune_disease_keep_the_broad_term(
    lexicon: Lexicon, sentence: str
) -> None:
    title = "Cell therapy for autoimmune disease: registry update"
    text = f"Late effects of CAR T cells for autoimmune disease are little known. {sentence}"
    diseases = facts(lexicon, title, text).diseases
    assert "autoimmune disease" in diseases and "lupus" in diseases


def test_autoimmune_disease_listed_by_disease_is_not_kept_beside_them(lexicon: Lexicon) -> None:
    title = "Vaccine responses after CD19 CAR T-cell therapy in autoimmune disease"
    text = (
        "We measured vaccine titres in 12 patients with autoimmune disease treated at our"
        " centre (SLE n=8, SSc n=4). Tetanus titres were maintained."
    )
    found = facts(lexicon, title, text)
    assert "autoimmune disease" not in found.diseases
    assert set(found.diseases) == {"lupus", "systemic sclerosis"}


@pytest.mark.parametrize(
    ("title", "target"),
    [
        ("Anti-CD22 CAR T cells clear autoreactive B cells in a lupus model", "CD22"),
        ("Phase 1 study of PR3-directed CAR-Treg cells in ANCA vasculitis", "PR3"),
    ],
)
def test_an_antigen_a_car_is_aimed_at_is_its_target(
    lexicon: Lexicon, title: str, target: str
) -> None:
    assert facts(lexicon, title, "The cells were well tolerated.").target == target


def test_anti_inflammatory_names_no_target(lexicon: Lexicon) -> None:
    title = "Anti-inflammatory CAR T cells in arthritis"
    assert facts(lexicon, title, "The cells were well tolerated.").target is None


def test_own_modified_t_cells_are_autologous(lexicon: Lexicon) -> None:
    text = (
        "Participants will be given their own modified T cells after chemotherapy. Ten"
        " patients with lupus received the CAR-T so far."
    )
    assert facts(lexicon, "CAR-T trial in lupus", text).product == "autologous CAR-T"


def test_an_autologous_transplant_as_comparator_is_not_the_products_kind(
    lexicon: Lexicon,
) -> None:
    text = (
        "Eight patients with scleroderma received CD19 CAR T cells. Trials against"
        " autologous stem cell transplant will be needed."
    )
    assert facts(lexicon, "CAR-T in scleroderma", text).product == "CAR-T"


@pytest.mark.parametrize(
    "share",
    ["Autoantibodies cleared in 80% (4/5) by week 8.", "Grade 3 events: lymphopenia (5/5)."],
)
def test_a_shares_base_counts_the_people_where_nothing_else_does(
    lexicon: Lexicon, share: str
) -> None:
    text = f"Adults with refractory nephropathy received autologous CD19 CAR T cells. {share}"
    assert facts(lexicon, "CD19 CAR-T in membranous nephropathy", text).treated_n == 5


def test_a_shares_base_does_not_replace_a_printed_count(lexicon: Lexicon) -> None:
    text = (
        "Six patients received CD19 CAR T cells. Autoantibodies cleared in 75% (3/4) of"
        " those tested."
    )
    assert facts(lexicon, "CD19 CAR-T in nephropathy", text).treated_n == 6


def test_the_diseases_of_a_vague_count_are_the_works(lexicon: Lexicon) -> None:
    text = (
        "The CD19 CAR-T has now been given to more than a dozen patients with lupus and"
        " myositis, the company said, without giving a number."
    )
    found = facts(lexicon, "Biotech's lupus CAR-T shows early responses", text)
    assert found.treated_n is None
    assert set(found.diseases) == {"lupus", "myositis"}


def test_cells_from_patients_in_a_dish_are_not_people_treated(lexicon: Lexicon) -> None:
    text = (
        "We engineered MuSK-CAAR T cells and tested them in the laboratory. The cells"
        " reduced anti-MuSK IgG in PBMC cultures from 9 of 11 patients."
    )
    found = facts(lexicon, "MuSK-CAAR T cells in myasthenia gravis", text)
    assert found.treated_n is None
