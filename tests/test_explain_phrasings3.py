"""Story-card facts from the third round of phrasings (tests/data/stories_dev.jsonl,
dev-185 onward): the many ways a source says how many people were treated, and the many
ways it tells a harm. A card whose source reports any harm has a side-effects section,
and a card prints no count the source does not print.
"""

from __future__ import annotations

import pytest

from carnews.curate.lexicon import Lexicon
from carnews.explain.checks import explain_story
from carnews.explain.plain import numbers_in
from tests.helpers import facts

# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("title", "text", "treated"),
    [
        # "pts", the abbreviation of conference slides and preprints.
        ("BCMA CAR-T in myasthenia gravis", "We describe 7 pts with generalised myasthenia"
         " gravis treated with BCMA CAR T cells. MG-ADL improved.", 7),
        # "a cohort of 15" is the cohort, where "4 of 15" is a share.
        ("Immune reconstitution after CAR-T", "In a cohort of 15 patients with SLE treated with"
         " CD19 CAR T cells, we followed B-cell reconstitution.", 15),
        # A count after a colon.
        ("CAR-T in refractory NMOSD", "Patients treated: 4. All had NMOSD and received BCMA"
         " CAR T cells. No relapse occurred.", 4),
        # A news item with no verb for treating.
        ("CAR-T shows promise", "A small study of CAR-T therapy in 6 people with myasthenia"
         " gravis found that symptoms improved for most of them.", 6),
        # A count in the title only.
        ("CD19 CAR T-cell therapy in 5 patients with refractory ANCA-associated vasculitis",
         "Patients with refractory ANCA vasculitis were treated with CD19 CAR T cells. All"
         " achieved remission.", 5),
        # Earlier patients and a further group: the total.
        ("Extended follow-up", "After our first five patients, a further 10 patients with lupus"
         " were treated, for fifteen in total. Remission persisted in 13.", 15),
        # Worked out from the sentence and printed elsewhere by the source.
        ("Three rare diseases", "We treated one patient each with autoimmune haemolytic"
         " anaemia, immune thrombocytopenia and Sjögren's disease using CD19 CAR T cells. All"
         " three reached remission.", 3),
        ("Phase 1 in lupus", "In this phase 1 study, three patients at each of two dose levels"
         " received CD19 CAR T cells. All six reached remission.", 6),
    ],
)  # fmt: skip
def test_the_count_treated_is_read_however_the_source_gives_it(
    lexicon: Lexicon, title: str, text: str, treated: int
) -> None:
    assert facts(lexicon, title, text).treated_n == treated


@pytest.mark.parametrize(
    "text",
    [
        "In this phase 1 study, three patients at each of two dose levels received CD19 CAR T"
        " cells. SLEDAI-2K fell in all.",
        "Two dozen people with lupus have now been treated with CAR-T at the clinic, doctors"
        " said. None have relapsed.",
    ],
)
def test_a_count_the_source_never_prints_is_not_shown_nor_read_as_a_smaller_one(
    lexicon: Lexicon, text: str
) -> None:
    # Six and twenty-four are right, but the card would print a number the source does
    # not; three and two are what a naive reading finds, and they are wrong.
    story = explain_story("CAR-T in lupus", text, lexicon=lexicon)
    assert story.facts.treated_n is None
    shown = " ".join(story.card.sections().values())
    assert numbers_in(shown, words=True) <= numbers_in(text, words=True)


# --------------------------------------------------------------------------- harms


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("On day 9 she developed immune effector cell-associated HLH-like syndrome (IEC-HS),"
         " treated with anakinra.", "HLH-like"),
        ("Two weeks after infusion the patient developed hemophagocytic lymphohistiocytosis.",
         "HLH"),
        ("Infusion-related reactions occurred in two patients.", "infusion-related reactions"),
        ("Two people had a temporary drop in white blood cells.", "low blood counts"),
        ("Side effects were manageable, the researchers said.", "other side effects"),
        ("Adverse events were mostly mild.", "other side effects"),
        ("Serious adverse events (SAEs) occurred in 3 patients.", "other side effects"),
        ("Toxicity was low.", "other side effects"),
        ("Pyrexia occurred in 4 patients.", "fever"),
        ("Hypotension required fluids in one patient.", "low blood pressure"),
        ("Transaminases rose in one patient.", "raised liver enzymes"),
        ("Anaemia was seen in two.", "low blood counts"),
        ("A cytokine storm developed in one.", "CRS"),
        ("One patient caught COVID-19 and another had sinusitis.", "infections"),
        ("Two patients developed grade 2 encephalopathy.", "ICANS"),
    ],
)  # fmt: skip
def test_every_way_of_telling_a_harm_gets_a_side_effects_section(
    lexicon: Lexicon, text: str, words: str
) -> None:
    story = explain_story(
        "CD19 CAR T cells in lupus",
        f"Five patients with lupus received CD19 CAR T cells. {text} All improved.",
        lexicon=lexicon,
    )
    assert story.checks["harms_reported"]
    assert words in (story.card.side_effects or "")


