"""Story-card facts from the fourth round of phrasings (tests/data/stories_dev.jsonl,
dev-251 onward, written by annotators who never saw the extractor): how news teasers,
newswire releases, patients' and relatives' own stories, regulators' notices and
database entries, lab work on patients' cells and samples say what they are, and how
regulators and explainers name harms. Each example is written here, one per family.
"""

from __future__ import annotations

from functools import partial

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story
from tests.helpers import facts, side_effects

# --------------------------------------------------------------------------- news


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # A teaser that names the phase of someone else's trial is not that trial's report.
        ("Acme Bio doses first patient in pivotal lupus study", "Acme Bio has dosed the first"
         " patient in the phase 3 part of its study of a CD19 CAR-T in lupus nephritis."),
        # A hospital newsroom's one-line teaser: no "company", no "said".
        ("Children's hospital opens CAR-T trial for myositis", "The hospital has begun"
         " enrolling children with juvenile dermatomyositis in a trial of CD19 CAR T cells."),
        ("CAR-T trial in myasthenia gravis now enrolling", "A trial of BCMA-directed CAR-T"
         " cells for generalised myasthenia gravis is now enrolling at six sites in Europe."),
    ],
)  # fmt: skip
def test_a_news_teaser_is_news_not_the_trial_it_names(
    lexicon: Lexicon, title: str, text: str
) -> None:
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == ("news", "news site")


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # A company's plan, in a headline's "to present" and a text's "will present".
        ("Acme Bio to present myositis data at EULAR", "Acme Bio will present new data from"
         " its phase 2 trial of a CD19 CAR-T in myositis at the EULAR congress in June."),
        # Money: a funding round is a story about a company, never an abstract.
        ("Start-up lands $60 million for in vivo CAR-T", "A Cambridge start-up making CAR-T"
         " cells inside the body closed a $60 million series A round to test it in lupus."),
        # A reporter retelling doctors' findings: "doctors in X report that".
        ("Lupus patients stay in remission after CAR-T", "Doctors in Berlin report that four"
         " more patients with lupus remain in remission a year after CD19 CAR-T."),
        # A study someone else did, in a reporter's present tense.
        ("New hope for people with NMOSD", "A new study suggests that a single infusion of"
         " BCMA CAR-T cells could keep NMOSD from relapsing for more than a year."),
        # A product's step through the phases, told of it: not that phase's report.
        ("Shanghai CAR-T for lupus enters phase 2", "A CD19 CAR-T made in Shanghai has entered"
         " phase 2 testing in people with refractory lupus."),
    ],
)  # fmt: skip
def test_company_plans_funding_and_retold_findings_are_news(
    lexicon: Lexicon, title: str, text: str
) -> None:
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == ("news", "news site")


def test_a_release_with_a_dated_dateline_is_the_companys_news_despite_its_we_treated(
    lexicon: Lexicon,
) -> None:
    # No wire named and no forward-looking paragraph: the dateline alone says what it is.
    text = (
        "BOSTON, March 3, 2026 -- Acme Bio today shared six-month data from its"
        ' study of a CD19 CAR-T in systemic sclerosis. "We treated eight patients and all'
        ' of them improved," the chief medical officer said.'
    )
    found = facts(lexicon, "Acme Bio shares six-month scleroderma data", text)
    assert (found.study_type, found.source_kind) == ("news", "press release")


# --------------------------------------------------------------------------- patients


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # A profile told in the third person: a first name and an age, "her CAR-T journey".
        ("From wheelchair to walking: a myositis patient's CAR-T journey", "Lena, a"
         " 38-year-old nurse, spent a year in a wheelchair. Last spring she joined a CAR-T"
         " trial in Heidelberg. Today she walks to work."),
        ("Tom's story", "Tom, 47, had myasthenia gravis for ten years before CAR-T."),
    ],
)  # fmt: skip
def test_a_profile_of_one_patient_is_a_patient_story(
    lexicon: Lexicon, title: str, text: str
) -> None:
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == ("patient story", "patient organisation")


def test_a_preprint_named_only_in_the_title_is_a_preprint(lexicon: Lexicon) -> None:
    text = "Four patients with IgG4-related disease received CD19 CAR T cells. All responded."
    found = facts(lexicon, "CD19 CAR-T in IgG4-related disease (medRxiv)", text)
    assert found.source_kind == "preprint"


