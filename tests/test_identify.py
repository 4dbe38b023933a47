"""Identify: the same article, trial or page gets the same key however a feed spells it."""

from __future__ import annotations

import pytest

from carnews.gather.identify import (
    Identifiers,
    canonical_key,
    entry_guid,
    find_identifiers,
    normalise_url,
)

# --- DOIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "https://doi.org/10.1038/s41591-024-02987-1",
        "doi:10.1038/S41591-024-02987-1",
        "https://www.nature.com/articles/10.1038/s41591-024-02987-1",
        "https://onlinelibrary.example/doi/10.1038/s41591-024-02987-1.abstract",
    ],
)
def test_doi_from_structured_fields_is_one_lower_case_key(field: str) -> None:
    assert find_identifiers([field]).doi == "10.1038/s41591-024-02987-1"


def test_structured_doi_wins_over_dois_cited_in_the_body() -> None:
    ids = find_identifiers(
        ["https://doi.org/10.1000/the.article"],
        "Builds on 10.1000/earlier.one and 10.1000/earlier.two.",
    )

    assert ids.doi == "10.1000/the.article"


def test_doi_from_body_when_it_is_the_only_one() -> None:
    ids = find_identifiers(
        ["https://news.example/story/1"],
        '<p>Read the paper: <a href="https://doi.org/10.1056/NEJMoa2308917">'
        "10.1056/NEJMoa2308917</a>.</p>",
    )

    assert ids.doi == "10.1056/nejmoa2308917"


def test_doi_mentioned_twice_with_different_punctuation_is_still_unique() -> None:
    ids = find_identifiers([], "See doi:10.1000/xyz.123. The study (10.1000/xyz.123) found…")

    assert ids.doi == "10.1000/xyz.123"


def test_doi_from_body_is_ignored_when_the_body_cites_several() -> None:
    ids = find_identifiers([], "Compare 10.1000/first.study with 10.1000/second.study.")

    assert ids.doi is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("doi:10.1000/abc.", "10.1000/abc"),
        ("(doi:10.1000/abc)", "10.1000/abc"),
        ("[10.1000/abc],", "10.1000/abc"),
        ("10.1000/abc;", "10.1000/abc"),
        ("10.1000/abc:", "10.1000/abc"),
        ('<a href="https://doi.org/10.1000/abc">x</a>', "10.1000/abc"),
        ("https://doi.org/10.1000/abc#section-2", "10.1000/abc"),
        ("https://doi.org/10.1000/abc?utm_source=rss", "10.1000/abc"),
    ],
)
def test_trailing_punctuation_and_url_parts_are_not_part_of_the_doi(
    text: str, expected: str
) -> None:
    assert find_identifiers([text]).doi == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://www.medrxiv.org/content/10.1101/2024.05.03.24306798v1",
        "https://www.medrxiv.org/content/10.1101/2024.05.03.24306798v2?rss=1",
        "https://www.medrxiv.org/content/10.1101/2024.05.03.24306798v12",
        "https://connect.medrxiv.org/relate/content/10.1101/2024.05.03.24306798",
    ],
)
def test_every_medrxiv_version_is_one_preprint(link: str) -> None:
    ids = find_identifiers([link])

    assert ids.doi == "10.1101/2024.05.03.24306798"
    assert ids.canonical() == "doi:10.1101/2024.05.03.24306798"


def test_version_like_endings_outside_medrxiv_are_kept() -> None:
    assert find_identifiers(["10.1000/model.v2"]).doi == "10.1000/model.v2"


# --- PubMed ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "https://pubmed.ncbi.nlm.nih.gov/38381673/",
        "https://pubmed.ncbi.nlm.nih.gov/38381673?utm_source=feed",
        "https://www.ncbi.nlm.nih.gov/entrez/query.fcgi?db=pubmed&pmid=38381673",
        "pubmed:38381673 PMID: 38381673",
        "PMID:38381673",
        "pmid 38381673",
    ],
)
def test_pmid_from_structured_fields(field: str) -> None:
    assert find_identifiers([field]).pmid == "38381673"


def test_pmid_label_in_the_body_when_unique() -> None:
    body = "<p>Published in Lancet. PMID: 38381673. Free full text.</p>"

    assert find_identifiers(["https://news.example/a"], body).pmid == "38381673"


def test_pmid_label_in_the_body_is_ignored_when_several() -> None:
    body = "<p>See PMID: 111 and PMID: 222.</p>"

    assert find_identifiers([], body).pmid is None


def test_a_bare_number_is_not_a_pmid() -> None:
    assert find_identifiers(["https://news.example/story/38381673"], "38381673 people").pmid is None


# --- ClinicalTrials.gov NCT numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "https://clinicaltrials.gov/study/NCT05930314",
        "https://clinicaltrials.gov/ct2/show/nct05930314?term=lupus",
        "nct05930314",
    ],
)
def test_nct_numbers_are_upper_case(field: str) -> None:
    assert find_identifiers([field]).nct == "NCT05930314"