def test_a_harm_told_without_its_name_counts_nobody(lexicon: Lexicon) -> None:
    # "in 6 people" is the study's size, not how many had side effects.
    story = explain_story("CAR-T for myasthenia gravis", "A small study of CAR-T therapy in 6"
                          " people with myasthenia gravis found that symptoms improved, and side"
                          " effects were manageable.", lexicon=lexicon)  # fmt: skip
    assert story.card.side_effects == "Some people had other side effects."


def test_a_harm_in_animals_is_not_told_as_one_in_people(lexicon: Lexicon) -> None:
    story = explain_story("A CD19 CAR-Treg prevents lupus in mice", "CAR-Treg cells were given"
                          " to MRL/lpr mice. Proteinuria fell. Treated mice lost weight in the"
                          " first week.", lexicon=lexicon)  # fmt: skip
    assert story.card.side_effects == "Some animals had side effects such as weight loss."


def test_a_regulator_investigating_secondary_lymphoma_gets_a_safety_card(
    lexicon: Lexicon,
) -> None:
    story = explain_story(
        "FDA investigates T-cell malignancies after BCMA- and CD19-directed CAR-T",
        "The FDA has received reports of secondary T-cell lymphoma in patients treated with BCMA-"
        " or CD19-directed autologous CAR T-cell immunotherapies. Patients should be monitored"
        " life-long for new malignancies.",
        lexicon=lexicon,
    )
    assert story.facts.study_type == "regulatory"
    assert story.facts.treated_n is None
    assert "a new cancer" in (story.card.side_effects or "")


def test_receptors_sequenced_from_treated_patients_are_a_lab_study(lexicon: Lexicon) -> None:
    found = facts(lexicon, "T-cell repertoire after CAR-T in lupus", "We sequenced T-cell"
                  " receptors from eight patients with SLE treated with CD19 CAR T cells and"
                  " from 20 healthy donors. Diversity recovered within a year.")  # fmt: skip
    assert (found.study_type, found.treated_n) == ("lab study", 8)


@pytest.mark.parametrize(
    ("text", "effects"),
    [
        # The harm named in the same clause is what the card tells.
        ("Side effects were manageable, the team said, with mild fever the most common.",
         "Some people had side effects such as fever."),
        # Named harms tell what the serious adverse events were.
        ("SAEs occurred in 4 patients, including two infections.", "2 people had infections."),
        # "No serious adverse events" adds no line of its own.
        ("There were no serious adverse events. Grade 1 CRS occurred in two.",
         "2 people had CRS (a fever-like reaction of the immune system), grade 1 (mild)."),
        # The disease treated is not a harm.
        ("All had warm autoimmune haemolytic anaemia; haemoglobin normalised.", None),
    ],
)  # fmt: skip
def test_a_harm_told_without_its_name_gives_way_to_the_named_ones(
    lexicon: Lexicon, text: str, effects: str | None
) -> None:
    story = explain_story("CD19 CAR T cells", f"Five patients received CD19 CAR T cells. {text}",
                          lexicon=lexicon)  # fmt: skip
    assert story.card.side_effects == effects


@pytest.mark.parametrize(
    ("text", "treated", "study"),
    [
        ("In our first 3 patients with SLE, CD19 CAR T cells induced remission.", 3,
         "case series"),
        # Cohorts split by disease, the second without "patients".
        ("Two patients with SLE and one with SSc were treated with CD19 CAR T cells. All three"
         " improved.", 3, "case series"),
        # The same, where the total is never printed: no number, but people were treated.
        ("Two patients with SLE and one with SSc were treated with CD19 CAR T cells. All"
         " improved.", None, "case series"),
        ("Two dozen patients with lupus were treated with CD19 CAR T cells. None relapsed.", None,
         "case series"),
    ],
)  # fmt: skip
def test_cohorts_and_unprinted_totals_are_still_people_treated(
    lexicon: Lexicon, text: str, treated: int | None, study: str
) -> None:
    found = facts(lexicon, "CD19 CAR T cells in autoimmune disease", text)
    assert (found.treated_n, found.study_type) == (treated, study)