def test_a_relatives_account_of_a_childs_treatment_is_a_patient_story(lexicon: Lexicon) -> None:
    text = (
        "When Leo was twelve, myositis left him unable to climb stairs, and we were told"
        " there was little left to try. Last spring he received CD19 CAR T cells in a trial."
        " Today he plays football again."
    )
    story = explain_story("Our son's year after CAR-T", text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == (
        "patient story", "patient organisation")  # fmt: skip
    assert "shares their own story" in story.card.who_took_part


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("What is CAR-T cell therapy? A guide for people with myositis", "CAR-T cell therapy"
         " takes a person's own T cells and changes them in a lab. Side effects can include"
         " cytokine release syndrome. Trials are running in Germany and the US."),
        ("CAR-T and lupus: frequently asked questions", "Is CAR-T approved for lupus? Not yet."
         " What are the risks? Cytokine release syndrome and infections."),
    ],
)  # fmt: skip
def test_an_explainer_or_question_page_is_a_patient_organisations_news_naming_risks(
    lexicon: Lexicon, title: str, text: str
) -> None:
    story = explain_story(title, text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("news", "patient organisation")
    # The answer to "What are the risks?" names risks: nobody is said to have had them.
    assert (story.card.side_effects or "").startswith("Possible side effects it names include")


# --------------------------------------------------------------------------- regulators


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Direct Healthcare Professional Communication: T-cell malignancies after CAR-T",
         "In agreement with the European Medicines Agency, the marketing authorisation holders"
         " inform prescribers that T-cell malignancies have been reported after CAR-T."),
        ("PRAC starts review of secondary malignancies with CAR-T medicines", "The EMA's safety"
         " committee (PRAC) has started a review of secondary T-cell malignancies after CAR T"
         " cell medicines."),
        # The German regulator's letter to prescribers, by its own name.
        ("PEI: Rote-Hand-Brief on CAR-T and second primary malignancies", "The"
         " Paul-Ehrlich-Institut informs that second primary malignancies have been reported"
         " after CAR T cell therapy."),
    ],
)  # fmt: skip
def test_a_regulators_letter_to_prescribers_or_safety_review_is_a_regulators_notice(
    lexicon: Lexicon, title: str, text: str
) -> None:
    story = explain_story(title, text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "regulator")
    assert "a new cancer" in (story.card.side_effects or "")


def test_a_regulators_database_entry_is_a_notice_not_a_trial_record(lexicon: Lexicon) -> None:
    text = (
        "Generic Name: autologous CD19 CAR T cells\n"
        "Date Designated: 02/11/2026\n"
        "Orphan Designation: Treatment of systemic sclerosis\n"
        "Orphan Designation Status: Designated\n"
        "FDA Orphan Approval Status: Not FDA Approved for Orphan Indication\n"
        "Sponsor: a biotechnology company"
    )
    story = explain_story("Orphan Drug Designation: CD19 CAR T cells", text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "regulator")
    assert "orphan drug status" in story.card.what_happened


def test_a_regulators_public_notice_of_a_proposed_status_says_it_is_not_yet_given(
    lexicon: Lexicon,
) -> None:
    text = (
        "Center for Drug Evaluation, NMPA\n"
        "Drug name: CD19 CAR-T cell injection\n"
        "Applicant: a Shanghai biotechnology company\n"
        "Proposed indication: refractory systemic lupus erythematosus\n"
        "Objections may be submitted within the publicity period."
    )
    title = "CDE public notice: proposed breakthrough therapy designation for CD19 CAR-T"
    story = explain_story(title, text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "regulator")
    assert "plans to give it" in story.card.what_happened


def test_a_reporters_account_of_a_clinical_hold_is_a_news_site_reporting_a_decision(
    lexicon: Lexicon,
) -> None:
    text = (
        "The FDA has put a phase 1 lupus trial of an in vivo CAR-T on hold after a serious"
        " adverse event, the developer disclosed in a securities filing on Tuesday."
    )
    story = explain_story("FDA places hold on in vivo CAR-T lupus study", text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "news site")
    assert "paused the trial" in story.card.what_happened


# --------------------------------------------------------------------------- harms


