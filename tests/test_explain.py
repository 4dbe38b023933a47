"""The explain stage: traceable summaries, honest framing, glossary, reading grade.

The three abstracts below are written for these tests, modelled on the published
results summarised in the project's domain notes (Mackensen 2022, Müller 2024, the
mRNA CAR-T myasthenia gravis study). They include the clutter real feeds carry:
citation lines, author lists, PMID/DOI, copyright, hard-wrapped lines.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from carnews.errors import ConfigError
from carnews.explain.extractive import (
    Explanation,
    GlossaryTerm,
    explain,
    load_glossary,
    summarise,
    what_it_means,
)
from carnews.explain.trimming import trace, trim
from carnews.text.readability import fk_grade, smog_grade, split_sentences, syllables

MACKENSEN_TITLE = "Anti-CD19 CAR T cell therapy for refractory systemic lupus erythematosus"
MACKENSEN = """\
Nat Med. 2022 Oct;28(10):2124-2132.
Mackensen A, Müller F, Mougiakakos D, Böltz S, Wilhelm A, Aigner M, Völkl S, Simon D, Kleyer A.
Systemic lupus erythematosus (SLE) is a life-threatening autoimmune disease characterized by \
the production of autoantibodies against the body's own tissues. Some patients do not respond \
to standard immunosuppressive drugs and have few options left. Here we treated five patients \
with refractory SLE on a compassionate-use basis with autologous T cells transduced with a \
lentiviral anti-CD19 CAR. The median age was 22 years (range 6-year span), the median disease \
duration was 4 years and the median SLEDAI score was 16. After lymphodepletion with fludarabine \
and cyclophosphamide, patients received 1×10⁶ CAR T cells per kg body weight. CAR T cells \
expanded in vivo, led to deep B-cell depletion and improved clinical symptoms, and normalized \
laboratory parameters including loss of anti-dsDNA antibodies. Remission of SLE according to \
DORIS criteria was achieved in all five patients after 3 months, and the median SLEDAI score \
after 3 months was 0. Drug-free remission was maintained during longer follow-up (median of 8 \
months after CAR T cell administration), even after B cells reappeared after a mean of 110 days. \
Reappearing B cells were naive and showed non-class-switched B cell receptors. CAR T cell \
treatment was well tolerated, with only mild cytokine release syndrome. These data suggest that \
CD19 CAR T cell transfer is feasible, tolerable and highly effective in SLE.
© 2022 The Author(s), under exclusive licence to Springer Nature America, Inc.
DOI: 10.1038/s41591-022-02017-5
PMID: 36109639
"""

MULLER_TITLE = "CD19 CAR T-Cell Therapy in Autoimmune Disease - A Case Series with Follow-up"
MULLER = """\
BACKGROUND: Chimeric antigen receptor (CAR) T-cell therapy targeting CD19 has shown promise in \
case reports of patients with autoimmune disease, but data from a larger group of patients \
with longer follow-up are lacking.

METHODS: We report a case series of 15 patients with severe autoimmune disease: systemic lupus \
erythematosus (8 patients), idiopathic inflammatory myositis (3 patients) and systemic \
sclerosis (4 patients). All patients had disease that was refractory to at least two \
conventional therapies. Each patient received a single infusion of CD19 CAR T cells after \
preconditioning with fludarabine and cyclophosphamide. We assessed efficacy with the DORIS \
criteria for SLE, the ACR-EULAR major clinical response for myositis and the EUSTAR activity \
index for systemic sclerosis, and we recorded adverse events.

RESULTS: The median follow-up was 15 months (range, 4 to 29). All patients with SLE had DORIS \
remission, all patients with myositis had an ACR-EULAR major clinical response, and all \
patients with systemic sclerosis had a decrease in the EUSTAR activity index. Immunosuppressive \
therapy was stopped in all 15 patients, and no relapse or worsening of disease occurred during \
follow-up. Grade 1 cytokine release syndrome (CRS) occurred in 10 patients, grade 2 CRS in 1 \
patient, and grade 1 ICANS in 1 patient; one patient was hospitalized for pneumonia.