def test_nct_from_body_only_when_unique() -> None:
    assert find_identifiers([], "Trial nct05930314 (NCT05930314).").nct == "NCT05930314"
    assert find_identifiers([], "Trials NCT05930314 and NCT06000001.").nct is None


def test_nothing_found_gives_no_identifiers() -> None:
    ids = find_identifiers(["https://news.example/a"], "<p>No ids here.</p>")

    assert ids == Identifiers()
    assert ids.canonical() is None


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/health/car-t?id=7&page=2",
        "http://news.example/health/car-t?id=7&page=2",
        "https://www.news.example/health/car-t?id=7&page=2",
        "HTTPS://WWW.NEWS.EXAMPLE/health/car-t?id=7&page=2",
        "https://news.example/health/car-t/?id=7&page=2",
        "https://news.example/health/car-t?page=2&id=7",
        "https://news.example/health/car-t?id=7&page=2#comments",
        "https://news.example/health/car-t?utm_source=rss&id=7&fbclid=x&page=2",
        "https://news.example:443/health/car-t?id=7&page=2",
        "  https://news.example/health/car-t?id=7&page=2\n",
    ],
)
def test_normalise_url_gives_one_spelling_per_page(url: str) -> None:
    assert normalise_url(url) == "https://news.example/health/car-t?id=7&page=2"


def test_normalise_url_keeps_path_case_and_distinct_ports() -> None:
    assert normalise_url("https://news.example:8443/Trials/NCT1") == (
        "https://news.example:8443/Trials/NCT1"
    )


def test_normalise_url_of_a_bare_host_has_a_root_path() -> None:
    assert normalise_url("https://www.news.example") == "https://news.example/"
    assert normalise_url("https://www.news.example/") == "https://news.example/"


@pytest.mark.parametrize("url", ["http://news.example:99999/a", "http://news.example:abc/a"])
def test_normalise_url_survives_a_malformed_port(url: str) -> None:
    assert normalise_url(url) == url


# --- per-source identity ------------------------------------------------------------------------


def test_entry_guid_prefers_the_guid() -> None:
    guid = entry_guid("  tag:news.example,2026:42 ", "https://news.example/a", "Title", "Body")

    assert guid == "tag:news.example,2026:42"


def test_entry_guid_falls_back_to_the_normalised_link() -> None:
    assert entry_guid(None, "http://www.news.example/a/?utm_source=rss", "T", "B") == (
        "https://news.example/a"
    )
    assert entry_guid("   ", "https://news.example/a", "T", "B") == "https://news.example/a"


def test_entry_guid_without_guid_or_link_is_a_stable_content_hash() -> None:
    first = entry_guid(None, None, "CAR-T in lupus", "Five patients.")
    again = entry_guid(None, "", "CAR-T in lupus", "Five patients.")
    other = entry_guid(None, None, "CAR-T in lupus", "Six patients.")

    assert first.startswith("sha256:")
    assert first == again
    assert first != other


def test_content_hash_separates_title_from_body() -> None:
    assert entry_guid(None, None, "ab", "c") != entry_guid(None, None, "a", "bc")


def test_entry_guid_is_bounded_in_length() -> None:
    assert len(entry_guid("x" * 5000, None, "T", "B")) == 1000


# --- cross-source identity ------------------------------------------------------------------------


def test_canonical_key_priority_is_doi_then_pmid_then_nct_then_url_then_guid() -> None:
    link = "https://www.news.example/a?utm_source=rss"
    everything = Identifiers(doi="10.1000/x", pmid="123", nct="NCT01234567")

    assert canonical_key(everything, link, "g") == "doi:10.1000/x"
    assert canonical_key(Identifiers(pmid="123", nct="NCT01234567"), link, "g") == "pmid:123"
    assert canonical_key(Identifiers(nct="NCT01234567"), link, "g") == "nct:NCT01234567"
    assert canonical_key(Identifiers(), link, "g") == "url:https://news.example/a"
    assert canonical_key(Identifiers(), None, "g") == "guid:g"
    assert canonical_key(Identifiers(), "", "g") == "guid:g"


def test_the_same_preprint_from_two_feeds_gets_one_key() -> None:
    from_medrxiv = find_identifiers(
        ["https://www.medrxiv.org/content/10.1101/2024.05.03.24306798v2?rss=1"]
    )
    from_news = find_identifiers(
        ["https://news.example/car-t-lupus"],
        '<p>The preprint <a href="https://doi.org/10.1101/2024.05.03.24306798v1">is here</a>.</p>',
    )

    assert canonical_key(from_medrxiv, "https://www.medrxiv.org/x", "a") == canonical_key(
        from_news, "https://news.example/car-t-lupus", "b"
    )
