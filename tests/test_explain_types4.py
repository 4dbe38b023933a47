"""Story-card facts from the fourth round of phrasings (tests/data/stories_dev.jsonl,
dev-251 onward, written by annotators who never saw the extractor): how news teasers,
newswire releases, patients' and relatives' own stories, regulators' notices and
database entries, lab work on patients' cells and samples say what they are, and how
regulators and explainers name harms. Each example is written here, one per family.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.explain.checks import explain_story
from carnews.explain.facts import Facts, extract_facts


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def facts(lexicon: Lexicon, title: str, text: str) -> Facts:
    return extract_facts(title, text, lexicon=lexicon)


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


# --------------------------------------------------------------------------- regulators


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
