"""Issue #10's relevance rules, one by one: immune-mediated kidney and neurological diseases
in the lexicon.

Each rule is also measured on the development set (tests/data/relevance_dev.jsonl, the
items whose group names the rule); docs/relevance.md states the rules.
"""

from __future__ import annotations

import pytest

from carnews.curate.classify import Verdict, classify
from carnews.curate.lexicon import Lexicon, load_lexicon

LEXICON = load_lexicon()


def verdict(title: str, text: str = "", *, lexicon: Lexicon = LEXICON) -> Verdict:
    return classify(title, text, lexicon=lexicon)


# --------------------------------------------------------------------------- the lexicon


@pytest.mark.parametrize(
    ("title", "disease"),
    [
        ("BCMA CAR-T in refractory IgA nephropathy", "IgA nephropathy"),
        ("CD19 CAR T cells in IgAN: a first patient", "IgA nephropathy"),
        ("CAR-T for relapsing anti-GBM disease", "anti-GBM disease"),
        ("CAR T cells in Goodpasture syndrome with lung haemorrhage", "anti-GBM disease"),
        ("CD19 CAR-T for recurrent FSGS after kidney transplant", "FSGS"),
        ("CAR T cells in anti-nephrin antibody-associated podocytopathy", "FSGS"),
        ("CD19 CAR-T in primary membranous nephropathy", "membranous nephropathy"),
        ("CD19 CAR T cells in anti-GAD65 cerebellar ataxia", "autoimmune ataxia"),
        ("CAR-T in immune-mediated cerebellar ataxias: two cases", "autoimmune ataxia"),
        ("KYV-101 in stiff-person spectrum disorder", "stiff-person syndrome"),
        ("CD19 CAR-T in LGI1 antibody encephalitis", "autoimmune encephalitis"),
    ],
)
def test_immune_mediated_kidney_and_neurological_diseases_are_in_the_lexicon(
    title: str, disease: str
) -> None:
    found = verdict(title)
    assert found.relevant, found.reasons
    assert found.diseases[0] == disease


@pytest.mark.parametrize(
    "title",
    [
        "CAR-T for FSGS",  # most FSGS is genetic or secondary: only immune-mediated FSGS counts
        "Focal segmental glomerulosclerosis after CD19 CAR T cells",
        "CAR-T in Friedreich ataxia",
        "Cerebellar ataxia after BCMA CAR T cells in myeloma",
    ],
)
def test_kidney_and_ataxia_words_alone_are_not_autoimmune_diseases(title: str) -> None:
    assert not verdict(title).relevant


def test_a_kidney_drug_in_the_title_is_not_cell_therapy_news() -> None:
    found = verdict(
        "Sparsentan slows kidney function loss in IgA nephropathy",
        "Unlike the CAR T-cell therapies entering trials in IgA nephropathy, sparsentan ...",
    )
    assert not found.relevant
    assert any("kidney disease drug" in reason for reason in found.reasons)