CONCLUSIONS: In this case series, CD19 CAR T-cell therapy appeared to be feasible, safe and \
efficacious in three different autoimmune diseases, with sustained drug-free remission \
through up to 29 months of follow-up. (Funded by the Deutsche Forschungsgemeinschaft and \
others.)

Copyright © 2024 Massachusetts Medical Society.
"""

# A news item, hard-wrapped at about 80 columns the way plain-text feeds arrive.
MG_NEWS_TITLE = "mRNA CAR-T shows lasting benefit in myasthenia gravis without chemotherapy"
MG_NEWS = """\
A cell therapy built with messenger RNA instead of permanent DNA has eased the
symptoms of myasthenia gravis in an open-label phase 1b/2a study, researchers
reported. The treatment, Descartes-08, targets BCMA on the plasma cells that make
the harmful antibodies. Unlike earlier CAR-T treatments for autoimmune disease, it
was given without lymphodepletion chemotherapy beforehand. Patients received six
weekly infusions as outpatients. Their scores on the MG-ADL scale, which measures
everyday tasks such as chewing and breathing, fell by 6 points on average after 12
weeks. No cytokine release syndrome and no ICANS were reported. A randomised,
placebo-controlled phase 2b trial is now under way.
Read more: https://example.org/news/mrna-car-t-mg
Subscribe to our newsletter for weekly updates.
"""

ABSTRACTS = [
    (MACKENSEN_TITLE, MACKENSEN),
    (MULLER_TITLE, MULLER),
    (MG_NEWS_TITLE, MG_NEWS),
]
Glossary = tuple[GlossaryTerm, ...]
NUMBER = re.compile(r"\d+(?:[.,]\d+)?%?")
NEGATION = re.compile(r"\b(?:not|no|none|never|without)\b|n't\b", re.IGNORECASE)
EVIDENCE_LEVELS = [
    "lab study",
    "case report",
    "case series",
    "phase 1",
    "phase 1/2",
    "phase 2",
    "phase 3",
    "review",
    "regulatory",
    "trial registration",
    "conference abstract",
    "patient story",
    "news",
]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


# --- summary -------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "text"), ABSTRACTS)
def test_every_summary_sentence_is_made_of_one_source_sentence(title: str, text: str) -> None:
    summary = summarise(title, text)
    sentences = split_sentences(summary)
    assert sentences
    for sentence in sentences:
        found = trace(sentence, text)
        assert found is not None, sentence
        assert all(fragment in text for fragment in found.fragments)
        assert not any(NEGATION.search(gap) for gap in found.dropped), found.dropped


@pytest.mark.parametrize(("title", "text"), ABSTRACTS)
def test_every_number_in_the_summary_is_in_the_source(title: str, text: str) -> None:
    summary = summarise(title, text)
    for number in NUMBER.findall(summary):
        assert number in text


@pytest.mark.parametrize(("title", "text"), ABSTRACTS)
def test_long_abstract_gives_three_to_five_sentences_in_source_order(title: str, text: str) -> None:
    summary = summarise(title, text)
    sentences = split_sentences(summary)
    assert 3 <= len(sentences) <= 5
    positions = [found.start for s in sentences if (found := trace(s, text))]
    assert len(positions) == len(sentences)
    assert positions == sorted(positions)


def test_summary_leaves_out_citation_authors_copyright_and_links() -> None:
    summaries = " ".join(summarise(title, text) for title, text in ABSTRACTS)
    clutter = ["PMID", "DOI", "©", "Copyright", "Mackensen A", "Nat Med", "Funded by", "http"]
    for piece in [*clutter, "Subscribe"]:
        assert piece not in summaries


def test_summary_keeps_the_results_a_patient_asks_about() -> None:
    mackensen = summarise(MACKENSEN_TITLE, MACKENSEN)
    assert "all five patients after 3 months" in mackensen
    muller = summarise(MULLER_TITLE, MULLER)
    assert "Immunosuppressive therapy was stopped in all 15 patients" in muller


def test_section_labels_are_dropped() -> None:
    summary = summarise(MULLER_TITLE, MULLER)
    assert "RESULTS:" not in summary
    assert "CONCLUSIONS:" not in summary
    assert summary.startswith(("We report", "The median", "All patients", "Immunosuppressive"))


def test_hard_wrapped_text_is_not_cut_mid_sentence() -> None:
    sentences = split_sentences(MG_NEWS)
    assert sentences[0].startswith("A cell therapy")
    assert sentences[0].endswith("researchers\nreported.")


def test_max_sentences_and_short_texts() -> None:
    assert summarise("t", MACKENSEN, max_sentences=3).count(". ") <= 2
    short = "CAR-T put lupus into remission in one woman. She is well a year later."
    assert summarise("Lupus", short) == short
    assert summarise("Nothing", "") == ""


# --- trimming and tracing --------------------------------------------------------------


def test_trim_drops_asides_and_abbreviation_definitions() -> None:
    sentence = (
        "Systemic lupus erythematosus (SLE) is a disease (of unknown cause) of the immune system."
    )
    assert trim(sentence) == ("Systemic lupus erythematosus is a disease of the immune system.",)
    # An abbreviation the story uses again keeps its definition.
    used_again = trim(sentence, context=f"{sentence} Five patients with SLE were treated.")
    assert used_again == ("Systemic lupus erythematosus (SLE) is a disease of the immune system.",)
    assert trim("In conclusion, our data show that CAR-T is feasible [12].") == (
        "Our data show that CAR-T is feasible.",
    )


def test_trim_drops_statistics_but_keeps_every_other_number_exact() -> None:
    sentence = "The response rate was 86.7% (95% CI 70.3-95.2), P = 0.003, at week 12 (n = 15)."
    assert trim(sentence) == ("The response rate was 86.7%, at week 12.",)
    # A parenthesis with a result in it is the result: it stays.
    assert trim("Responses were more frequent with CAR-T (80% vs 40%, P < 0.001).") == (
        "Responses were more frequent with CAR-T (80% vs 40%).",
    )
    assert trim("Remission lasted a median of 8 months (range 4-12).") == (
        "Remission lasted a median of 8 months.",
    )
    kept = trim("Drug-free remission lasted (median 8 months after infusion) until the end.")
    assert kept == ("Drug-free remission lasted (median 8 months after infusion) until the end.",)


def test_trim_splits_two_clauses_at_a_semicolon_or_comma_and() -> None:
    assert trim("Cytokine release syndrome was grade 1 in five patients; there was no ICANS.") == (
        "Cytokine release syndrome was grade 1 in five patients.",
        "There was no ICANS.",
    )
    assert trim("Therapy was stopped in all 15 patients, and no relapse occurred.") == (
        "Therapy was stopped in all 15 patients.",
        "No relapse occurred.",
    )
    # Lists, record fields, shared verbs, "but" and questions stay whole.
    for whole in [
        "Conditions: Lupus Nephritis; Systemic Lupus Erythematosus.",
        "EUSTAR fell in all six patients, mRSS declined by 31%, and lung function improved.",
        "CAR T cells expanded in vivo, and normalized laboratory parameters.",
        "Remission rates were high in SLE, but controlled trials are needed.",
        "Will I need chemotherapy first, and how long will I be in hospital?",
    ]:
        assert trim(whole) == (whole,)


def test_trim_never_deletes_a_negation_or_a_comparison() -> None:
    for sentence in [
        "Drug-free remission was maintained (not in the two oldest patients) during follow-up.",
        "B cells returned (without relapse) after a mean of 110 days.",
        "Scores fell (compared with placebo) by week 12.",
        "Scores fell more often (than with rituximab) by week 12.",
    ]:
        assert trim(sentence) == (sentence,)


def test_trace_finds_the_fragments_and_rejects_anything_else() -> None:
    source = "BACKGROUND: Old text. RESULTS: Lupus (SLE) went into remission in 5 of 6 patients."
    found = trace("Lupus went into remission in 5 of 6 patients.", source)
    assert found is not None
    assert found.fragments == ("Lupus ", "went into remission in 5 of 6 patients.")
    assert found.dropped == ("(SLE) ",)
    assert found.start == source.index("Lupus")
    for made_up in [
        "Lupus went into full remission in 5 of 6 patients.",  # a word added
        "Lupus went into remission in 6 of 6 patients.",  # a number changed
        "In 5 of 6 patients lupus went into remission.",  # reordered
        "Old text went into remission.",  # two source sentences joined
        "Lupus went into remission in 5 of 6 patient.",  # a word cut short
    ]:
        assert trace(made_up, source) is None, made_up
    # A capital letter and a full stop may be added only where a cut needs them.
    assert trace("The drug works.", "the drug works.") is None
    assert trace("It was safe.", "It was safe and it worked") is None
    assert trace("It was safe.", "It was safe; it worked.") is not None
    assert trace("It worked.", "It was safe; it worked.") is not None


def test_split_sentences_handles_abbreviations_and_decimals() -> None:
    text = (
        "Doses, e.g. 1.5 mg/kg, were compared vs. placebo by Smith et al. in 2023. "
        "The response rate was 86.7 %. 1."
    )
    assert split_sentences(text) == [
        "Doses, e.g. 1.5 mg/kg, were compared vs. placebo by Smith et al. in 2023.",
        "The response rate was 86.7 %.",
    ]


# --- framing -------------------------------------------------------------------------


def test_what_it_means_matches_the_agreed_wording() -> None:
    assert what_it_means("phase 1", 12) == (
        "An early safety study in 12 people. For now, you can only get this treatment in a "
        "clinical trial."
    )
    assert what_it_means("lab study", None) == (
        "A lab study. It has not yet been tested in people."
    )


@pytest.mark.parametrize("evidence", EVIDENCE_LEVELS)
def test_what_it_means_gives_the_count_only_when_known(evidence: str) -> None:
    with_count = what_it_means(evidence, 37)
    without = what_it_means(evidence, None)
    assert "37 people" in with_count
    assert not re.search(r"\d", without)
    assert with_count != without
    for line in (with_count, without):
        assert line[0].isupper() and line.endswith(".") and "\n" not in line
        assert len(split_sentences(line)) <= 2  # one line, in at most two short sentences
        assert fk_grade(line) < 9


def test_what_it_means_says_person_for_one_and_frames_unknown_levels_as_news() -> None:
    assert "1 person" in what_it_means("case report", 1)
    assert what_it_means("Phase 1", 0) == what_it_means("phase 1", None)
    assert what_it_means("miracle", 3) == what_it_means("news", 3)
    assert what_it_means("phase 2", -1) == what_it_means("phase 2", None)


# --- glossary ------------------------------------------------------------------------


def test_packaged_glossary_has_plain_one_sentence_entries(glossary: Glossary) -> None:
    assert len(glossary) >= 40
    names = [t.term for t in glossary]
    for needed in ("CAR-T cell therapy", "CD19", "BCMA", "CRS (cytokine release syndrome)"):
        assert needed in names
    for term in glossary:
        assert len(split_sentences(term.plain)) == 1, term.term
        assert len(term.plain.split()) <= 22, term.term
        assert term.patterns
    average = sum(fk_grade(t.plain) for t in glossary) / len(glossary)
    assert average < 7


def test_glossary_terms_reported_once_in_order_of_first_use(glossary: Glossary) -> None:
    result = explain(
        MACKENSEN_TITLE, MACKENSEN, evidence="case series", patients=5, glossary=glossary
    )
    names = [t.term for t in result.terms]
    assert len(names) == len(set(names))
    combined = f"{MACKENSEN_TITLE}\n{result.summary}"

    def first_use(name: str) -> int:
        term = next(t for t in result.terms if t.term == name)
        return min(m.start() for p in term.patterns if (m := p.search(combined)))

    assert [first_use(n) for n in names] == sorted(first_use(n) for n in names)
    # The title's terms come first, in the title's own order.
    assert names[:5] == [
        "CD19",
        "CAR-T cell therapy",
        "T cells",
        "Refractory",
        "Systemic lupus erythematosus (SLE)",
    ]
    assert "Remission" in names and "SLEDAI" not in result.unexplained_terms


def test_an_unexplained_abbreviation_is_reported(glossary: Glossary) -> None:
    text = (
        "Levels of IL-6 and CRP fell in all patients after the CAR-T infusion was given. "
        "A tandem CD19/CD22 CAR-T product and an anti-CD19 antibody are being compared."
    )
    result = explain("IL-6 after CAR-T", text, evidence="news", patients=None, glossary=glossary)
    assert result.unexplained_terms == ("IL-6", "CRP", "CD22")


def test_glossary_covers_the_jargon_of_the_fixture_abstracts(glossary: Glossary) -> None:
    for title, text in ABSTRACTS:
        result = explain(title, text, evidence="news", patients=None, glossary=glossary)
        assert result.unexplained_terms == (), title
    result = explain(MG_NEWS_TITLE, MG_NEWS, evidence="news", patients=None, glossary=glossary)
    names = [t.term for t in result.terms]
    assert names[:3] == ["mRNA CAR-T", "DNA and RNA", "CAR-T cell therapy"]
    assert "Myasthenia gravis" in names and "Myasthenia gravis scores (MG-ADL, QMG)" in names


def test_explanation_of_each_abstract(glossary: Glossary) -> None:
    result = explain(MULLER_TITLE, MULLER, evidence="case series", patients=15, glossary=glossary)
    assert isinstance(result, Explanation)
    assert "15 people" in result.what_it_means
    assert result.fk_grade == fk_grade(result.summary)
    assert any(t.term == "DORIS remission" for t in result.terms)


def test_editor_glossary_adds_and_rewords_terms(tmp_path: Path, glossary: Glossary) -> None:
    extra = tmp_path / "glossary.toml"
    extra.write_text(
        "[[terms]]\n"
        'term = "KYV-101"\n'
        "patterns = ['\\bKYV-?101\\b']\n"
        'plain = "A CD19 CAR-T treatment made by the company Kyverna."\n'
        "\n[[terms]]\n"
        'term = "CD19"\n'
        "patterns = ['\\bCD19\\b']\n"
        'plain = "A flag on B cells."\n',
        encoding="utf-8",
    )
    text = (
        "Kyverna said a patient with lupus nephritis relapsed five months after KYV-101. "
        "The company still plans a larger study of the CD19 treatment next year."
    )
    before = explain("Kyverna update", text, evidence="news", patients=None, glossary=glossary)
    # The packaged glossary explains KYV-101 only as a code name; the editor's term is specific.
    assert "Treatment code names" in [t.term for t in before.terms]
    assert "KYV-101" not in [t.term for t in before.terms]

    merged = load_glossary(extra)
    assert len(merged) == len(glossary) + 1
    assert merged[-1].term == "KYV-101"
    assert [t.plain for t in merged if t.term == "CD19"] == ["A flag on B cells."]
    after = explain("Kyverna update", text, evidence="news", patients=None, glossary=merged)
    assert "KYV-101" in [t.term for t in after.terms]
    assert "KYV-101" not in after.unexplained_terms


def test_bad_regex_in_editor_glossary_names_file_term_and_pattern(tmp_path: Path) -> None:
    extra = tmp_path / "bad.toml"
    extra.write_text(
        '[[terms]]\nterm = "Broken"\npatterns = [\'\\bCAR(\']\nplain = "x."\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_glossary(extra)
    error = caught.value
    assert str(extra) in error.message and "Broken" in error.message and "CAR(" in error.message
    assert error.context == {"file": str(extra), "term": "Broken", "pattern": "\\bCAR("}
    assert "[[terms]]" in error.hint


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("[[terms]]\nterm = 'X'\nplain = 'x.'\n", "patterns"),
        ("[[terms]]\nterm = 'X'\npatterns = ['\\bx\\b']\nplain = 'x.'\npattern = 'x'\n", "unknown"),
        ("[[terms]]\nterm = 'X'\npatterns = ['x?']\nplain = 'x.'\n", "empty text"),
        ("[[terms\n", "not valid TOML"),
    ],
)
def test_broken_editor_glossary_is_a_config_error(
    tmp_path: Path, content: str, complaint: str
) -> None:
    extra = tmp_path / "glossary.toml"
    extra.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=complaint):
        load_glossary(extra)


def test_missing_editor_glossary_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_glossary(tmp_path / "nope.toml")


# --- readability ---------------------------------------------------------------------

COMMON_WORDS = {
    "the": 1, "people": 2, "table": 2, "little": 2, "because": 2, "family": 3,
    "medicine": 3, "hospital": 3, "doctor": 2, "treatment": 2, "study": 2, "studying": 3,
    "beautiful": 3, "every": 2, "remember": 3, "different": 3, "usually": 4, "likely": 2,
    "used": 1, "wanted": 2, "makes": 1, "changes": 2, "area": 3, "idea": 3, "trial": 2,
    "patient": 2, "science": 2, "period": 3, "being": 2, "year": 1,
}  # fmt: skip


def test_syllables_of_common_words() -> None:
    assert len(COMMON_WORDS) == 30
    misses = {w: syllables(w) for w, n in COMMON_WORDS.items() if syllables(w) != n}
    assert all(abs(syllables(w) - COMMON_WORDS[w]) <= 1 for w in misses)
    assert len(misses) <= 3, misses


def test_syllables_of_abbreviations_and_numbers() -> None:
    assert syllables("CRS") == 3
    assert syllables("FDA") == 3
    assert syllables("CD19") == 4
    assert syllables("B-cell") == 2
    assert syllables("Müller") == 2
    assert syllables("") == 0


def test_reading_grade_is_low_for_simple_text_and_high_for_an_abstract() -> None:
    simple = "The cat sat on the mat. It was a warm day. We went to the park to play."
    assert fk_grade(simple) < 6
    assert fk_grade(MULLER) > 12
    assert fk_grade("") == 0.0
    assert smog_grade("") == 0.0
    assert smog_grade(simple) < smog_grade(MULLER)


def test_fk_grade_follows_the_formula() -> None:
    text = "Cells fight germs. Doctors help people."
    # 6 words, 2 sentences, 1+1+1 + 2+1+2 = 8 syllables.
    assert fk_grade(text) == pytest.approx(0.39 * 3 + 11.8 * 8 / 6 - 15.59)


# --- offline -------------------------------------------------------------------------


def test_everything_works_with_sockets_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network used by the explain stage")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    glossary = load_glossary()
    for title, text in ABSTRACTS:
        result = explain(title, text, evidence="phase 1", patients=5, glossary=glossary)
        assert result.summary and result.terms
        assert smog_grade(result.summary) > 0


def test_a_fresh_interpreter_imports_and_explains_without_network() -> None:
    # A first import also builds the sentence splitter; prove that needs no network.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network')\n"
        "socket.socket = refuse\n"
        "socket.create_connection = refuse\n"
        "from carnews.explain.extractive import explain, load_glossary\n"
        "r = explain('CAR-T in lupus', 'CAR-T cells put lupus into remission in five patients. "
        "All five stopped their medicines. None had severe side effects. ', "
        "evidence='case series', patients=5, glossary=load_glossary())\n"
        "print(len(r.terms))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 2