_effects = partial(side_effects, every_check=False)  # this round asked only for the harms


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # A regulator spells it "T cell malignancies", with no hyphen.
        ("FDA adds boxed warning to CAR T cell products", "The agency has received 14 reports"
         " of T cell malignancies in patients treated with BCMA- or CD19-directed CAR T cells."),
        ("Regulator updates CAR-T product information", "Patients should be monitored"
         " life-long for second primary malignancies after CAR T cell therapy."),
        # Myeloid cancers after BCMA products.
        ("FDA adds boxed warning for BCMA CAR-T", "The agency has required a boxed warning for"
         " myelodysplastic syndrome and acute myeloid leukaemia after BCMA-directed CAR-T."),
        # Only the headline names the harm; the text speaks of "new safety information".
        ("EMA committee recommends label warning on secondary malignancies after CAR-T",
         "The PRAC reviewed new safety information and recommended that the product"
         " information of all CAR T cell medicines be updated."),
    ],
)  # fmt: skip
def test_a_regulators_notice_of_secondary_cancers_gets_a_side_effects_section(
    lexicon: Lexicon, title: str, text: str
) -> None:
    assert "a new cancer" in _effects(lexicon, title, text)


def test_a_risk_a_rule_no_longer_guards_against_is_still_a_risk_not_an_absence(
    lexicon: Lexicon,
) -> None:
    text = (
        "The regulator decided that the programme is no longer needed to ensure that the"
        " benefits outweigh the risks of cytokine release syndrome and neurologic toxicities."
    )
    effects = _effects(lexicon, "FDA ends REMS for CAR T cell products", text)
    assert "Nobody had" not in effects
    assert "Possible side effects" in effects and "CRS" in effects and "ICANS" in effects


@pytest.mark.parametrize(
    "text",
    [
        "CAR-T products are approved for B-cell malignancies; this trial tests one in lupus.",
        "The trial enrols people with refractory autoimmune cytopenias.",
    ],
)
def test_the_cancers_a_product_is_approved_for_and_the_disease_treated_are_not_harms(
    lexicon: Lexicon, text: str
) -> None:
    assert facts(lexicon, "CAR-T trial opens", text).harms == ()


@pytest.mark.parametrize(
    ("said", "noun"),
    [
        ("I was very tired for two weeks afterwards.", "tiredness"),
        ("I felt dizzy the morning after the infusion.", "dizziness"),
        ("I was nauseous for a day after the chemo.", "nausea"),
        ("My skin was itchy for a week.", "itching"),
        ("I threw up twice on the second day.", "vomiting"),
    ],
)
def test_a_harm_told_as_an_adjective_or_verb_is_named_by_its_noun(
    lexicon: Lexicon, said: str, noun: str
) -> None:
    text = f"Anna, 34, received CD19 CAR T cells for lupus last year. {said} She is well now."
    effects = _effects(lexicon, "Anna's story", text)
    assert f"side effects such as {noun}" in effects


def test_a_patients_words_for_low_antibodies_are_read_and_falling_autoantibodies_are_not(
    lexicon: Lexicon,
) -> None:
    text = (
        "After the infusion my immunoglobulin levels got so low that I now need monthly"
        " IVIG, and I was tired for a while."
    )
    assert "low antibody levels" in _effects(lexicon, "My year after CAR-T", text)
    working = "Her anti-AChR antibody levels fell by 80% after CD19 CAR T cells."
    assert facts(lexicon, "CAR-T in myasthenia gravis", working).harms == ()


def test_neurological_symptoms_are_icans_only_where_side_effects_are_spoken_of(
    lexicon: Lexicon,
) -> None:
    risk = (
        "A trial of CAR-T cells in lupus is now enrolling. Possible side effects include"
        " cytokine release syndrome and neurological symptoms such as confusion."
    )
    assert "ICANS" in _effects(lexicon, "Lupus CAR-T trial now enrolling", risk)
    disease = "Neurological symptoms improved in both patients with multiple sclerosis."
    kinds = {h.kind for h in facts(lexicon, "CAR-T in multiple sclerosis", disease).harms}
    assert "icans" not in kinds


def test_a_manageable_safety_profile_reports_a_harm(lexicon: Lexicon) -> None:
    text = (
        "At 12 months, 7 of 8 patients were off immunosuppressants. The safety profile was"
        " manageable, the company said."
    )
    assert _effects(lexicon, "Company reports 12-month myositis data", text)


# --------------------------------------------------------------------------- lab, series, reviews


