"""How many people a work treated, one test per way sources state it (the fourth round of
phrasings, dev-251 onward). The sentences are this file's own, written for each family:
dose-level lines, counts split by disease, funnels from screening to infusion, cohort
labels, the first participant dosed, a single person, a regulator's basis, a past count in
a sentence about plans, and the counts beside them that are not the people treated.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story, untraced_numbers
from carnews.explain.facts import extract_facts
from carnews.explain.plain import numbers_in


def treated_n(lexicon: Lexicon, title: str, text: str) -> int | None:
    return extract_facts(title, text, lexicon=lexicon).treated_n


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (
            "Methods: Adults with lupus received CD19 CAR T cells. Dose level 1: 3 patients;"
            " dose level 2: 4 patients; dose level 3: 3 patients. Results: Remission in 8 of"
            " 10.",
            10,
        ),
        (
            "Patients with myositis were dosed in a 3+3 design: cohort 1 (1 × 10^6/kg),"
            " 3 participants; cohort 2 (3 × 10^6/kg), 6 participants. All 9 had B-cell"
            " depletion.",
            9,
        ),
        (
            "Methods: Patients received CD19 CAR-T at 1 × 10^6/kg (n=4) or 3 × 10^6/kg (n=4)."
            " Results: All eight responded.",
            8,
        ),
    ],
)
def test_counts_per_dose_level_are_added_up(lexicon: Lexicon, text: str, count: int) -> None:
    assert treated_n(lexicon, "CD19 CAR-T dose escalation in lupus", text) == count


def test_counts_per_study_part_are_added_up(lexicon: Lexicon) -> None:
    text = (
        "Methods: In part A (dose escalation), 9 patients were dosed; in part B (expansion),"
        " 12 were dosed. Twenty-one patients in total."
    )
    assert treated_n(lexicon, "Phase 1 CD19 CAR-T in lupus", text) == 21


@pytest.mark.parametrize(
    "text",
    [
        # 2 + 3 = 5 people, but no 5 is printed: the card shows no number the source lacks.
        "Methods: Patients with lupus were dosed. DL1: two patients; DL2: three patients."
        " Results: CRS was mild and B cells were depleted in everyone.",
        "Methods: Patients with lupus (n=6) and with SSc (n=2) were treated.",
    ],
)
def test_a_sum_the_source_never_prints_gives_no_count(lexicon: Lexicon, text: str) -> None:
    # Not one of the parts either: "(n=6)" alone is not the number treated.
    assert treated_n(lexicon, "CD19 CAR-T dose escalation in lupus", text) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        # 3 + 1, printed as "all four".
        (
            "Results: Three patients with SLE were treated and a patient with lupus nephritis"
            " responded; all four are well.",
            4,
        ),
        # 2 + 1 is never printed: no number rather than 2.
        (
            "Results: Two patients with SLE treated with CAR-T (rese-cel) are in remission, and"
            " a patient with lupus nephritis had a renal response.",
            None,
        ),
        # One patient with a harm is not one more group.
        (
            "Results: Eight patients with SLE received CAR-T, and one patient with CRS needed"
            " tocilizumab.",
            8,
        ),
    ],
)
def test_one_more_patient_with_another_disease(
    lexicon: Lexicon, text: str, count: int | None
) -> None:
    assert treated_n(lexicon, "CD19 CAR-T in lupus", text) == count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (
            "Methods: We followed every patient treated at our centre since 2022 — a total of 12"
            " (lupus 6, systemic sclerosis 4, myositis 2) — for a median of two years.",
            12,
        ),
        (
            "We gave BCMA CAR T cells to a total of 11 patients: five with NMOSD, four with"
            " myasthenia gravis and two with MOGAD.",
            11,
        ),
        (
            "Patients with lupus (n=5) or systemic sclerosis (n=3) received CD19 CAR T cells"
            " after lymphodepletion. All 8 had complete B-cell depletion.",
            8,
        ),
    ],
)
def test_counts_split_by_disease_give_the_total(lexicon: Lexicon, text: str, count: int) -> None:
    assert treated_n(lexicon, "CD19 CAR-T in autoimmune disease", text) == count


@pytest.mark.parametrize(
    ("title", "text", "count"),
    [
        (
            "CD19 CAR-T in lupus",
            "Methods: In this phase 1 trial of 12 participants with"
            " refractory lupus, safety was the primary end point. Results: No ICANS.",
            12,
        ),
        ("CD19 CAR-T for lupus: a case series of 8 patients", "Remission was seen in most.", 8),
        ("CD19 CAR-T in lupus", "Patients: 7 (SLE 4, SSc 3). All received a single infusion.", 7),
        ("CD19 CAR-T in lupus", "Results: Ten were infused. CRS was mild.", 10),
        ("CD19 CAR-T in lupus", "Results: Twelve (12) patients were treated with CAR-T.", 12),
        ("CD19 CAR-T in lupus", "Results: The median age of the 8 treated patients was 46.", 8),
        ("CD19 CAR-T in lupus", "Results: Patients treated, n = 11; evaluable, n = 10.", 11),
        ("CD19 CAR-T in lupus", "Results: 8/10 patients reached remission after infusion.", 10),
    ],
)
def test_the_work_named_with_its_size(lexicon: Lexicon, title: str, text: str, count: int) -> None:
    assert treated_n(lexicon, title, text) == count


@pytest.mark.parametrize(
    ("title", "count"),
    [
        ("CAR-T therapy puts 8 lupus patients into drug-free remission", 8),
        ("Seven myasthenia patients improve after BCMA CAR-T", 7),
        ("CD19 CAR-T in refractory myositis (n=6): a case series", 6),
        ("Twelve patients with lupus treated with CAR-T remain in remission", 12),
    ],
)
def test_a_count_in_a_title_or_teaser(lexicon: Lexicon, title: str, count: int) -> None:
    assert treated_n(lexicon, title, "Doctors reported the results on Monday.") == count


@pytest.mark.parametrize(
    "title",
    [
        "CAR-T trial in lupus to enrol 24 patients",
        "More than 100 patients with autoimmune disease have now had CAR-T",
    ],
)
def test_a_title_with_a_plan_or_a_bound_gives_no_count(lexicon: Lexicon, title: str) -> None:
    assert treated_n(lexicon, title, "The company said so on Monday.") is None


def test_someone_elses_study_cited_by_an_explainer_is_no_count(lexicon: Lexicon) -> None:
    text = (
        "What have studies shown? In the first German study of 5 people, all went into"
        " remission. Larger trials are now running."
    )
    assert treated_n(lexicon, "CAR-T for lupus: what you need to know", text) is None


def test_a_labelled_list_of_disease_counts_is_added_when_printed(lexicon: Lexicon) -> None:
    text = (
        "Results: As of the data cut-off, infused: SLE 4, SSc 2. All six were off"
        " immunosuppressants at month 3."
    )
    assert treated_n(lexicon, "CD19 CAR-T in lupus and scleroderma", text) == 6


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Results: Screened/enrolled/infused: 14/11/9. CRS was grade 1 in four.", 9),
        ("Results: Enrolled/dosed: 7/6; one patient withdrew before lymphodepletion.", 6),
        (
            "Results: Twelve patients were enrolled in 2025. Eleven underwent leukapheresis and"
            " ten were infused; one product failed release.",
            10,
        ),
        (
            "Results: Twelve patients were enrolled in 2025. Ten were infused with CAR T cells"
            " by the data cut-off. CRS was grade 1 in four.",
            10,
        ),
        ("Of 16 patients screened, 12 were enrolled and 11 received CAR T cells.", 11),
        ("Results: The trial has enrolled 30 patients, 25 of whom have been dosed.", 25),
        ("Results: 18 patients were screened and 14 were enrolled and treated.", 14),
        ("Methods: Eighteen patients were enrolled and 16 underwent infusion.", 16),
        ("Results: Nineteen patients were eligible; 16 were treated.", 16),
        ("Results: Nine of the 10 enrolled patients were infused; one withdrew.", 9),
        ("Results: Of 20 referred patients, 15 were leukapheresed and 12 infused.", 12),
        ("Results: Enrolled, n = 10; infused, n = 8. CRS grade 1 in 3.", 8),
        ("Results: Thirteen patients were randomised: 9 to CAR-T and 4 to standard care.", 9),
    ],
)
def test_the_infused_count_beats_the_enrolled(lexicon: Lexicon, text: str, count: int) -> None:
    assert treated_n(lexicon, "CD19 CAR-T in myositis: a phase 1 study", text) == count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (
            "Methods: We reviewed patients with ITP who received CD19 CAR T cells at three"
            " centres. In this cohort (n=14), the median age was 41.",
            14,
        ),
        (
            "Methods: Patients (N = 6; 5 women) with refractory lupus received CAR T cells after"
            " fludarabine. Results: One patient had CMV reactivation treated with"
            " valganciclovir.",
            6,
        ),
    ],
)
def test_a_cohort_label_gives_the_count(lexicon: Lexicon, text: str, count: int) -> None:
    assert treated_n(lexicon, "CD19 CAR-T in autoimmune cytopenias", text) == count


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "BioCo doses first participant in phase 1 lupus trial of allogeneic CAR-T",
            "BioCo today said its trial in lupus is under way. The study plans to enrol 30.",
        ),
        (
            "BioCo starts lupus trial",
            "BOSTON -- BioCo announced that the first patient was"
            " dosed in its phase 1 study of a CD19 CAR-T in lupus nephritis. The trial will"
            " enrol up to 24 participants at six sites.",
        ),
        (
            "BioCo starts lupus trial",
            "BioCo said the first U.S. participant has been treated"
            " in its trial. Earlier studies in China gave the product to more than 30 people.",
        ),
    ],
)
def test_the_first_participant_dosed_is_one(lexicon: Lexicon, title: str, text: str) -> None:
    assert treated_n(lexicon, title, text) == 1


def test_enrolled_minus_withdrawn_unprinted_gives_no_count(lexicon: Lexicon) -> None:
    # Ten were infused, but the source never prints 10: no number rather than 12.
    text = "Results: Twelve participants were enrolled; two withdrew before infusion."
    assert treated_n(lexicon, "CD19 CAR-T in NMOSD: a phase 1 study", text) is None


def test_the_first_patient_of_a_cohort_is_not_a_count_of_one(lexicon: Lexicon) -> None:
    text = "Results: The first patient treated had grade 2 CRS. In all, ten patients were treated."
    assert treated_n(lexicon, "CD19 CAR-T in lupus: a phase 1 study", text) == 10


def test_a_count_in_the_text_beats_a_first_dose_in_the_title(lexicon: Lexicon) -> None:
    text = "BioCo said it has now dosed 5 patients in its lupus trial."
    assert treated_n(lexicon, "BioCo doses first patient in lupus CAR-T trial", text) == 5


def test_a_first_dose_still_to_come_is_no_count(lexicon: Lexicon) -> None:
    text = "BioCo expects to dose the first patient in its lupus trial in the third quarter."
    assert treated_n(lexicon, "BioCo clears IND for CD19 CAR-T in lupus", text) is None


@pytest.mark.parametrize(
    "text",
    [
        "A single patient with refractory myositis received the company's CAR-T and was off"
        " steroids by the summer, the firm said.",
        "Doctors in Berlin offered CAR-T made from her own cells. Lena had the infusion in"
        " March and left hospital ten days later.",
    ],
)
def test_one_person_singled_out_is_one(lexicon: Lexicon, text: str) -> None:
    assert treated_n(lexicon, "CAR-T brings remission in myositis", text) == 1


def test_a_group_is_not_one_person(lexicon: Lexicon) -> None:
    text = "Results: All six had the infusion without problems. Everyone improved."
    assert treated_n(lexicon, "CAR-T brings remission in myositis", text) == 6


@pytest.mark.parametrize(
    ("title", "text", "count"),
    [
        (
            "EMA grants PRIME eligibility to CD19 CAR-T for lupus",
            "The decision was based on preliminary data from 12 patients treated in a phase 1"
            " study. PRIME offers support to optimise development plans.",
            12,
        ),
        (
            "PRIME eligibility: anti-BCMA CAR T cells for myasthenia gravis",
            "Proposed indication: generalised myasthenia gravis. Basis: early clinical data from"
            " 9 patients showing potential to address an unmet need.",
            9,
        ),
        (
            "FDA places clinical hold on CAR-T lupus study",
            "The FDA paused the trial after a death. The study had dosed 5 patients before the"
            " hold.",
            5,
        ),
    ],
)
def test_a_regulator_cites_how_many_were_treated(
    lexicon: Lexicon, title: str, text: str, count: int
) -> None:
    assert treated_n(lexicon, title, text) == count


def test_a_class_wide_safety_action_counts_nobody(lexicon: Lexicon) -> None:
    text = (
        "The FDA requires a boxed warning on all BCMA- and CD19-directed CAR-T products"
        " after 22 cases of T-cell cancer among patients treated with them."
    )
    assert treated_n(lexicon, "FDA requires boxed warning for CAR-T products", text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The company will use the money to start a phase 2 trial after treating 16 patients"
        " with lupus in an investigator-led study.",
        "BioCo plans a pivotal study next year, having dosed 16 participants so far.",
    ],
)
def test_a_past_count_beside_plans_is_kept(lexicon: Lexicon, text: str) -> None:
    assert treated_n(lexicon, "BioCo raises $50M for lupus CAR-T", text) == 16


@pytest.mark.parametrize(
    "text",
    [
        "Its lead CAR-T has so far been given to five people with lupus in Australia.",
        "In an early study, the therapy was administered to 5 patients with lupus.",
    ],
)
def test_given_to_n_people_is_the_count(lexicon: Lexicon, text: str) -> None:
    assert treated_n(lexicon, "Drugmaker buys in vivo CAR-T developer", text) == 5


@pytest.mark.parametrize(
    ("text", "count"),
    [
        # Those still being enrolled are not yet treated.
        (
            "Methods: DL1: 3 patients; DL2: 3 patients. Four more patients are being enrolled at"
            " DL2. Results: All 6 had B-cell depletion.",
            6,
        ),
        # A drug given for a side effect is not the therapy.
        (
            "Methods: Patients with SSc received CD19 CAR T cells. Results: One patient had"
            " herpes zoster treated with aciclovir. Remission was reached in 4 of 5 patients.",
            5,
        ),
        # "Part of the cohort" names no study part.
        (
            "Methods: Patients with lupus received CAR-T. Results: Part of the cohort, 4"
            " patients, had mild CRS. Remission was reached in 6 of 7.",
            7,
        ),
        # Nor is one tried before the cells.
        (
            "Methods: Three patients were treated with belimumab before enrolment. Results:"
            " Eight patients received CAR T cells.",
            8,
        ),
        # People the cells were not given to.
        (
            "Methods: We compared 5 patients treated with CD19 CAR-T with 9 untreated patients"
            " and 4 healthy controls.",
            5,
        ),
        (
            "Results: Four patients treated with healthy donor-derived CD19 CAR T cells reached"
            " remission.",
            4,
        ),
        # A total beside the subgroups is not added to them.
        ("Methods: Patients (N=4) with ITP (n=3) or AIHA (n=1) received a single infusion.", 4),
        # Ages, doses and centres are not people.
        ("Methods: We treated 7 patients aged 25 to 61 at 3 centres with 1 × 10^6 cells/kg.", 7),
    ],
)
def test_counts_that_are_not_the_people_treated_are_passed_over(
    lexicon: Lexicon, text: str, count: int
) -> None:
    assert treated_n(lexicon, "CD19 CAR-T in autoimmune disease: a phase 1 study", text) == count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (
            "In 2022, doctors in Erlangen treated 5 lupus patients with CAR-T. Now BioCo has"
            " dosed 3 patients in its own trial.",
            3,
        ),
        (
            "Building on earlier work in which 15 patients were treated in Germany, BioCo said"
            " 6 patients received its CD19 CAR-T in the phase 1 study.",
            6,
        ),
        (
            "A previous report described 3 patients treated with CD19 CAR-T. Here we report 8"
            " further patients treated at our centre.",
            8,
        ),
        ("The trial, which will eventually enrol 30 people, has so far treated 4 participants.", 4),
    ],
)
def test_earlier_work_and_plans_beside_the_count_are_passed_over(
    lexicon: Lexicon, text: str, count: int
) -> None:
    assert treated_n(lexicon, "BioCo reports CD19 CAR-T data in lupus", text) == count


def test_the_card_prints_only_counts_the_source_prints(lexicon: Lexicon) -> None:
    text = (
        "Methods: Adults with lupus received CD19 CAR T cells. Enrolled/infused: 9/7."
        " Results: Remission in 5 of 7; CRS was grade 1 in two."
    )
    story = explain_story("CD19 CAR-T in lupus: a phase 1 study", text, lexicon=lexicon)
    assert story.facts.treated_n == 7
    shown = " ".join(story.card.sections().values())
    assert "7 people" in shown
    assert untraced_numbers(shown, numbers_in(text, words=True)) == []


# --------------------------------------------------------------------------- what was given


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Toxicity of CAR-T in autoimmune disease: a registry analysis",
            "Methods: All patients infused with CD19, BCMA or CD19-BCMA CAR T cells at four"
            " centres were included. Results: 30 patients were infused.",
        ),
        (
            "Cell therapies in rheumatology: a narrative review",
            "We review CD19 CAR T cells in lupus and BCMA CAR T cells in myasthenia gravis.",
        ),
    ],
)
def test_several_targets_for_different_products_name_none(
    lexicon: Lexicon, title: str, text: str
) -> None:
    assert extract_facts(title, text, lexicon=lexicon).target is None


def test_a_dual_car_keeps_both_targets(lexicon: Lexicon) -> None:
    facts = extract_facts(
        "A CD19/BAFF-R tandem CAR for lupus B cells",
        "We engineered a tandem CAR and tested it on B cells from patients with lupus.",
        lexicon=lexicon,
    )
    assert facts.target == "CD19+BAFF-R"


def test_a_citrullinated_target_is_named_by_its_protein(lexicon: Lexicon) -> None:
    facts = extract_facts(
        "CAR-Treg cells recognising citrullinated fibrinogen in rheumatoid arthritis",
        "Regulatory T cells were engineered to recognise citrullinated fibrinogen.",
        lexicon=lexicon,
    )
    assert facts.target == "citrullinated fibrinogen"


@pytest.mark.parametrize(
    ("text", "product"),
    [
        # Healthy donors as a comparison group are not where the cells came from.
        (
            "We sequenced blood from 6 patients with lupus treated with CD19 CAR T cells and"
            " from 8 healthy donors.",
            "CAR-T",
        ),
        (
            "Autologous T cells from 10 patients with SSc and from 5 age-matched healthy donors"
            " were transduced to make CD19 CAR T cells, and their killing was tested in vitro.",
            "autologous CAR-T",
        ),
        # Cells made from a healthy donor are.
        ("Eight patients received healthy donor-derived CD19 CAR T cells.", "allogeneic CAR-T"),
    ],
)
def test_healthy_donors_as_controls_are_no_cell_source(
    lexicon: Lexicon, text: str, product: str
) -> None:
    assert extract_facts("CD19 CAR T cells in lupus", text, lexicon=lexicon).product == product


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "CAR-T for lupus explained",
            "More than 50 people with lupus have been treated with"
            " CAR-T worldwide. Talk to your doctor.",
        ),
        ("BioCo starts lupus trial", "Up to 24 participants will receive a single infusion."),
        ("CAR-T side effects", "About 1 in 10 patients gets severe CRS after CAR-T."),
        (
            "Lupus charity news",
            "Our 5,000 members can now read about CAR-T trials in our new"
            " guide. Three trials are recruiting in the UK.",
        ),
        (
            "CAR-T in SSc: protocol",
            "Methods: Twelve patients will be enrolled and treated at two dose levels (n=6 each).",
        ),
    ],
)
def test_plans_bounds_and_other_numbers_give_no_count(
    lexicon: Lexicon, title: str, text: str
) -> None:
    assert treated_n(lexicon, title, text) is None


def test_a_text_saying_whose_cells_once_makes_the_product_specific(lexicon: Lexicon) -> None:
    text = (
        "Last year I joined a study where they take your own T cells and teach them to find"
        " B cells. After the infusion I had a fever for a day."
    )
    facts = extract_facts("My year after CAR-T for myasthenia gravis", text, lexicon=lexicon)
    assert facts.product == "autologous CAR-T"
