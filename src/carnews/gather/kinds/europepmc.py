"""Europe PMC REST search: journal articles and preprints from the last ``window_days``.

The source's url is the search endpoint
("https://www.ebi.ac.uk/europepmc/webservices/rest/search") and its query a Europe PMC
search. carnews limits it to works first published in the window, newest first, in
``resultType=core`` so abstracts come along, and follows ``cursorMark`` for a few pages.
Europe PMC indexes preprints (``source`` PPR) too: they are marked as not yet peer
reviewed, because a reader must not take them for a published paper.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from carnews.gather.fetch import FetchedEntry, FetchResult, Poll, build_entry, too_slow
from carnews.gather.http import HttpAnswer
from carnews.gather.kinds.common import dig, generated_result, get_within

MAX_PAGES = 3
PAGE_SIZE = 100
NOT_JSON = "Europe PMC answered with something that is not REST search JSON"
PREPRINT = "<p><b>Preprint</b> (not yet peer reviewed).</p>"
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


async def fetch_europepmc(client: httpx.AsyncClient, poll: Poll) -> FetchResult:
    """Search page by page (at most 3); any failing page fails the poll."""
    request, query, max_bytes = poll.request, poll.query, poll.max_bytes
    started = time.perf_counter()
    deadline = started + poll.total_timeout
    answers: list[HttpAnswer] = []
    entries: list[FetchedEntry] = []
    cursor = "*"
    for _ in range(MAX_PAGES):
        url = search_url(request.url, query, poll.now, poll.window_days, cursor)
        answer = await get_within(client, url, max_bytes=max_bytes, deadline=deadline)
        answers.append(answer)
        if not answer.ok:
            return generated_result(request, answer, started)
        try:
            async with asyncio.timeout(poll.parse_timeout):  # off the loop: see gather/fetch.py
                found, hits, next_cursor = await asyncio.to_thread(parse_page, answer.body)
        except TimeoutError:
            error = too_slow(poll.parse_timeout)
            return generated_result(request, answer, started, outcome="error", error=error)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            return generated_result(
                request, answer, started, outcome="error", error=f"{NOT_JSON}: {exc}"
            )
        entries.extend(found)
        # Europe PMC hands back the same cursor once the results run out.
        if not found or not next_cursor or next_cursor == cursor or len(entries) >= hits:
            return generated_result(request, answers[0], started, entries=tuple(entries))
        cursor = next_cursor
    warning = f"more results than {MAX_PAGES} pages hold; only the newest were read"
    return generated_result(
        request, answers[0], started, entries=tuple(entries), warnings=(warning,)
    )


def search_url(base: str, query: str, now: datetime, window_days: int, cursor: str) -> str:
    """The search URL for one page: the query limited to first publication in the window."""
    today = now.astimezone(UTC).date()
    since = today - timedelta(days=window_days)
    # Parentheses keep "a OR b" in the query from binding to the date clause alone.
    params = {
        "query": f"({query}) AND FIRST_PDATE:[{since.isoformat()} TO {today.isoformat()}]",
        "format": "json",
        "resultType": "core",
        "pageSize": str(PAGE_SIZE),
        "cursorMark": cursor,
        "sort": "P_PDATE_D desc",
    }
    return f"{base.rstrip('?')}?{urlencode(params, quote_via=quote)}"


def parse_page(body: bytes) -> tuple[list[FetchedEntry], int, str | None]:
    """One page of search JSON: its entries, the total hit count and the next cursor."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    results = dig(data, "resultList", "result")
    if not isinstance(results, list):
        message = data.get("errMsg") or data.get("message")
        raise ValueError(str(message) if message else "no resultList.result list")
    hits = data.get("hitCount")
    cursor = data.get("nextCursorMark")
    entries = [_entry(item) for item in results if dig(item, "id") and dig(item, "source")]
    return (
        entries,
        hits if isinstance(hits, int) else len(entries),
        cursor if isinstance(cursor, str) and cursor else None,
    )


def _entry(item: Any) -> FetchedEntry:
    source, work = str(item["source"]), str(item["id"])
    doi, pmid = _text(item, "doi"), _text(item, "pmid")
    preprint = source == "PPR"
    page = f"https://europepmc.org/article/{source}/{work}"
    link = f"https://doi.org/{quote(doi)}" if doi else page
    # abstractText is HTML already (<h4> headings, <i>, <sup>): build_entry sanitises it.
    body = (PREPRINT if preprint else "") + _text(item, "abstractText") + _venue(item, preprint)
    return build_entry(
        guid=f"europepmc:{source}:{work}",
        link=link,
        title=_text(item, "title"),
        body=body,
        published_at=_date(_text(item, "firstPublicationDate")),
        author=_first_author(_text(item, "authorString")),
        structured_ids=[*([f"pmid:{pmid}"] if pmid else []), *([f"doi:{doi}"] if doi else [])],
        labels=_labels(item, preprint),
    )


def _labels(item: Any, preprint: bool) -> dict[str, Any]:
    """Europe PMC's publication types (PubMed's, for a MEDLINE record), and "preprint" for
    its preprint source (PPR)."""
    types = dig(item, "pubTypeList", "pubType")
    found: dict[str, Any] = {
        "publication_types": [t for t in types if isinstance(t, str)] if isinstance(types, list)
        else [],
    }  # fmt: skip
    if preprint or any(t.lower() == "preprint" for t in found["publication_types"]):
        found["source_kind"] = "preprint"
    return found


def _text(item: Any, *keys: str) -> str:
    value = dig(item, *keys)
    return str(value).strip() if isinstance(value, str | int) else ""


def _venue(item: Any, preprint: bool) -> str:
    """Where the work appeared: the journal, or for a preprint the server that posted it."""
    journal = _text(item, "journalInfo", "journal", "title")
    if journal:
        return f"<p>Published in <i>{escape(journal, quote=False)}</i>.</p>"
    server = _text(item, "bookOrReportDetails", "publisher")
    if preprint and server:
        return f"<p>Posted on <i>{escape(server, quote=False)}</i>.</p>"
    return ""


def _first_author(names: str) -> str | None:
    """The first of the authors, like the PubMed kind: "Okafor N, Brandt K." → "Okafor N et al."."""
    authors = [name.strip() for name in names.rstrip(".").split(",") if name.strip()]
    if not authors:
        return None
    return f"{authors[0]} et al." if len(authors) > 1 else authors[0]


def _date(value: str) -> datetime | None:
    match = DATE.match(value)
    if not match:
        return None
    year, month, day = map(int, match.groups())
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
