"""Congress abstracts: a report that names no phase is a "conference abstract", so the card
says it is preliminary; one that names its trial's phase keeps the phase."""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.facts import extract_facts
from carnews.explain.meeting import is_meeting_abstract

TITLE = "CD19 CAR T CELLS IN REFRACTORY ANCA-ASSOCIATED VASCULITIS"
RESULT = (
    "Methods: Five patients with refractory vasculitis received CD19 CAR T cells. "
    "Results: All five reached remission by month 3; two had grade 1 CRS."
)


@pytest.mark.parametrize(
    "mark",
    [
        " Disclosures: none.",
        " Disclosures: K. Author, Kyverna, 2, 5; L. Author, Novartis, 3.",
        " Disclosure of Interests: None declared.",
        " Abstract number: 1432.",
        " Poster session: cell therapy in autoimmunity.",
    ],
)
def test_a_case_series_given_at_a_meeting_is_a_conference_abstract(
    lexicon: Lexicon, mark: str
) -> None:
    facts = extract_facts(TITLE, RESULT + mark, lexicon=lexicon)
    assert facts.study_type == "conference abstract"
    assert facts.treated_n == 5


def test_acr_labels_mark_a_meeting_abstract(lexicon: Lexicon) -> None:
    text = "Background/Purpose: Vasculitis after rituximab is hard to treat. " + RESULT
    assert extract_facts(TITLE, text, lexicon=lexicon).study_type == "conference abstract"


def test_a_meeting_abstract_that_names_its_phase_keeps_the_phase(lexicon: Lexicon) -> None:
    text = (
        "Background/Purpose: RESET-SLE is an open-label phase 1/2 trial of a CD19 CAR T-cell "
        "therapy. " + RESULT + " Disclosures: A. Author, Cabaletta Bio, 2."
    )
    assert extract_facts(TITLE, text, lexicon=lexicon).study_type == "phase 1/2"


def test_a_journal_abstract_without_those_marks_stays_a_case_series(lexicon: Lexicon) -> None:
    text = "Background: Vasculitis after rituximab is hard to treat. " + RESULT
    assert extract_facts(TITLE, text, lexicon=lexicon).study_type == "case series"


@pytest.mark.parametrize(
    "text",
    [
        "The drug was presented to the committee as a new option.",  # not a meeting
        "Patients disclosed their symptoms in a diary.",
        "Our results, presented here, extend the first report.",
    ],
)
def test_words_near_the_marks_do_not_make_a_meeting_abstract(text: str) -> None:
    assert not is_meeting_abstract(text)


def test_a_publication_type_decides_over_the_marks(lexicon: Lexicon) -> None:
    facts = extract_facts(
        TITLE, RESULT + " Disclosures: none.", lexicon=lexicon, publication_types=["Case Reports"]
    )
    assert facts.study_type == "case report"