def test_cells_taken_from_untreated_patients_make_a_lab_study_that_treated_nobody(
    lexicon: Lexicon,
) -> None:
    text = (
        "Methods: T cells were isolated from 12 patients with myositis on azathioprine and"
        " from 4 healthy donors, transduced with a CD19 CAR and expanded for 9 days."
        " Results: Products from 11 of 12 patients met release criteria."
    )
    story = explain_story("Making CD19 CAR T cells from myositis patients", text, lexicon=lexicon)
    assert story.facts.study_type == "lab study"
    assert story.facts.treated_n is None
    assert "Nobody was treated" in story.card.who_took_part


def test_samples_of_people_never_given_the_therapy_count_nobody_treated(
    lexicon: Lexicon,
) -> None:
    text = (
        "We tested a BCMA CAR against plasma cells from 7 patients with lupus who had never"
        " received cell therapy."
    )
    found = facts(lexicon, "A BCMA CAR against lupus plasma cells", text)
    assert (found.study_type, found.treated_n) == ("lab study", None)


def test_an_assay_of_treated_patients_samples_is_a_lab_study_even_when_it_finds_low_antibodies(
    lexicon: Lexicon,
) -> None:
    text = (
        "We measured antibody titres to hepatitis B and mumps before and 6 months after CD19"
        " CAR T-cell therapy in 11 patients with lupus treated at our centre. Titres were"
        " kept in 10 of 11; total IgG fell below 4 g/L in 2 patients."
    )
    found = facts(lexicon, "Vaccine titres after CD19 CAR-T in lupus", text)
    assert (found.study_type, found.treated_n) == ("lab study", 11)
    assert [h.kind for h in found.harms] == ["low antibodies"]


def test_samples_of_treated_people_make_a_lab_study_even_when_nobody_is_counted(
    lexicon: Lexicon,
) -> None:
    text = (
        "T-cell receptor sequencing of blood samples collected from patients with myositis"
        " before and after CD19 CAR-T infusion showed diversification by month 6."
    )
    story = explain_story("TCR repertoire after CAR-T in myositis", text, lexicon=lexicon)
    assert story.facts.study_type == "lab study"
    assert "who had the treatment" in story.card.who_took_part
    assert "has not been tested in people" not in " ".join(story.card.unknowns)


def test_a_report_of_what_happened_to_people_is_a_case_series_when_the_count_is_not_read(
    lexicon: Lexicon,
) -> None:
    text = (
        "We used a donor-derived CD19 CAR T-cell product in a handful of patients with"
        " refractory myositis. There was no CRS and no ICANS. Creatine kinase normalised in"
        " all of them by month 3."
    )
    assert facts(lexicon, "Donor CAR T cells in myositis", text).study_type == "case series"


@pytest.mark.parametrize(
    "text",
    [
        "Here we summarize the emerging clinical experience with CAR-NK cells in lupus and"
        " systemic sclerosis, and the open questions about dosing.",
        "CAR-T cells have been given to people with myasthenia gravis in several centres."
        " Across reports, CRS has been mild.",
    ],
)
def test_a_review_that_says_it_summarises_or_pools_reports_stays_a_review(
    lexicon: Lexicon, text: str
) -> None:
    assert facts(lexicon, "CAR cells in autoimmunity", text).study_type == "review"


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("CAR-T cells in autoimmune disease: current status and future directions", "CAR T"
         " cells have transformed B-cell cancers. In lupus and myositis they have produced"
         " drug-free remissions. Durability and cost remain open questions."),
        ("CAR T cells for autoimmunity: hope or hype?", "Early reports of CD19 CAR T cells in"
         " lupus describe remission without immunosuppression. Here we weigh that evidence"
         " against the risks of CRS and infection."),
    ],
)  # fmt: skip
def test_a_review_known_by_its_title_or_voice_is_a_review(
    lexicon: Lexicon, title: str, text: str
) -> None:
    assert facts(lexicon, title, text).study_type == "review"


def test_work_in_monkeys_is_a_lab_study_whose_harms_are_the_animals(lexicon: Lexicon) -> None:
    text = (
        "CD19 CAR T cells were given to four cynomolgus macaques. B cells were absent from"
        " lymph nodes by day 14. One animal had a transient fever."
    )
    story = explain_story("CD19 CAR-T in non-human primates", text, lexicon=lexicon)
    assert story.facts.study_type == "lab study"
    effects = story.card.side_effects or ""
    assert "animal" in effects and "people" not in effects and "person" not in effects


