"""Story-card facts from the phrasings real feeds use, and the cards written from them.

Each source below is written the way PubMed abstracts, meeting abstracts, news sites and
regulators write (the second round of tests/data/stories_dev.jsonl brought them in): a
trial's name with a number in it, fewer people infused than enrolled, a placebo arm,
"(n = 24; …)", "we evaluated X in four patients", samples of treated people studied in
the lab, a reporter retelling a paper, a regulator's class-wide warning, and a
regulator's decision about a blood cancer in a story that also names lupus.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.card import write_card
from carnews.explain.checks import explain_story
from carnews.explain.facts import Facts
from carnews.explain.plain import numbers_in
from tests.helpers import facts

# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("text", "treated"),
    [
        # A trial's name is not a count of people.
        ("Interim data from the KYSA-6 trial showed that eight patients with myasthenia gravis"
         " treated with CD19 CAR T cells improved, Kyverna said.", 8),
        # Those infused, not those enrolled or collected.
        ("Methods: Seven patients with IgG4-related disease underwent leukapheresis; six were"
         " infused with CD19 CAR T cells and one withdrew.", 6),
        ("Results: Of 11 patients enrolled, 10 received CD19 CAR T cells; one was withdrawn.", 10),
        ("Findings: Of 36 participants randomised, 20 received Descartes-08 and 16 received"
         " placebo.", 20),
        # The count given only as "n = 24" inside a bracket with more in it.
        ("Methods: All patients who received CD19 CAR T cells at our centre were included"
         " (n = 24; lupus 12, systemic sclerosis 6, myositis 6).", 24),
        ("We evaluated teclistamab, a BCMA×CD3 T-cell engager, in four patients with systemic"
         " sclerosis.", 4),
        ("Methods: This retrospective registry analysis included every patient given CD19 CAR T"
         " cells. Results: Fifty-one patients (lupus 24, myositis 12, other 15) were analysed.",
         51),
    ],
)  # fmt: skip
def test_the_count_treated_is_read_from_the_phrasings_real_abstracts_use(
    lexicon: Lexicon, text: str, treated: int
) -> None:
    found = facts(lexicon, "CD19 CAR T cells in autoimmune disease", text)
    assert found.treated_n == treated
    assert found.study_type != "review", "a count of treated people makes it clinical"


SAMPLES = (
    "We measured vaccine antibodies in serum samples from 14 patients with SLE who had"
    " received CD19 CAR T cells. Titres against tetanus and measles stayed protective."
)


def test_samples_of_treated_people_studied_in_the_lab_are_a_lab_study(lexicon: Lexicon) -> None:
    found = facts(lexicon, "Vaccine immunity after CD19 CAR T cells in lupus", SAMPLES)
    assert (found.study_type, found.treated_n) == ("lab study", 14)


def test_a_clinical_report_that_also_studies_samples_stays_clinical(lexicon: Lexicon) -> None:
    text = SAMPLES + " Grade 1 cytokine release syndrome occurred in four patients."
    found = facts(lexicon, "CD19 CAR T cells in lupus: a pilot study", text)
    assert (found.study_type, found.treated_n) == ("case series", 14)


def test_a_review_that_never_says_we_review_is_a_review(lexicon: Lexicon) -> None:
    text = (
        "Antibody-mediated neurological diseases are often only partly controlled by CD20"
        " antibodies. This article outlines the rationale for deeper B-cell depletion and"
        " summarises early experience with CAR T cells. Mouse models are considered briefly."
    )
    assert facts(lexicon, "B-cell depletion in neuroimmunology", text).study_type == "review"


# --------------------------------------------------------------------------- source kind


def test_a_reporter_retelling_a_paper_is_news(lexicon: Lexicon) -> None:
    text = (
        "Eight of 10 patients with refractory myositis had a major clinical response after a"
        " single infusion of CD19 CAR T cells, according to a case series published in"
        " Arthritis & Rheumatology. The findings need confirmation, the authors wrote."
    )
    found = facts(lexicon, "CD19 CAR-T tames refractory myositis in small series", text)
    assert (found.source_kind, found.study_type, found.treated_n) == ("news site", "news", 10)


def test_a_regulators_class_wide_warning_is_the_regulators_own_notice(lexicon: Lexicon) -> None:
    title = ("FDA requires boxed warning for T cell malignancies following BCMA- and"
             " CD19-directed autologous CAR T cell immunotherapies")  # fmt: skip
    text = ("The U.S. Food and Drug Administration has determined that new boxed warnings are"
            " needed for all approved BCMA- and CD19-directed CAR T cell products.")  # fmt: skip
    found = facts(lexicon, title, text)
    assert (found.source_kind, found.study_type) == ("regulator", "regulatory")
    assert found.target is None, "a class of products, not one therapy's target"


def test_a_product_named_only_by_its_code_is_known_by_its_kind(lexicon: Lexicon) -> None:
    text = "Eight patients with myasthenia gravis treated with KYV-101 improved, Kyverna said."
    assert facts(lexicon, "Kyverna posts interim data", text).product == "CAR-T"


# --------------------------------------------------------------------------- harms


def kinds(found: Facts) -> dict[str, str]:
    return {harm.kind: harm.status for harm in found.harms}


def test_harms_in_the_words_abstracts_use(lexicon: Lexicon) -> None:
    text = (
        "We treated two women with dermatomyositis. One had cytomegalovirus reactivation, which"
        " was treated. One had grade 3 thrombocytopenia."
    )
    found = kinds(facts(lexicon, "CAR T cells in dermatomyositis", text))
    assert found["infection"] == "occurred" and found["low blood counts"] == "occurred"


def test_the_disease_immune_thrombocytopenia_is_not_a_harm(lexicon: Lexicon) -> None:
    text = "We treated five patients with refractory immune thrombocytopenia with CAR T cells."
    assert "low blood counts" not in kinds(facts(lexicon, "CAR-T in ITP", text))


def test_a_boxed_warning_names_possible_harms_not_ones_that_happened(lexicon: Lexicon) -> None:
    text = (
        "The FDA has approved obe-cel for adults with B-cell acute lymphoblastic leukemia,"
        " Autolus said. It carries a boxed warning for cytokine release syndrome and neurologic"
        " toxicities."
    )
    found = facts(lexicon, "FDA approves obe-cel for leukemia", text)
    assert kinds(found) == {"crs": "possible", "icans": "possible"}


# --------------------------------------------------------------------------- the card

CANCER_DECISION = (
    "FDA approves obe-cel for adults with relapsed B-cell acute lymphoblastic leukemia",
    "The FDA has approved obecabtagene autoleucel (obe-cel) for adults with relapsed or"
    " refractory B-cell acute lymphoblastic leukemia, Autolus Therapeutics said. Autolus is also"
    " testing obe-cel in lupus nephritis and expects initial data next year.",
)


def test_a_decision_about_a_blood_cancer_is_not_told_as_one_about_lupus(lexicon: Lexicon) -> None:
    story = explain_story(*CANCER_DECISION, lexicon=lexicon)
    card = story.card
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "news site")
    assert not story.needs_editor
    assert card.headline == "US regulator decision on CAR-T for a cancer, not for lupus"
    assert "decision on CAR-T for lupus" not in card.headline
    assert "a cancer, not in lupus" in card.who_took_part
    assert "approved it for a cancer" in card.what_happened
    assert "does not make the treatment available for lupus" in card.what_it_means


def test_a_decision_about_lupus_is_still_told_as_one(lexicon: Lexicon) -> None:
    title = "FDA grants RMAT designation to CD19 CAR T-cell therapy for lupus nephritis"
    text = ("The FDA has granted Regenerative Medicine Advanced Therapy designation to an"
            " autologous CD19 CAR T-cell therapy for refractory lupus nephritis.")  # fmt: skip
    card = explain_story(title, text, lexicon=lexicon).card
    assert card.headline == "US regulator decision on CAR-T for lupus"


def test_a_phase_in_roman_numerals_is_a_number_the_source_printed(lexicon: Lexicon) -> None:
    assert {"1", "2"} <= numbers_in("a phase Ib/IIa study")
    title = "mRNA CAR T cells in myasthenia gravis: a phase Ib/IIa study"
    text = (
        "Methods: This open-label phase Ib/IIa study enrolled adults with myasthenia gravis."
        " Fourteen participants received six weekly infusions. Findings: MG scores improved."
    )
    story = explain_story(title, text, lexicon=lexicon)
    assert story.facts.study_type == "phase 1/2" and not story.needs_editor
    assert "phase 1/2" in story.card.who_took_part


def test_people_with_several_diseases_are_told_in_two_short_sentences(lexicon: Lexicon) -> None:
    text = (
        "Methods: We treated 33 patients with myositis or systemic sclerosis with CD19 CAR T"
        " cells. Results: Most remained in remission."
    )
    found = facts(lexicon, "CD19 CAR T cells in autoimmune disease", text)
    card = write_card(found, text)
    # In the order the source names them.
    assert card.who_took_part.startswith("33 people were treated. They had myositis")


# --------------------------------------------------------------------------- what a card claims


def test_the_placebo_arms_share_is_not_the_treated_peoples(lexicon: Lexicon) -> None:
    text = (
        "Findings: Of 36 participants randomised, 20 received Descartes-08 and 16 received"
        " placebo. At month 3, 71% of the Descartes-08 group and 25% of the placebo group had"
        " a clinically meaningful improvement."
    )
    card = explain_story("Descartes-08 versus placebo in myasthenia gravis", text, lexicon=lexicon)
    assert card.card.what_happened.startswith("71% of people")


def test_how_much_a_score_improved_is_not_how_many_people_improved(lexicon: Lexicon) -> None:
    text = (
        "We report three patients with systemic sclerosis treated with teclistamab. Skin scores"
        " improved by more than 30% in all three by month 4."
    )
    card = explain_story("Teclistamab in systemic sclerosis", text, lexicon=lexicon).card
    assert "30%" not in card.what_happened
    assert card.what_happened == "All 3 people got better on the study's measures by month 4."


def test_a_lab_study_never_says_people_got_better(lexicon: Lexicon) -> None:
    text = (
        "We transferred CD19 CAR regulatory T cells into humanised mice with lupus. Anti-dsDNA"
        " antibodies fell by 70% and proteinuria improved in all mice."
    )
    card = explain_story("CAR-Tregs in a mouse model of lupus", text, lexicon=lexicon).card
    assert card.study_type == "lab study"
    assert card.what_happened == "The results come from lab work, not from treating people."


def test_a_bound_is_not_a_count_of_people_treated(lexicon: Lexicon) -> None:
    text = (
        "Doctors collect your own T cells and give them back. So far, fewer than 100 people with"
        " lupus worldwide have been treated, almost all in clinical trials."
    )
    found = facts(lexicon, "Lupus and CAR T-cell therapy: what you need to know", text)
    assert found.treated_n is None


def test_a_registry_records_harms_are_what_it_will_measure(lexicon: Lexicon) -> None:
    text = (
        "Brief Summary: This study will test CABA-201 in systemic sclerosis. Phase: Phase 1/Phase"
        " 2. Overall Status: Recruiting. Primary Outcome Measures: Incidence and severity of"
        " adverse events, including cytokine release syndrome and ICANS."
    )
    story = explain_story("A Phase 1/2 Study of CABA-201 in Systemic Sclerosis", text,
                          lexicon=lexicon)  # fmt: skip
    assert story.facts.study_type == "trial registration"
    assert {h.status for h in story.facts.harms} == {"possible"}
    assert (story.card.side_effects or "").startswith("Possible side effects it names include")


def test_a_harm_after_though_is_not_negated_by_the_clause_before(lexicon: Lexicon) -> None:
    text = (
        "Six people with lupus were treated with donor CAR-T cells. None had serious side"
        " effects, though two had a mild fever after the infusion."
    )
    found = kinds(facts(lexicon, "Six people with lupus in remission", text))
    assert found["other"] == "occurred"


def test_a_grade_belongs_to_the_harm_beside_it(lexicon: Lexicon) -> None:
    text = (
        "We enrolled 20 patients with myositis. Cytokine release syndrome occurred in 14 patients"
        " (all grade 1 or 2) and herpes zoster in one. One child had grade 2 neurotoxicity."
    )
    harms = {h.kind: h for h in facts(lexicon, "CAR T cells in myositis", text).harms}
    assert harms["crs"].grade == "1 or 2"
    assert harms["infection"].grade is None
    assert (harms["icans"].grade, harms["icans"].count) == ("2", "One")


@pytest.mark.parametrize(
    ("text", "study", "treated"),
    [
        ("INTRODUCTION: Lupus nephritis can be severe. MATERIALS AND METHODS: Twelve patients"
         " with refractory lupus nephritis received CD19 CAR T cells. RESULTS: Ten"
         " reached a complete renal response.", "case series", 12),
        ("Introduction: Stiff-person syndrome is rare. Case presentation: A 45-year-old woman"
         " with refractory disease received CD19 CAR T cells. Conclusion: She improved.",
         "case report", 1),
        # ACR's label marks a congress abstract, which names no phase here.
        ("Background/Purpose: Myositis can be hard to treat. Methods: Eight patients"
         " received CD19 CAR T cells. Results: Six improved.", "conference abstract", 8),
    ],
)  # fmt: skip
def test_the_section_labels_real_abstracts_use_start_the_work(
    lexicon: Lexicon, text: str, study: str, treated: int
) -> None:
    found = facts(lexicon, "CAR T cells in autoimmune disease", text)
    assert (found.study_type, found.treated_n) == (study, treated)


def test_a_rescue_medicine_given_to_some_is_not_the_count_treated(lexicon: Lexicon) -> None:
    text = "Eight patients were treated with CD19 CAR T cells; two received tocilizumab for CRS."
    assert facts(lexicon, "CAR T cells in lupus", text).treated_n == 8


def test_a_reporter_opening_on_according_to_is_news(lexicon: Lexicon) -> None:
    text = (
        "According to the study, all four patients with lupus nephritis had kidney responses"
        " after a single infusion of CD19 CAR T cells."
    )
    assert facts(lexicon, "Four lupus patients respond to CAR-T", text).source_kind == "news site"
