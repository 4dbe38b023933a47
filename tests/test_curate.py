"""The curate stage's relevance filter, evidence grading and ranking, on realistic text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carnews.audience.diseases import disease_names, normalise_disease
from carnews.curate.classify import Verdict, classify, rank_score
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.errors import ConfigError

LEXICON = load_lexicon()
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def verdict(title: str, text: str = "", lexicon: Lexicon = LEXICON) -> Verdict:
    return classify(title, text, lexicon=lexicon)


# --- relevance: stories a patient should get ---------------------------------------------

KEEP = [
    (
        "Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus",
        "Five patients with refractory SLE received autologous CD19 CAR T cells after "
        "lymphodepletion with fludarabine and cyclophosphamide. All five achieved DORIS "
        "remission by 3 months and stopped immunosuppressive drugs.",
    ),
    (
        "CD19 CAR T-Cell Therapy in Autoimmune Disease — A Case Series with Follow-up",
        "Fifteen patients (8 with SLE, 3 with idiopathic inflammatory myositis and 4 with "
        "systemic sclerosis) received a single infusion of CD19 CAR T cells. Grade 1 CRS "
        "occurred in 10 patients; all stopped immunosuppressive therapy.",
    ),
    (
        "CD19-targeted CAR T cells in refractory antisynthetase syndrome",
        "A 41-year-old man with anti-Jo1 antisynthetase syndrome and progressive myositis "
        "was treated with CD19 CAR T cells with rapid improvement of muscle strength.",
    ),
    (
        "Teclistamab induces drug-free remission in refractory SLE",
        "Teclistamab, a BCMAxCD3 bispecific antibody approved for multiple myeloma, was "
        "given to a 23-year-old woman with lupus nephritis. Lupus activity resolved and "
        "her SLEDAI fell to 0.",
    ),
    (
        "Blinatumomab in refractory rheumatoid arthritis",
        "Six patients with difficult-to-treat rheumatoid arthritis received the CD19xCD3 "
        "T-cell engager blinatumomab; B cells were depleted and joint swelling improved.",
    ),
    (
        "Safety and clinical activity of autologous RNA chimeric antigen receptor T-cell "
        "therapy in myasthenia gravis (MG-001): a phase 1b/2a study",
        "Descartes-08, an mRNA CAR-T targeting BCMA, was given to 14 participants with "
        "generalised myasthenia gravis without lymphodepletion.",
    ),
    (
        "Allogeneic CD19 CAR-NK cells for systemic lupus erythematosus",
        "In 18 patients with relapsed/refractory SLE, three infusions of donor CD19 CAR-NK "
        "cells were given after fludarabine and cyclophosphamide.",
    ),
    (
        "Off-the-shelf CAR-T cells in necrotising myopathy and diffuse systemic sclerosis",
        "CRISPR-edited donor CD19 CAR T cells were given to one patient with immune-mediated "
        "necrotizing myopathy and two with diffuse cutaneous SSc.",
    ),
    (
        "FDA grants Fast Track designation to CABA-201 for lupus",
        "Cabaletta Bio said the FDA granted Fast Track designation to CABA-201, its "
        "investigational CD19-CAR T cell therapy for systemic lupus erythematosus and "
        "lupus nephritis.",
    ),
    (
        "Study of rese-cel in scleroderma now enrolling in the US",
        "A trial of the CAR T-cell therapy rese-cel in people with systemic sclerosis is "
        "now enrolling at sites across the United States.",
    ),
    (
        "CAR T-cell therapy in cancer and autoimmune disease: a review",
        "We review CD19 and BCMA CAR T cells from B-cell malignancies to autoimmune disease, "
        "including lupus, systemic sclerosis, myositis and ANCA vasculitis, and discuss "
        "cytokine release syndrome, ICANS and secondary malignancies.",
    ),
    (
        "BCMA CAR-T rescues relapse of antisynthetase syndrome after CD19 CAR-T",
        "After relapse at 9 months, re-infusion failed; BCMA-directed CAR T cells restored "
        "remission of the myositis.",
    ),
    (
        "Kyverna reports relapse in early-stage CAR-T lupus trial",
        "A patient with lupus nephritis treated with KYV-101 relapsed after five months, the "
        "company said at EULAR 2024.",
    ),
    (
        "CD19 CAR T cells in stiff-person syndrome",
        "A patient with treatment-refractory stiff-person syndrome received CD19 CAR T cells; "
        "walking speed improved and GAD antibodies fell.",
    ),
    (
        "CAR-T cell therapy for refractory neuromyelitis optica spectrum disorder",
        "Twelve patients with AQP4-positive NMOSD received BCMA CAR T cells in an open-label "
        "phase 1 study.",
    ),
    (
        "BCMA-targeted T-cell engager therapy in patients with refractory autoimmune disease",
        "Ten patients with six different autoimmune diseases, including systemic sclerosis "
        "and myositis, received teclistamab; median B-cell aplasia lasted 157 days.",
    ),
    # Issue #10: a cancer patient's autoimmune disease that went into remission, and
    # class-wide safety news about CAR-T (tests/test_relevance_rules.py has the rules).
    (
        "Remission of Sjögren's disease after CD19 CAR-T cell therapy: a case report",
        "A 58-year-old woman with primary Sjögren's disease developed diffuse large B-cell "
        "lymphoma (DLBCL). She received axicabtagene ciloleucel for refractory lymphoma. "
        "The lymphoma went into complete remission and her Sjögren's symptoms resolved.",
    ),
    (
        "CD19 CAR-T for lymphoma also cleared a patient's rheumatoid arthritis",
        "A man with follicular lymphoma and long-standing rheumatoid arthritis was given "
        "tisagenlecleucel; the lymphoma responded.",
    ),
    (
        "FDA investigating serious risk of T-cell malignancy after BCMA- or CD19-directed "
        "CAR-T cell immunotherapies",
        "The FDA has received reports of T-cell malignancies in patients treated with "
        "idecabtagene vicleucel, ciltacabtagene autoleucel, axicabtagene ciloleucel and "
        "tisagenlecleucel for lymphoma, leukemia and myeloma; boxed warnings follow.",
    ),
]


@pytest.mark.parametrize(("title", "text"), KEEP, ids=[t[:40] for t, _ in KEEP])
def test_keeps_cell_therapy_in_autoimmune_disease(title: str, text: str) -> None:
    result = verdict(title, text)
    assert result.relevant, result.reasons


# --- relevance: cancer news and near misses that must stay out -----------------------------

DROP = [
    (
        "Dual CD19/BCMA CAR-T cells in relapsed multiple myeloma",
        "Thirty patients with relapsed/refractory myeloma received CD19 and BCMA CAR T cells; "
        "CRS occurred in 80% and ICANS in 10%.",
    ),
    (
        "Glofitamab plus gemcitabine-oxaliplatin in relapsed large B-cell lymphoma",
        "The CD20xCD3 bispecific glofitamab improved survival in DLBCL patients ineligible "
        "for transplant.",
    ),
    (
        "CD19 CAR-T in a patient with Sjögren's disease: a case report",
        "A 58-year-old woman with primary Sjögren's disease developed diffuse large B-cell "
        "lymphoma (DLBCL). She received axicabtagene ciloleucel for refractory lymphoma. "
        "The lymphoma went into complete remission; her dry eyes and mouth were unchanged.",
    ),
    (
        "Autoimmune cytopenias after CD19 CAR T-cell therapy for large B-cell lymphoma",
        "Among 120 patients with LBCL treated with axi-cel or liso-cel, 9 developed "
        "autoimmune haemolysis or immune thrombocytopenia.",
    ),
    (
        "Immune-mediated toxicities of CAR T cells",
        "Cytokine release syndrome, ICANS and prolonged cytopenias follow CD19 CAR-T for "
        "B-cell acute lymphoblastic leukemia.",
    ),
    (
        "Rituximab versus belimumab in lupus nephritis",
        "In 200 patients with SLE, anti-B-cell therapy with either antibody reduced "
        "proteinuria over 52 weeks.",
    ),
    (
        "Epcoritamab in follicular lymphoma",
        "Epcoritamab, a subcutaneous T-cell engager, achieved high response rates in "
        "relapsed follicular lymphoma.",
    ),
    (
        "CAR-T cells against glioblastoma",
        "Intraventricular CAR T cells targeting EGFR shrank tumours in three patients "
        "with recurrent glioblastoma.",
    ),
    (
        "Lupus flares and hydroxychloroquine",
        "A cohort of 400 people with SLE showed fewer flares with hydroxychloroquine.",
    ),
    (
        "Obe-cel approved for adult B-ALL",
        "The FDA approved obecabtagene autoleucel for relapsed B-cell acute lymphoblastic "
        "leukaemia in adults.",
    ),
    (
        "Mass spectrometry profiling of CAR T cells in DLBCL",
        "Using LC-MS and MS/MS we profiled CD19 CAR T-cell products from lymphoma patients.",
    ),
]


@pytest.mark.parametrize(("title", "text"), DROP, ids=[t[:40] for t, _ in DROP])
def test_drops_cancer_and_non_cell_therapy_news(title: str, text: str) -> None:
    result = verdict(title, text)
    assert not result.relevant, result.reasons


def test_needs_a_therapy_and_says_so() -> None:
    result = verdict("Lupus nephritis outcomes improve", "Patients with SLE did better.")
    assert not result.relevant
    assert "no cell therapy or T-cell engager named" in result.reasons


def test_needs_a_disease_and_says_so() -> None:
    result = verdict("CD19 CAR T cells expand in vivo", "CRS and ICANS were mild.")
    assert not result.relevant
    assert "no autoimmune disease named" in result.reasons


def test_shared_vocabulary_scores_nothing() -> None:
    result = verdict("CAR T cells, CD19, BCMA, CRS, ICANS and B cells", "lymphodepletion")
    assert result.score == pytest.approx(1.0)  # the therapy in the title, nothing else
    assert result.target in {"CD19", "BCMA"}


def test_title_weighs_more_than_body() -> None:
    in_title = verdict("CAR-T in lupus", "The cells expanded.")
    in_body = verdict("A new treatment", "CAR-T was given in lupus.")
    assert in_title.score > in_body.score
    assert not in_body.relevant


def test_oncology_dominating_the_body_drops_a_story_with_the_disease_in_the_title() -> None:
    title, text = DROP[2]
    result = verdict(title, text)
    assert any("oncology dominates" in reason for reason in result.reasons)


# --- tags and reasons ----------------------------------------------------------------------


def test_reasons_name_the_terms_and_their_points() -> None:
    result = verdict(*KEEP[3])  # teclistamab in lupus, with a myeloma aside
    assert "disease 'lupus' in title (+3.0)" in result.reasons
    # "approved for multiple myeloma" says where the drug comes from, not what it treated.
    assert not any(reason.startswith("oncology 'myeloma'") for reason in result.reasons)
    assert any("1 cancer mention(s) only as context" in reason for reason in result.reasons)
    assert "therapy 'T-cell engager' in text (+0.5)" not in result.reasons
    assert "therapy 'T-cell engager' in title (+1.0)" in result.reasons
    assert result.reasons[-1] == f"score {result.score:.1f} ≥ threshold 2.0"


def test_tags_diseases_therapy_and_target() -> None:
    result = verdict(*KEEP[1])
    assert set(result.diseases) >= {"lupus", "myositis", "systemic sclerosis"}
    assert result.therapy == "CAR-T"
    assert result.target == "CD19"


@pytest.mark.parametrize(
    ("title", "therapy"),
    [
        ("mRNA CAR-T for myasthenia gravis", "mRNA CAR-T"),
        ("CD19 CAR-NK cells in lupus", "CAR-NK"),
        ("DSG3-CAART for pemphigus vulgaris", "CAAR-T"),
        ("CAR-Treg therapy for multiple sclerosis", "CAR-Treg"),
        ("Teclistamab in SLE", "T-cell engager"),
        ("Engineered regulatory T cells for lupus", "other cell therapy"),
        ("Mesenchymal stem cell therapy in lupus", None),
        ("CAR-T cell therapy in lupus", "CAR-T"),
    ],
)
def test_therapy_kind_is_the_most_specific_named(title: str, therapy: str | None) -> None:
    assert verdict(title).therapy == therapy


def test_stem_cells_and_other_drugs_are_not_cell_therapy() -> None:
    msc = verdict("Mesenchymal stem cell therapy in refractory lupus nephritis", "MSCs were given.")
    assert not msc.relevant
    assert "no cell therapy or T-cell engager named" in msc.reasons
    hsct = verdict(
        "Autologous haematopoietic stem cell transplantation in multiple sclerosis",
        "CAR T cells are an emerging alternative but outside the scope of this review.",
    )
    assert not hsct.relevant
    assert any("which is about stem-cell transplant" in r for r in hsct.reasons)
    both = verdict("CD19 CAR-T versus rituximab in refractory lupus nephritis", "")
    assert both.relevant  # a cell therapy in the title is never overruled by a drug


def test_cart_homonyms_are_not_car_t() -> None:
    assert verdict("A CART model predicts lupus nephritis flares", "").therapy is None
    assert verdict("CART peptide in the hypothalamus", "the golf cart").therapy is None
    assert verdict("CART19 cells in lupus", "").therapy == "CAR-T"
    assert verdict("CAR-Ts in lupus", "").therapy == "CAR-T"


def test_cancer_product_tried_in_an_autoimmune_disease_counts_for_nothing() -> None:
    result = verdict(
        "Obe-cel in refractory systemic lupus erythematosus",
        "Obecabtagene autoleucel, approved for adult B-cell acute lymphoblastic leukaemia, "
        "was given to three patients with lupus nephritis.",
    )
    assert result.relevant, result.reasons
    assert any("tried in the autoimmune disease" in reason for reason in result.reasons)


def test_a_cancer_in_the_title_means_the_therapy_treated_cancer() -> None:
    result = verdict(
        "CAR T-cell therapy in lymphoma patients with Crohn's disease",
        "Eighteen patients with Crohn's disease or ulcerative colitis received CD19 CAR T "
        "cells; two had flares of inflammatory bowel disease.",
    )
    assert not result.relevant
    assert any("the title names lymphoma" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Teclistamab, a bispecific antibody approved for multiple myeloma, was given.",
        "CRS was milder than in lymphoma.",
        "We discuss secondary T-cell malignancies after CAR-T.",
        "She had anti-NMDAR encephalitis without tumour.",
    ],
)
def test_cancer_named_only_as_context_costs_nothing(text: str) -> None:
    result = verdict("CD19 CAR-T in lupus", text)
    assert not any(reason.startswith("oncology") for reason in result.reasons), result.reasons


def test_rna_car_t_in_myasthenia_is_tagged_mrna() -> None:
    assert verdict(*KEEP[5]).therapy == "mRNA CAR-T"


def test_specific_disease_wins_over_the_broad_bucket() -> None:
    result = verdict("CAR-T in autoimmune encephalitis", "")
    assert result.diseases == ("autoimmune encephalitis",)


def test_abbreviations_need_care() -> None:
    assert "multiple sclerosis" not in verdict("CAR-T", "measured by LC-MS and MS/MS").diseases
    assert "rheumatoid arthritis" not in verdict("CAR-T", "with retinoic acid (RA)").diseases
    assert "rheumatoid arthritis" in verdict("CAR-T", "in 6 patients with RA").diseases
    assert "leukaemia" not in {h for h in verdict("CAR-T", "All patients").reasons}


# --- evidence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text", "level"),
    [
        ("CD19 CAR-T cells reverse nephritis in lupus-prone mice", "", "lab study"),
        ("CAR-T in a 15-year-old with lupus nephritis: a case report", "", "case report"),
        (
            "CAR-T in refractory myositis",
            "We describe a case series of four patients.",
            "case series",
        ),
        ("A phase 1 dose-escalation study of CAR-T in SLE", "", "phase 1"),
        ("Phase 1/2 trial of KYV-101 in lupus nephritis", "", "phase 1/2"),
        ("CAR-T in myasthenia gravis: results of a phase 2 trial", "", "phase 2"),
        ("Randomised phase 3 trial of CAR-T versus standard care in SLE", "", "phase 3"),
        ("CAR T cells for autoimmune disease: a narrative review", "", "review"),
        ("FDA clears IND for CD19 CAR-T in systemic sclerosis", "", "regulatory"),
        (
            "CD19 CAR-T in systemic sclerosis",
            "Overall status: Not yet recruiting.",
            "trial registration",
        ),
        (
            "Rese-cel lupus data",
            "Results were presented at ACR Convergence 2025.",
            "conference abstract",
        ),
        ("Anna's journey: lupus remission after CAR-T", "In her own words.", "patient story"),
        ("Hospital opens CAR-T clinic for lupus", "The clinic opens in May.", "news"),
    ],
)
def test_evidence_level(title: str, text: str, level: str) -> None:
    assert verdict(title, text).evidence == level


def test_evidence_in_the_title_beats_the_body() -> None:
    result = verdict("Phase 2 trial of CAR-T in SLE", "Preclinical work in mice showed ...")
    assert result.evidence == "phase 2"


# --- patients ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "patients"),
    [
        ("15 patients received CAR-T.", 15),
        ("Five participants achieved remission.", 5),
        ("An open-label study (n = 12) in lupus.", 12),
        ("CAR-T was given in 8 people with SLE.", 8),
        ("Grade 1 CRS occurred in 10 patients; 15 patients were treated in total.", 15),
        ("Median follow-up was 29 months in 15 patients.", 15),
        ("Eighteen relapsed/refractory SLE patients received CAR-NK cells.", 18),
        ("The cells persisted for three months.", None),
    ],
)
def test_counts_patients(text: str, patients: int | None) -> None:
    assert verdict("CAR-T in lupus", text).patients == patients


# --- names for subscribers -----------------------------------------------------------------


def test_disease_names_and_normalisation() -> None:
    names = disease_names(LEXICON)
    assert "lupus" in names and "systemic sclerosis" in names and "myositis" in names
    assert normalise_disease("SLE", LEXICON) == "lupus"
    assert normalise_disease("Lupus", LEXICON) == "lupus"
    assert normalise_disease("scleroderma", LEXICON) == "systemic sclerosis"
    assert normalise_disease("dermatomyositis", LEXICON) == "myositis"
    assert normalise_disease("RA", LEXICON) == "rheumatoid arthritis"
    assert normalise_disease("gout", LEXICON) is None


# --- the editor's lexicon file -------------------------------------------------------------


def test_editor_file_adds_a_disease_and_extends_a_list(tmp_path: Path) -> None:
    extra = tmp_path / "lexicon.toml"
    extra.write_text(
        "[diseases]\n"
        "\"autoimmune hepatitis\" = ['autoimmune hepatitis', '(?-i:AIH)']\n"
        "lupus = ['chilblain lupus']\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon(extra)
    assert "autoimmune hepatitis" in disease_names(lexicon)
    assert "autoimmune hepatitis" not in disease_names(LEXICON)
    result = verdict("CD19 CAR-T in refractory AIH", "", lexicon=lexicon)
    assert result.relevant and result.diseases == ("autoimmune hepatitis",)
    assert normalise_disease("SLE", lexicon) == "lupus"  # built-in patterns are kept
    assert str(extra) in lexicon.sources


def test_editor_file_can_add_a_cancer_context(tmp_path: Path) -> None:
    extra = tmp_path / "lexicon.toml"
    extra.write_text(
        "[oncology]\n\"kidney cancer\" = ['renal cell carcinoma', '(?-i:RCC)']\n"
        "[oncology_context]\norigin = ['first tested in <cancer>']\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon(extra)
    context = verdict("CD70 CAR-T in lupus", "The CAR was first tested in RCC.", lexicon=lexicon)
    counted = verdict("CD70 CAR-T in lupus", "The CAR was given in RCC.", lexicon=lexicon)
    assert context.score == counted.score + 1.0


def test_editor_file_can_tune_a_weight(tmp_path: Path) -> None:
    extra = tmp_path / "lexicon.toml"
    extra.write_text("[scoring]\ndisease_title = 5.0\n", encoding="utf-8")
    assert verdict("CAR-T in lupus", "", lexicon=load_lexicon(extra)).score == 6.0


def test_bad_regex_names_file_key_and_pattern(tmp_path: Path) -> None:
    extra = tmp_path / "bad.toml"
    extra.write_text("[diseases]\nlupus = ['lupus (nephritis']\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_lexicon(extra)
    message = str(caught.value)
    assert str(extra) in message and "lupus (nephritis" in message and "lupus" in message
    assert caught.value.context["pattern"] == "lupus (nephritis"


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("[diseases\n", "not valid TOML"),
        ("[diseasez]\nx = ['y']\n", "unknown table"),
        ("[diseases]\nlupus = 'lupus'\n", "must be a list"),
        ("[diseases]\nlupus = ['a*']\n", "matches empty text"),
        ("[scoring]\ndisease_title = 'high'\n", "expected a number"),
    ],
)
def test_bad_editor_file_is_a_config_error(tmp_path: Path, content: str, complaint: str) -> None:
    extra = tmp_path / "bad.toml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=complaint) as caught:
        load_lexicon(extra)
    assert str(extra) in str(caught.value)


def test_missing_editor_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_lexicon(tmp_path / "nope.toml")


# --- ranking -------------------------------------------------------------------------------


def test_rank_prefers_stronger_evidence_and_newer_stories() -> None:
    phase2 = verdict("CAR-T in myasthenia gravis: results of a phase 2 trial")
    mice = verdict("CD19 CAR-T cells reverse nephritis in lupus-prone mice")
    week_ago = NOW - timedelta(days=7)
    assert rank_score(phase2, published_at=week_ago, now=NOW, source_weight=1.0) > rank_score(
        mice, published_at=week_ago, now=NOW, source_weight=1.0
    )
    newer = rank_score(phase2, published_at=NOW - timedelta(days=1), now=NOW, source_weight=0)
    older = rank_score(phase2, published_at=NOW - timedelta(days=30), now=NOW, source_weight=0)
    undated = rank_score(phase2, published_at=None, now=NOW, source_weight=0)
    assert newer > older > undated


def test_rank_adds_source_weight_and_accepts_naive_times() -> None:
    story = verdict("Phase 1 trial of CAR-T in SLE")
    naive = datetime(2025, 5, 31, 12, 0)
    low = rank_score(story, published_at=naive, now=NOW, source_weight=0.0)
    high = rank_score(story, published_at=naive, now=NOW, source_weight=2.0)
    assert high == pytest.approx(low + 2.0)