def test_one_person_within_a_cohort_is_not_a_case_report(lexicon: Lexicon) -> None:
    text = (
        "Methods: We retrospectively reviewed patients with lupus who received CD19 CAR T"
        " cells at three centres. Results: All reached remission. One patient had grade 2"
        " CRS."
    )
    title = "CD19 CAR-T in lupus: a retrospective multicentre cohort"
    story = explain_story(title, text, lexicon=lexicon)
    assert story.facts.study_type == "case series"
    assert "A single person" not in story.card.who_took_part


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Eight patients with lupus were treated. Two developed hypogammaglobulinaemia"
         " needing replacement.", "2 people had low antibody levels"),
        ("Five patients with SSc were infused. One died of a heart attack at month 5.",
         "1 person died"),
    ],
)  # fmt: skip
def test_the_people_a_harm_happened_to_are_counted_where_the_noun_is_left_out(
    lexicon: Lexicon, text: str, said: str
) -> None:
    assert said in _effects(lexicon, "CD19 CAR-T in autoimmune disease", text)


def test_low_blood_pressure_is_named_as_a_side_effect(lexicon: Lexicon) -> None:
    text = "Six patients received CAR T cells. One had low blood pressure on day 3."
    assert "low blood pressure" in _effects(lexicon, "CAR-T in lupus", text)


def test_a_label_updates_neurological_harm_is_named(lexicon: Lexicon) -> None:
    text = (
        "The FDA approved a label update adding information about parkinsonism after BCMA CAR"
        " T cell therapy."
    )
    assert "parkinsonism" in _effects(lexicon, "FDA approves label update for a CAR-T", text)


def test_a_possible_side_effect_of_another_kind_is_named_by_itself(lexicon: Lexicon) -> None:
    text = "A trial of CAR-T for lupus is now enrolling. Side effects can include fever."
    effects = _effects(lexicon, "Lupus CAR-T trial now enrolling", text)
    assert effects == "Possible side effects it names include fever."


def test_a_patients_low_white_cells_are_low_blood_counts(lexicon: Lexicon) -> None:
    text = "'I had a fever for two days and my white cells were low for a month,' says Priya."
    assert "low blood counts" in _effects(lexicon, "Priya's story", text)


def test_a_trial_notice_for_readers_is_a_patient_organisations_news(lexicon: Lexicon) -> None:
    text = (
        "A phase 1 trial at a London hospital is looking for adults with refractory myositis."
        " Details are on the trial's listing."
    )
    found = facts(lexicon, "Trial opportunity: CAR-T for myositis", text)
    assert (found.study_type, found.source_kind) == ("news", "patient organisation")


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ("One patient had CMV viraemia on day 20.", "infections"),
        ("Two patients had transient elevation of liver enzymes.", "raised liver enzymes"),
        ("One patient had macrophage activation syndrome.", "HLH-like"),
        ("A squamous cell carcinoma of the skin was found in one patient at month 18.",
         "a new cancer"),
        # Every side effect of the other kind a clause names, not only the first.
        ("She had hair loss and fatigue.", "hair loss and fatigue"),
    ],
)  # fmt: skip
def test_harms_in_more_of_the_words_studies_use(lexicon: Lexicon, said: str, named: str) -> None:
    text = f"Eight patients with lupus received CD19 CAR T cells. {said}"
    assert named in _effects(lexicon, "CD19 CAR-T in lupus", text)


def test_how_much_weight_was_lost_is_not_how_many_lost_it(lexicon: Lexicon) -> None:
    text = (
        "We treated 20 lupus-prone mice with CD19 CAR T cells. Anti-dsDNA IgG fell by 70%."
        " Transient weight loss (up to 9%) was seen after the first dose, and two mice died."
    )
    effects = _effects(lexicon, "CD19 CAR-T in lupus-prone mice", text)
    assert "9%" not in effects and "people" not in effects and "person" not in effects
    assert "animals" in effects
    # The autoantibodies falling is the treatment working, not a harm.
    assert "antibody" not in effects


def test_one_person_described_by_age_is_a_case_report_of_one(lexicon: Lexicon) -> None:
    text = (
        "A 31-year-old woman with refractory lupus was referred for CD19 CAR T cells. She"
        " reached remission by month 3, and there was no CRS."
    )
    story = explain_story("Case 12-2026: a woman with refractory lupus", text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.treated_n) == ("case report", 1)
    assert story.card.who_took_part.startswith("A single person")


