"""Enrich: a thin entry gets the abstract or description its landing page gives.

News and Google News items often carry a title and a teaser; curate and explain need
more. After ingest, each recent entry with less than ``fetch.enrich_min_chars`` of text
beyond its title whose title and teaser already score ``fetch.enrich_min_score`` (a bar
below the curate threshold: a teaser rarely names both the therapy and the disease)
has its link read once, politely: the run's HTTP client (User-Agent, timeouts, a body
cap), robots.txt checked on every hop (``gather.robots``), redirects followed by hand
so each hop is checked (Google News links redirect), one request at a time per host,
at most ``fetch.enrich_max_pages`` pages a run (newest entries first; the rest wait
for the next run). ``gather.landing`` reads the page's metadata.

Each entry records what was found, the field it came from and the page it was on;
``landing_checked_at`` marks it read, found or not, so a page is never fetched twice,
and another entry with the same link takes the stored answer. An entry curated before
its page was read is detached from its story, so curation judges it again.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from carnews.clock import Clock
from carnews.curate.classify import classify
from carnews.curate.lexicon import Lexicon
from carnews.gather.http import MAX_REDIRECTS, HttpAnswer, get, make_client
from carnews.gather.ingest import is_blocked
from carnews.gather.landing import Landing, beyond_title, landing_text
from carnews.gather.robots import Robots, origin
from carnews.settings import FetchSettings
from carnews.storage import Database
from carnews.storage.models import Entry
from carnews.text.urls import safe_url

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
REDIRECTS = {301, 302, 303, 307, 308}
THREAD_PARSE_BYTES = 512 * 1024
CHUNK = 500  # links per IN (...): within SQLite's limit on bound parameters
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class EnrichReport:
    read: int = 0  # landing pages requested
    enriched: int = 0  # entries that gained text, from a page read now or before
    cached: int = 0  # entries whose page an earlier run (or another entry) had read
    disallowed: int = 0  # pages robots.txt keeps carnews from
    deferred: int = 0  # pages over this run's cap, left for the next run
    failed: tuple[tuple[str, str], ...] = ()  # (url, why) of pages that could not be read


@dataclass
class _Thin:
    """The entries linking to one page, and the first one's title."""

    title: str
    ids: list[int]


@dataclass(frozen=True)
class _Read:
    """What became of one link."""

    link: str
    landing: Landing | None = None
    url: str | None = None  # the last URL requested (after redirects)
    requested: bool = False
    disallowed: bool = False
    error: str | None = None


def looks_worth_reading(title: str, text: str, lexicon: Lexicon, options: FetchSettings) -> bool:
    """Thin (little text beyond the title) and already leaning relevant on what it has."""
    if len(beyond_title(title, text)) >= options.enrich_min_chars:
        return False
    verdict = classify(title, text, lexicon=lexicon, threshold=options.enrich_min_score)
    return verdict.score >= options.enrich_min_score


