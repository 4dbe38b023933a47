"""The story card's facts: study type, source kind, counts, target, product, harms.

Each test is a small source a reader would recognise and the fact a patient needs
from it; the traps are the ones real abstracts set (background cohorts, reviews that
mention mouse work, "no CRS above grade 1", a company's news that names the FDA).
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.facts import Facts, extract_facts
from carnews.explain.plain import acronyms, number_value, numbers_in


def facts(lexicon: Lexicon, title: str, text: str, **labels: object) -> Facts:
    return extract_facts(title, text, lexicon=lexicon, **labels)  # type: ignore[arg-type]


REVIEW_WITH_MICE = (
    "CD19 CAR T cells cleared B cells in lupus-prone mice and in a first patient. In this "
    "review we summarise clinical data in systemic lupus erythematosus and systemic sclerosis "
    "and discuss patient selection, lymphodepletion and vaccination."
)


def test_a_review_that_mentions_preclinical_work_in_its_background_is_a_review(
    lexicon: Lexicon,
) -> None:
    found = facts(lexicon, "CAR T cells for autoimmune disease", REVIEW_WITH_MICE)
    assert found.study_type == "review"
    assert found.treated_n is None, "a review treats nobody itself"


def test_a_mouse_study_is_a_lab_study(lexicon: Lexicon) -> None:
    text = ("We generated murine CD19 CAR T cells and transferred them into MRL/lpr mice with "
            "nephritis. Proteinuria resolved.")  # fmt: skip
    found = facts(lexicon, "CD19 CAR T cells reverse nephritis in lupus-prone mice", text)
    assert (found.study_type, found.treated_n, found.target) == ("lab study", None, "CD19")


def test_one_treated_person_is_a_case_report_however_the_text_says_it(lexicon: Lexicon) -> None:
    for text in (
        "We report a 41-year-old man with antisynthetase syndrome. He received CD19 CAR T cells.",
        "A 34-year-old woman had three crises. She received autologous CD19 CAR T cells.",
        "To the Editor: We treated a 23-year-old woman with refractory SLE with teclistamab.",
    ):
        found = facts(lexicon, "CAR-T in refractory disease", text)
        assert (found.study_type, found.treated_n) == ("case report", 1), text


def test_the_count_treated_comes_from_the_work_not_the_background(lexicon: Lexicon) -> None:
    text = (
        "Background: Earlier cohorts of 186 patients received CD19 CAR T cells. Methods: We "
        "followed eight patients treated under compassionate use. Results: All eight patients "
        "reached DORIS remission by month 6."
    )
    found = facts(lexicon, "CD19 CAR T cells in lupus", text)
    assert (found.study_type, found.treated_n) == ("case series", 8)
    assert "eight patients" in found.trace["treated_n"]


def test_people_counted_in_two_groups_are_added_and_x_of_y_gives_the_total(
    lexicon: Lexicon,
) -> None:
    two_groups = ("We treated one patient with myositis and two patients with systemic "
                  "sclerosis with donor CD19 CAR T cells.")  # fmt: skip
    assert facts(lexicon, "Donor CAR-T", two_groups).treated_n == 3
    news = ("Kyverna said four of six patients with lupus nephritis reached a complete renal "
            "response, analysts said.")  # fmt: skip
    found = facts(lexicon, "Kyverna's lupus CAR-T posts responses", news)
    assert (found.study_type, found.source_kind, found.treated_n) == ("news", "news site", 6)


def test_phase_is_read_from_the_title_or_this_works_own_sentence(lexicon: Lexicon) -> None:
    found = facts(lexicon, "Anti-CD19 CAR T cells in rheumatoid arthritis: a phase 1b/2a study",
                  "Three patients received CD19 CAR T cells.")  # fmt: skip
    assert found.study_type == "phase 1/2"
    planned = facts(lexicon, "CD19 CAR T cells in lupus",
                    "We treated six patients. A phase 3 trial is planned.")  # fmt: skip
    assert planned.study_type == "case series", "a planned trial is not this work's phase"


def test_pubmed_publication_types_and_registry_phases_win_over_the_text(lexicon: Lexicon) -> None:
    text = "We treated six patients with lupus with CD19 CAR T cells."
    typed = facts(
        lexicon, "CAR-T in lupus", text, publication_types=["Journal Article", "Case Reports"]
    )
    assert typed.study_type == "case report"
    assert facts(lexicon, "CAR-T in lupus", text, phases=["PHASE1", "PHASE2"]).study_type == (
        "phase 1/2"
    )
    preprint = facts(lexicon, "CAR-T in lupus", text, publication_types=["Preprint"])
    assert preprint.source_kind == "preprint"


def test_a_registry_record_is_a_trial_registration_with_its_phase_and_status(
    lexicon: Lexicon,
) -> None:
    text = ("Brief Summary: This study will test KYV-101, an autologous CD19 CAR T-cell "
            "therapy, in lupus nephritis. Phase: PHASE1 | PHASE2. Overall status: RECRUITING. "
            "Estimated enrollment: 36.")  # fmt: skip
    found = facts(lexicon, "A Study of KYV-101 in Lupus Nephritis", text)
    assert (found.study_type, found.source_kind, found.phase) == (
        "trial registration", "trial registry", "phase 1/2")  # fmt: skip
    assert (found.treated_n, found.planned_n, found.recruiting) == (None, 36, "recruiting")
    assert found.product == "autologous CAR-T"


def test_source_kinds(lexicon: Lexicon) -> None:
    preprint = facts(lexicon, "CAR-T in MS", "We treated five patients. This preprint has not "
                     "been peer reviewed.")  # fmt: skip
    assert preprint.source_kind == "preprint"
    regulator = facts(
        lexicon,
        "FDA grants RMAT designation to CAR-T for lupus",
        "The U.S. Food and Drug Administration has granted RMAT designation.",
    )
    assert (regulator.source_kind, regulator.study_type, regulator.regulator) == (
        "regulator", "regulatory", "FDA")  # fmt: skip
    story = facts(lexicon, "'I got my life back': Maria's lupus", "She had a fever, she says.")
    assert (story.study_type, story.treated_n) == ("patient story", 1)
    given = facts(lexicon, "CAR-T in lupus", "We treated six patients.",
                  source_kind="press release")  # fmt: skip
    assert given.source_kind == "press release"


def test_company_news_that_mentions_an_approval_is_news_not_regulatory(lexicon: Lexicon) -> None:
    text = ("Autolus presented the first data from a phase 1 study in lupus, the company said. "
            "Obe-cel was approved by the FDA last year for leukemia.")  # fmt: skip
    found = facts(lexicon, "Autolus reports first lupus data for its approved leukemia CAR-T",
                  text)  # fmt: skip
    assert found.study_type == "news"


def test_a_regulators_class_wide_safety_action_reported_by_news_is_regulatory(
    lexicon: Lexicon,
) -> None:
    """A boxed warning for every CAR-T product is not a study: nobody counted is 'treated'."""
    found = facts(
        lexicon,
        "FDA expands safety labelling on secondary T-cell cancers after CAR-T",
        "The US Food and Drug Administration has asked makers of approved CAR-T therapies "
        "to expand the boxed warning. A 2024 analysis found one T-cell lymphoma among 449 "
        "patients treated with commercial CAR-T products.",
        source_kind="news site",
    )
    assert (found.study_type, found.treated_n, found.regulator) == ("regulatory", None, "FDA")


@pytest.mark.parametrize(
    ("title", "text", "target", "product"),
    [
        ("Co-infusion of CD19- and BCMA-targeted CAR T cells", "", "CD19+BCMA", "CAR-T"),
        ("Allogeneic CD19 CAR-NK cells in lupus", "", "CD19", "CAR-NK"),
        (
            "iPSC-derived CNTY-101 in lupus",
            "We treated two patients with natural killer cells carrying a CD19 CAR.",
            "CD19",
            "CAR-NK",
        ),
        ("Blinatumomab in RA", "a CD19xCD3 bispecific T-cell engager", "CD19", "T-cell engager"),
        (
            "Descartes-08 in myasthenia gravis",
            "an mRNA CAR-T against B-cell maturation antigen",
            "BCMA",
            "mRNA CAR-T",
        ),
        ("DSG3-CAART in pemphigus", "", "DSG3", "CAAR-T"),
        (
            "Teclistamab in lupus",
            "CD20 antibodies had failed; she received BCMA×CD3 teclistamab.",
            "BCMA",
            "T-cell engager",
        ),
    ],
)
def test_target_and_product(lexicon: Lexicon, title: str, text: str, target: str,
                            product: str) -> None:  # fmt: skip
    found = facts(lexicon, title, text)
    assert (found.target, found.product) == (target, product)


def test_diseases_come_from_the_title_before_background_mentions(lexicon: Lexicon) -> None:
    text = "CAR-T put lupus into remission. We treated six patients with myositis."
    assert facts(lexicon, "CAR-T in refractory myositis", text).diseases == ("myositis",)


def test_follow_up_and_chemotherapy_first(lexicon: Lexicon) -> None:
    text = ("We treated 15 patients after fludarabine and cyclophosphamide. Results: Median "
            "follow-up was 15 months.")  # fmt: skip
    found = facts(lexicon, "CD19 CAR-T in lupus", text)
    assert (found.follow_up, found.chemo_first) == ("15 months", True)
    free = facts(lexicon, "mRNA CAR-T", "Given without lymphodepletion chemotherapy.")
    assert free.chemo_first is False


def harms_of(lexicon: Lexicon, text: str) -> dict[str, tuple[str, str | None, str | None]]:
    found = facts(lexicon, "CAR-T in lupus", text)
    return {h.kind: (h.status, h.grade or h.max_grade, h.count) for h in found.harms}


def test_negation_is_read_per_clause(lexicon: Lexicon) -> None:
    harms = harms_of(lexicon, "We treated 8 patients. Cytokine release syndrome was grade 1 in "
                     "five patients; there was no ICANS.")  # fmt: skip
    assert harms == {"crs": ("occurred", "1", "five"), "icans": ("none", None, None)}
    listed = harms_of(lexicon, "No cytokine release syndrome, neurotoxicity or graft-versus-host "
                      "disease occurred.")  # fmt: skip
    assert listed == {"icans": ("none", None, None), "crs": ("none", None, None)}


def test_at_most_grade_1_is_reported_as_crs_that_was_mild(lexicon: Lexicon) -> None:
    harms = harms_of(lexicon, "The patient had no cytokine release syndrome above grade 1.")
    assert harms["crs"] == ("occurred", "1", None)


def test_counts_belong_to_the_harm_they_stand_beside(lexicon: Lexicon) -> None:
    harms = harms_of(lexicon, "Grade 3 or higher cytokine release syndrome occurred in 2% and "
                     "ICANS in 3%.")  # fmt: skip
    assert harms["crs"] == ("occurred", "3 or higher", "2%")
    assert harms["icans"] == ("occurred", None, "3%")


def test_harms_named_only_as_risks_are_possible_and_serious_ones_come_first(
    lexicon: Lexicon,
) -> None:
    found = facts(lexicon, "CAR-T in lupus", "Side effects can include infection. One patient "
                  "died of pneumonia. Two patients had grade 1 CRS.")  # fmt: skip
    kinds = [(h.kind, h.status) for h in found.harms]
    assert kinds[0] == ("death", "occurred")
    assert ("crs", "occurred") in kinds
    # "died of pneumonia" is an infection that happened, which outranks the risk named.
    assert ("infection", "occurred") in kinds


def test_immune_thrombocytopenia_is_the_disease_not_a_low_blood_count(lexicon: Lexicon) -> None:
    assert "low blood counts" not in harms_of(lexicon, "Platelets rose in five of seven adults "
                                              "with immune thrombocytopenia.")  # fmt: skip


def test_stated_limitations(lexicon: Lexicon) -> None:
    text = "We treated three patients. Larger studies and longer follow-up are needed."
    assert facts(lexicon, "CAR-T in RA", text).limitations == ("larger", "longer")


def test_acronyms_are_expanded_from_the_sources_own_definitions() -> None:
    text = ("Neuromyelitis optica spectrum disorder (NMOSD) is rare. Plasma exchange (PLEX) "
            "helps. CAR T cells (CAR) were given.")  # fmt: skip
    assert acronyms(text) == {"NMOSD": "Neuromyelitis optica spectrum disorder",
                              "PLEX": "Plasma exchange"}  # fmt: skip


def test_numbers_in_words_and_digits() -> None:
    assert [number_value(w) for w in ("eight", "Twenty-six", "1,200", "most")] == [
        8, 26, 1200, None]  # fmt: skip
    assert numbers_in("Twenty-six of 1,200 people, 86.7%", words=True) == {"26", "1200", "86.7"}