def test_a_review_that_asks_what_is_in_its_title_stays_a_journals_review(
    lexicon: Lexicon,
) -> None:
    text = "This review summarises current evidence on CD19 CAR T cells in lupus."
    found = facts(lexicon, "What is the place of CAR-T cells in lupus?", text)
    assert (found.study_type, found.source_kind) == ("review", "peer-reviewed journal")


def test_an_abstract_opening_on_an_adverb_and_a_count_is_not_a_profile(lexicon: Lexicon) -> None:
    text = "Here, 12 patients with lupus received CD19 CAR T cells. All reached remission."
    found = facts(lexicon, "CD19 CAR-T in lupus", text)
    assert (found.study_type, found.source_kind) == ("case series", "peer-reviewed journal")


def test_an_abstracts_funding_line_does_not_make_it_news(lexicon: Lexicon) -> None:
    text = (
        "Six patients with myositis received CD19 CAR T cells. All improved. Funding: this"
        " work was supported by a national research grant."
    )
    assert facts(lexicon, "CD19 CAR-T in myositis", text).source_kind == "peer-reviewed journal"


def test_an_answer_that_counts_whom_a_harm_happened_to_is_not_a_mere_risk(
    lexicon: Lexicon,
) -> None:
    text = (
        "Ten people with lupus were treated with CAR-T cells. Is it safe? Three patients had"
        " mild cytokine release syndrome."
    )
    assert _effects(lexicon, "CAR-T in lupus: is it safe?", text).startswith("3 people had CRS")


@pytest.mark.parametrize(
    "title",
    [
        "Swissmedic authorises first CAR-T trial in lupus",
        "MHRA approves clinical trial of CD19 CAR-T in multiple sclerosis",
    ],
)
def test_a_regulator_authorising_a_trial_lets_a_trial_start_it_approves_no_product(
    lexicon: Lexicon, title: str
) -> None:
    text = "The regulator has authorised a phase 1 trial of CD19 CAR T cells."
    story = explain_story(title, text, lexicon=lexicon)
    assert (story.facts.study_type, story.facts.source_kind) == ("regulatory", "regulator")
    assert "allowed a trial in people to start" in story.card.what_happened


@pytest.mark.parametrize(
    ("said", "effects"),
    [
        # A count of nobody after the harm is an absence, not a harm that happened.
        ("CRS occurred in 9, all grade 1; ICANS in none.", "Nobody had ICANS"),
        ("CRS: 9 patients (grade 1); ICANS: none.", "Nobody had ICANS"),
        # Only the serious ones were absent.
        ("There were no infections requiring hospitalisation.", "Nobody had severe infections"),
    ],
)  # fmt: skip
def test_what_did_not_happen_is_read_however_the_absence_is_put(
    lexicon: Lexicon, said: str, effects: str
) -> None:
    text = f"Twelve patients with lupus received CD19 CAR T cells. {said}"
    found = _effects(lexicon, "CD19 CAR-T in lupus", text)
    assert effects in found and "Some people had ICANS" not in found


def test_an_absent_death_reads_nobody_died(lexicon: Lexicon) -> None:
    text = "Ten patients with SSc received CD19 CAR T cells. There were no deaths and no ICANS."
    effects = _effects(lexicon, "CD19 CAR-T in SSc", text)
    assert "Nobody died." in effects and "had died" not in effects


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("CAR-T lupus results expected next year", "Results from the phase 2 trial of a CD19"
         " CAR-T in lupus nephritis are expected in the first half of 2026."),
        ("Pivotal CAR-T study in myasthenia completes enrollment", "Enrollment is complete in"
         " the phase 3 study of a CD19 CAR-T in myasthenia gravis, with topline data due in"
         " 2026."),
        ("Second patient dosed in CAAR-T study for pemphigus", "The second patient has been"
         " dosed in the phase 1 study of a DSG3 CAAR-T in mucosal pemphigus vulgaris."),
        ("Lupus CAR-T gets the go-ahead for phase 3", "The phase 3 study of a CD19 CAR-T in"
         " lupus nephritis can start next year."),
    ],
)  # fmt: skip
def test_a_teaser_on_a_trials_timeline_is_news_not_the_phase_it_names(
    lexicon: Lexicon, title: str, text: str
) -> None:
    found = facts(lexicon, title, text)
    assert (found.study_type, found.source_kind) == ("news", "news site")
