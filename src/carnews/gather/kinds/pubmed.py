"""PubMed through E-utilities: ESearch finds the newest PMIDs, EFetch brings their records.

The source's url is the E-utilities base ("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/")
and its query is a PubMed search. ESearch is asked for the articles that entered PubMed in
the last ``window_days`` days (``datetype=edat``: the Entrez date, so a paper indexed late
still counts as news), newest first; EFetch returns them as PubmedArticleSet XML.

The XML is parsed with the standard library's ElementTree: it never fetches the DTD or an
external entity, expat (2.4 and later) refuses entity-expansion bombs, and
``carnews.gather.http.get`` has already capped the body at ``max_bytes``.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from carnews.gather.fetch import FetchedEntry, FetchResult, Poll, build_entry, too_slow
from carnews.gather.kinds.common import generated_result, get_within

TOOL = "carnews"  # NCBI asks every client to name itself, so it can write before it blocks
RETMAX = 100
NOT_JSON = "PubMed answered with something that is not E-utilities JSON"
NOT_XML = "PubMed answered with something that is not E-utilities XML"
INLINE_TAGS = {"i", "b", "u", "sup", "sub"}  # PubMed's inline markup; other tags become text
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


async def fetch_pubmed(client: httpx.AsyncClient, poll: Poll) -> FetchResult:
    """Search, then fetch the records; every failure comes back as an ``error`` result.

    ``poll.now`` goes unused: ``reldate`` counts back from NCBI's own today.
    """
    request, query, max_bytes = poll.request, poll.query, poll.max_bytes
    started = time.perf_counter()
    deadline = started + poll.total_timeout
    search_url = _endpoint(request.url, "esearch.fcgi", _search_params(query, poll.window_days))
    search = await get_within(client, search_url, max_bytes=max_bytes, deadline=deadline)
    if not search.ok:
        return generated_result(request, search, started)
    try:
        pmids, count = parse_esearch(search.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        return generated_result(
            request, search, started, outcome="error", error=f"{NOT_JSON}: {exc}"
        )
    if not pmids:  # nothing new this window: no EFetch call at all
        return generated_result(request, search, started)
    fetch_url = _endpoint(
        request.url,
        "efetch.fcgi",
        {"db": "pubmed", "id": ",".join(pmids), "rettype": "abstract", "retmode": "xml"},
    )
    fetched = await get_within(client, fetch_url, max_bytes=max_bytes, deadline=deadline)
    if not fetched.ok:
        return generated_result(request, fetched, started)
    try:
        async with asyncio.timeout(poll.parse_timeout):  # off the loop: see gather/fetch.py
            entries, warnings = await asyncio.to_thread(parse_articles, fetched.body)
    except TimeoutError:
        return generated_result(
            request, fetched, started, outcome="error", error=too_slow(poll.parse_timeout)
        )
    except (ValueError, RecursionError, ET.ParseError) as exc:
        return generated_result(
            request, fetched, started, outcome="error", error=f"{NOT_XML}: {exc}"
        )
    if count > len(pmids):
        warnings += (f"PubMed found {count} articles; only the newest {len(pmids)} were fetched",)
    return generated_result(request, fetched, started, entries=entries, warnings=warnings)


def _search_params(query: str, window_days: int) -> dict[str, Any]:
    """The newest ``RETMAX`` articles that entered PubMed in the last ``window_days`` days."""
    return {
        "db": "pubmed",
        "term": query,
        "retmode": "json",
        "retmax": RETMAX,
        "sort": "pub_date",
        "datetype": "edat",
        "reldate": window_days,
    }


def _endpoint(base: str, utility: str, params: dict[str, Any]) -> str:
    # %20 rather than "+" for spaces: a PubMed query is full of spaces, quotes and brackets.
    query = urlencode({**params, "tool": TOOL}, quote_via=quote)
    return f"{base.rstrip('/')}/{utility}?{query}"


def parse_esearch(body: bytes) -> tuple[list[str], int]:
    """The PMIDs an ESearch JSON answer lists, and how many articles matched in all."""
    data = json.loads(body)
    found = data.get("esearchresult") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise ValueError("no esearchresult object")
    if found.get("ERROR"):  # e.g. a query PubMed cannot parse
        raise ValueError(f"ESearch error: {found['ERROR']}")
    ids = found.get("idlist")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i.isdigit() for i in ids):
        raise ValueError("idlist is not a list of PMIDs")
    count = str(found.get("count", len(ids)))
    return ids, int(count) if count.isdigit() else len(ids)


def parse_articles(body: bytes) -> tuple[tuple[FetchedEntry, ...], tuple[str, ...]]:
    """Entries from an EFetch PubmedArticleSet; records without a PMID become warnings."""
    root = ET.fromstring(body)
    if root.tag != "PubmedArticleSet":
        problem = " ".join(root.itertext()).strip()[:200]
        raise ValueError(f"root element is <{root.tag}>" + (f": {problem}" if problem else ""))
    entries: list[FetchedEntry] = []
    warnings: list[str] = []
    for record in root.findall("PubmedArticle"):
        pmid = (record.findtext("MedlineCitation/PMID") or "").strip()
        article = record.find("MedlineCitation/Article")
        if not pmid.isdigit() or article is None:
            warnings.append("a PubmedArticle without a PMID or Article was skipped")
            continue
        entries.append(_entry(pmid, article, record))
    return tuple(entries), tuple(warnings)


def _entry(pmid: str, article: ET.Element, record: ET.Element) -> FetchedEntry:
    doi = _doi(article, record)
    journal = (article.findtext("Journal/Title") or "").strip()
    body = _abstract(article)
    if journal:
        body += f"<p>Published in <i>{html.escape(journal, quote=False)}</i>.</p>"
    title = article.find("ArticleTitle")
    if title is None or not "".join(title.itertext()).strip():
        title = article.find("VernacularTitle")  # some records carry only the original title
    return build_entry(
        guid=f"pubmed:{pmid}",
        link=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        title=_inner_html(title) if title is not None else "",
        body=body,
        published_at=_published(article),
        author=_first_author(article),
        structured_ids=[f"pmid:{pmid}", *([f"doi:{doi}"] if doi else [])],
        labels=_labels(article),
    )


def _labels(article: ET.Element) -> dict[str, Any]:
    """PubMed's own publication types ("Review", "Case Reports", "Clinical Trial, Phase I",
    "Preprint"…): they decide the study type better than any text rule."""
    types = [" ".join("".join(node.itertext()).split())
             for node in article.findall("PublicationTypeList/PublicationType")]  # fmt: skip
    found: dict[str, Any] = {"publication_types": [t for t in types if t]}
    if any(t.lower() == "preprint" for t in types):
        found["source_kind"] = "preprint"
    return found


def _inner_html(element: ET.Element) -> str:
    """An element's content as HTML: text escaped, PubMed's inline tags kept, others unwrapped."""
    parts = [html.escape(element.text or "", quote=False)]
    for child in element:
        inner = _inner_html(child)
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        parts.append(f"<{tag}>{inner}</{tag}>" if tag in INLINE_TAGS else inner)
        parts.append(html.escape(child.tail or "", quote=False))
    return "".join(parts)


def _abstract(article: ET.Element) -> str:
    paragraphs = []
    for part in article.findall("Abstract/AbstractText"):
        text = _inner_html(part).strip()
        label = (part.get("Label") or "").strip()
        if label:
            text = f"<b>{html.escape(label, quote=False)}:</b> {text}"
        if text:
            paragraphs.append(f"<p>{text}</p>")
    return "".join(paragraphs)


def _doi(article: ET.Element, record: ET.Element) -> str | None:
    # PubmedData/ArticleIdList only: the ReferenceList below it holds the cited papers' DOIs.
    for node in (
        record.find("PubmedData/ArticleIdList/ArticleId[@IdType='doi']"),
        article.find("ELocationID[@EIdType='doi']"),
    ):
        if node is not None and (node.text or "").strip():
            return (node.text or "").strip()
    return None


def _first_author(article: ET.Element) -> str | None:
    authors = article.findall("AuthorList/Author")
    if not authors:
        return None
    first = authors[0]
    name = first.findtext("CollectiveName") or " ".join(
        part for part in (first.findtext("LastName"), first.findtext("Initials")) if part
    )
    return f"{name} et al." if len(authors) > 1 else name


def _published(article: ET.Element) -> datetime | None:
    """The electronic publication date if there is one, else the issue's date."""
    for node in (article.find("ArticleDate"), article.find("Journal/JournalIssue/PubDate")):
        if node is None:
            continue
        year, month, day = (node.findtext(key) or "" for key in ("Year", "Month", "Day"))
        if not year:  # <MedlineDate>2026 Nov-Dec</MedlineDate>: its year and first month
            match = re.match(r"\s*(\d{4})(?:\s+([A-Za-z]{3}))?", node.findtext("MedlineDate") or "")
            year, month = match.groups("") if match else ("", "")
        moment = _date(year, month, day)
        if moment is not None:
            return moment
    return None


def _date(year: str, month: str, day: str) -> datetime | None:
    """Year, month ("11" or "Nov"; a season counts as unknown) and day as midnight UTC."""
    month = month.strip().lower()[:3]
    number = MONTHS.index(month) + 1 if month in MONTHS else int(month) if month.isdigit() else 1
    try:
        return datetime(int(year), number, int(day) if day.strip().isdigit() else 1, tzinfo=UTC)
    except ValueError:
        return None