async def enrich_thin_entries(
    db: Database,
    options: FetchSettings,
    lexicon: Lexicon,
    clock: Clock,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> EnrichReport:
    """Read the landing pages of thin, relevant-looking entries and store what they say."""
    now = clock()
    wanted = await _thin_entries(db, options, lexicon, now)
    known = await _read_before(db, list(wanted))
    links = [link for link in wanted if link not in known]
    fetching, deferred = links[: options.enrich_max_pages], links[options.enrich_max_pages :]
    reads: list[_Read] = []
    if fetching:
        async with make_client(contact_url=options.contact_url, timeout=options.timeout_seconds,
                               connect_timeout=options.connect_timeout_seconds,
                               transport=transport) as client:  # fmt: skip
            robots = Robots(client, db, clock, timeout=options.timeout_seconds)
            reader = _Reader(client, robots, options)
            pages = (reader.read(link, wanted[link].title) for link in fetching)
            reads = list(await asyncio.gather(*pages))
    await _record(db, wanted, known, reads, now)
    gained = [r.link for r in reads if r.landing]
    gained += [link for link, row in known.items() if row["landing_text"]]
    return EnrichReport(
        read=sum(r.requested for r in reads),
        enriched=sum(len(wanted[link].ids) for link in gained),
        cached=sum(len(wanted[link].ids) for link in known),
        disallowed=sum(r.disallowed for r in reads),
        deferred=len(deferred),
        failed=tuple((r.url or r.link, r.error) for r in reads if r.error),
    )


async def _thin_entries(
    db: Database, options: FetchSettings, lexicon: Lexicon, now: datetime
) -> dict[str, _Thin]:
    """The entries by link, for the links worth reading; newest entries first."""
    since = now - timedelta(days=options.enrich_window_days)
    query = (
        select(Entry.id, Entry.title, Entry.text, Entry.link)
        .where(Entry.historic.is_(False), Entry.landing_checked_at.is_(None))
        .where(Entry.link.is_not(None), Entry.fetched_at >= since)
        .order_by(Entry.id.desc())
    )
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    wanted: dict[str, _Thin] = {}
    for entry_id, title, text, link in rows:
        if link is None:  # excluded by the query; said again for the type checker
            continue
        if link in wanted:
            wanted[link].ids.append(entry_id)
        elif (
            origin(link) is not None
            and not is_blocked(link, options.blocked_domains)
            and looks_worth_reading(title, text, lexicon, options)
        ):
            wanted[link] = _Thin(title, [entry_id])
    return wanted


_STORED = ("landing_text", "landing_source", "landing_url", "landing_checked_at")


async def _read_before(db: Database, links: list[str]) -> dict[str, dict[str, Any]]:
    """What earlier reads of these links stored, by link: the page cache."""
    found: dict[str, dict[str, Any]] = {}
    columns = [getattr(Entry, name) for name in _STORED]
    async with db.session() as session:
        for start in range(0, len(links), CHUNK):
            query = select(Entry.link, *columns).where(
                Entry.link.in_(links[start : start + CHUNK]), Entry.landing_checked_at.is_not(None)
            )
            for link, *values in await session.execute(query.order_by(Entry.id)):
                row = dict(zip(_STORED, values, strict=True))
                if link not in found or (row["landing_text"] and not found[link]["landing_text"]):
                    found[link] = row
    return found


async def _record(
    db: Database,
    wanted: dict[str, _Thin],
    known: dict[str, dict[str, Any]],
    reads: list[_Read],
    now: datetime,
) -> None:
    """Store every answer on every entry with that link; entries that gained text are
    detached from their story, so curation judges it again with the new text."""
    values = dict(known)
    for read in reads:
        found = read.landing
        values[read.link] = {
            "landing_text": found.text if found else "",
            "landing_source": found.source if found else None,
            "landing_url": found.url if found else read.url,
            "landing_checked_at": now,
        }
    if not values:
        return
    async with db.session() as session:
        for link, row in values.items():
            changes = {**row, "story_id": None} if row["landing_text"] else row
            matching = update(Entry).where(Entry.id.in_(wanted[link].ids))
            await session.execute(matching.values(changes))


class _Reader:
    """Reads landing pages: robots.txt on every hop, one request at a time per host."""

    def __init__(self, client: httpx.AsyncClient, robots: Robots, options: FetchSettings) -> None:
        self._client, self._robots, self._options = client, robots, options
        self._slots = asyncio.Semaphore(options.concurrency)
        self._hosts: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def read(self, link: str, title: str) -> _Read:
        url: str | None = link
        requested = False
        for _ in range(MAX_REDIRECTS + 1):
            site = origin(url) if url is not None else None
            if url is None or site is None:
                return _Read(link, requested=requested, error="redirected off http(s)")
            # The host first, then a slot: waiting for a busy host holds no slot.
            async with self._hosts[site]:
                if not await self._robots.allows(url):
                    return _Read(link, url=url, requested=requested, disallowed=True)
                async with self._slots:
                    answer = await self._get(url)
            requested = True
            location = answer.header("location")
            if answer.status not in REDIRECTS or not location:
                return await self._parse(link, url, answer, title)
            url = safe_url(location, base=url)  # the one rule for links, on every hop
        return _Read(link, url=url, requested=True, error=f"more than {MAX_REDIRECTS} redirects")

    async def _get(self, url: str) -> HttpAnswer:
        return await get(self._client, url, max_bytes=self._options.enrich_max_bytes,
                         total_timeout=self._options.timeout_seconds, accept=HTML_ACCEPT,
                         follow_redirects=False)  # fmt: skip

    async def _parse(self, link: str, url: str, answer: HttpAnswer, title: str) -> _Read:
        if not answer.ok:
            return _Read(link, url=url, requested=True, error=answer.error or "no page")
        kind = answer.header("content-type") or "text/html"
        if "html" not in kind.lower():
            return _Read(link, url=url, requested=True, error=f"not an HTML page ({kind})")
        charset = _CHARSET.search(kind)
        encoding = charset.group(1) if charset else None
        if len(answer.body) > THREAD_PARSE_BYTES:  # keep the event loop free for the rest
            found = await asyncio.to_thread(
                landing_text, answer.body, url, encoding=encoding, title=title
            )
        else:
            found = landing_text(answer.body, url, encoding=encoding, title=title)
        return _Read(link, landing=found, url=url, requested=True)
