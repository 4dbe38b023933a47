"""Identify: give each entry a stable identity within its source and across sources.

Within a source an entry is known by its guid, else its link, else a hash of its
content, so feeds that omit guids still do not repeat. Across sources the
*canonical key* names the thing the entry is about: a DOI, a PubMed id, a
ClinicalTrials.gov NCT number, or else a normalised URL. Two entries with the
same canonical key become one Story.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from carnews.gather.clean import strip_tracking

DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>&?#]+)", re.IGNORECASE)
PMID_IN_URL = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov/(\d{1,9})\b|[?&]pmid=(\d{1,9})\b", re.I)
PMID_LABEL = re.compile(r"\bpmid\s*:?\s*(\d{1,9})\b", re.IGNORECASE)
NCT = re.compile(r"\b(NCT\d{8})\b", re.IGNORECASE)
DOI_TRAILING = ".,;:)]}>"


@dataclass(frozen=True)
class Identifiers:
    doi: str | None = None
    pmid: str | None = None
    nct: str | None = None

    def canonical(self) -> str | None:
        if self.doi:
            return f"doi:{self.doi}"
        if self.pmid:
            return f"pmid:{self.pmid}"
        if self.nct:
            return f"nct:{self.nct}"
        return None


def _clean_doi(raw: str) -> str:
    doi = unquote(raw).rstrip(DOI_TRAILING).lower()
    # "10.1000/xyz.abstract" style suffixes point at one page of the same article.
    doi = re.sub(r"\.(abstract|full|pdf|html?)$", "", doi)
    # medRxiv/bioRxiv DOIs carry a version ("…26363112v2"): every version is one preprint.
    return re.sub(r"^(10\.1101/.+?)v\d+$", r"\1", doi)


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    if not match:
        return None
    return next(group for group in match.groups() if group)


def _unique(
    pattern: re.Pattern[str], text: str, normalise: Callable[[str], str] = str.lower
) -> str | None:
    """The one identifier ``text`` names, compared after ``normalise``: "10.1/x." is "10.1/x"."""
    found = {normalise(next(g for g in m.groups() if g)) for m in pattern.finditer(text)}
    return found.pop() if len(found) == 1 else None


def find_identifiers(structured: Iterable[str], body: str = "") -> Identifiers:
    """Identifiers from a feed's own fields first; from free text only when unambiguous.

    ``structured`` holds the link, guid and identifier fields: what the publisher says
    the entry *is*. The body may cite other work, so an identifier is taken from it
    only when the body names exactly one of that kind.
    """
    fields = " ".join(structured)
    structured_doi = _first(DOI, fields)
    doi = _clean_doi(structured_doi) if structured_doi else _unique(DOI, body, _clean_doi)
    pmid = _first(PMID_IN_URL, fields) or _first(PMID_LABEL, fields) or _unique(PMID_LABEL, body)
    nct = _first(NCT, fields) or _unique(NCT, body)
    return Identifiers(doi=doi, pmid=pmid, nct=nct.upper() if nct else None)


def normalise_url(url: str) -> str:
    """One spelling per page: lower-case host, no www, fragment or tracking; sorted query."""
    url = strip_tracking(url.strip())
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for "host:abc" or "host:99999"
    except ValueError:
        return url
    host = (parts.hostname or "").lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path.rstrip("/") or "/"
    scheme = "https" if parts.scheme in ("http", "https") else parts.scheme
    return urlunsplit((scheme, host, path, query, ""))


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def entry_guid(guid: str | None, link: str | None, title: str, body: str) -> str:
    """The per-source identity: guid → link → content hash."""
    if guid and guid.strip():
        return guid.strip()[:1000]
    if link and link.strip():
        return normalise_url(link)[:1000]
    return "sha256:" + content_hash(title, body)


def canonical_key(identifiers: Identifiers, link: str | None, guid: str) -> str:
    """The cross-source identity of what an entry is about."""
    key = identifiers.canonical()
    if key:
        return key
    if link:
        return "url:" + normalise_url(link)
    return "guid:" + guid
