"""Ingest: poll the sources that are due and store what they published.

The fetch stage's database side. Due sources are fetched concurrently, at
most ``fetch.concurrency`` at once and ``fetch.per_host`` per host (one broken
or slow source never stops the others), and every entry is stored new,
updated (same identity, new content) or unchanged. Running it twice stores
nothing twice. ``sources`` decides when each source is polled next.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.gather.fetch import FetchedEntry, FetchRequest, FetchResult, Poll
from carnews.gather.http import make_client
from carnews.gather.identify import canonical_key, content_hash, entry_guid
from carnews.gather.kinds import fetch_kind
from carnews.gather.sources import (
    count_poll,
    is_due,
    record_failure,
    record_success,
    sync_sources,
)
from carnews.settings import FetchSettings, Settings
from carnews.storage import Database
from carnews.storage.models import Entry, Source, SourceHealth

Outcome = str  # "new" | "updated" | "unchanged" | "blocked"


@dataclass(frozen=True)
class SourceReport:
    name: str
    url: str
    outcome: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    blocked: int = 0
    seconds: float = 0.0
    error: str | None = None
    unsafe_links: int = 0  # entries whose link was not http(s): stored without a link
    warnings: tuple[str, ...] = ()


def unsafe_link_warning(entries: tuple[FetchedEntry, ...]) -> tuple[int, tuple[str, ...]]:
    """How many entries came with a link that is not http(s), and a line saying so."""
    dropped = [entry.unsafe_link for entry in entries if entry.unsafe_link]
    if not dropped:
        return 0, ()
    # repr: the link is the source's text, shown with its control characters made visible.
    example = repr(dropped[0][:120])
    return len(dropped), (
        f"{len(dropped)} entry links were not http or https and were dropped "
        f"(the entries are kept without a link), e.g. {example}",
    )


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_blocked(link: str | None, blocked: tuple[str, ...]) -> bool:
    host = _host(link or "")
    return any(host == domain or host.endswith("." + domain) for domain in blocked)


async def ingest(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    force: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    on_source_done: Callable[[SourceReport], None] | None = None,
) -> list[SourceReport]:
    """Fetch every due source (every healthy one with ``force``) and store its entries."""
    now = clock()
    await sync_sources(db, settings.sources, now)
    async with db.read() as session:
        query = select(Source).where(Source.enabled.is_(True)).order_by(Source.id)
        candidates = (await session.scalars(query)).all()
        # --all polls every healthy source now; failing and gone ones wait for an operator.
        sources = [
            s for s in candidates if is_due(s, now) or (force and s.health == SourceHealth.OK)
        ]
    options = settings.fetch
    limit = asyncio.Semaphore(options.concurrency)
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(options.per_host)
    )
    fetched: asyncio.Queue[Fetched | None] = asyncio.Queue()

    async def one(client: httpx.AsyncClient, source: Source) -> None:
        async with limit, per_host[_host(source.url)]:
            started = time.perf_counter()  # waiting for a free slot is not the source's cost
            request = FetchRequest(source.url, source.etag, source.last_modified)
            poll = Poll(request, options.max_bytes, options.timeout_seconds, now,
                        options.first_fetch_window_days, source.query,
                        options.parse_timeout_seconds)  # fmt: skip
            result = await fetch_kind(source.kind, client, poll)
        await fetched.put(Fetched(source.id, result, time.perf_counter() - started))

    writer = asyncio.create_task(_write(db, fetched, clock, options, on_source_done))
    async with make_client(
        contact_url=options.contact_url,
        timeout=options.timeout_seconds,
        connect_timeout=options.connect_timeout_seconds,
        transport=transport,
    ) as client:
        try:
            await asyncio.gather(*(one(client, source) for source in sources))
        finally:
            await fetched.put(None)
    return await writer


@dataclass(frozen=True)
class Fetched:
    source_id: int
    result: FetchResult
    fetch_seconds: float


WRITE_BATCH = 50


async def _write(
    db: Database,
    queue: asyncio.Queue[Fetched | None],
    clock: Clock,
    options: FetchSettings,
    on_source_done: Callable[[SourceReport], None] | None,
) -> list[SourceReport]:
    """Store results as they arrive, as many per transaction as are waiting.

    One writer suits SQLite (one writer at a time anyway), and batching turns a poll
    where nothing changed (every source a 304) into a few commits instead of hundreds.
    """
    reports: list[SourceReport] = []
    finished = False
    while not finished:
        batch = [await queue.get()]
        while not queue.empty() and len(batch) < WRITE_BATCH:
            batch.append(queue.get_nowait())
        finished = batch[-1] is None
        items = [item for item in batch if item is not None]
        if not items:
            continue
        started = time.perf_counter()
        async with db.session() as session:
            # One query loads the whole batch's sources.
            query = select(Source).where(Source.id.in_([item.source_id for item in items]))
            sources = {source.id: source for source in (await session.scalars(query)).all()}
            stored = [
                await _store(session, sources[i.source_id], i.result, clock(), options)
                for i in items
            ]
        store_share = (time.perf_counter() - started) / len(items)
        for item, report in zip(items, stored, strict=True):
            # A source's own cost: its fetch and its share of storing, not time in the queue.
            report = dataclasses.replace(report, seconds=item.fetch_seconds + store_share)
            reports.append(report)
            if on_source_done is not None:
                on_source_done(report)
    return reports


async def _store(
    session: AsyncSession,
    source: Source,
    result: FetchResult,
    now: datetime,
    options: FetchSettings,
) -> SourceReport:
    source.last_checked_at = now
    source.last_status = result.http_status
    count_poll(source, result.outcome)
    if result.outcome == "error":
        record_failure(source, result, now, options.max_consecutive_errors)
        # "failing" or "gone" says more than "error" when this failure changed the health.
        outcome = "error" if source.health == SourceHealth.OK else source.health.value
        return SourceReport(
            source.name, source.url, outcome, seconds=result.seconds, error=result.error
        )
    first_poll = source.first_fetched_at is None
    source.first_fetched_at = source.first_fetched_at or now
    history_before = now - timedelta(days=options.first_fetch_window_days)
    counts: dict[Outcome, int] = defaultdict(int)
    seen: set[str] = set()
    known = await _known_entries(session, source.id, result.entries)
    for fetched in result.entries:
        historic = first_poll and _older(fetched, history_before)
        outcome = _store_entry(session, source, fetched, now, seen, known, historic, options)
        counts[outcome] += 1
    record_success(source, result, now)
    source.entries_seen += counts["new"]
    unsafe, warnings = unsafe_link_warning(result.entries)
    return SourceReport(
        source.name, source.url, result.outcome, new=counts["new"],
        updated=counts["updated"], unchanged=counts["unchanged"],
        blocked=counts["blocked"], seconds=result.seconds,
        unsafe_links=unsafe, warnings=warnings,
    )  # fmt: skip


def _older(entry: FetchedEntry, moment: datetime) -> bool:
    return entry.published_at is not None and entry.published_at < moment


def _guid(fetched: FetchedEntry) -> str:
    return entry_guid(fetched.guid, fetched.link, fetched.title, fetched.text)


async def _known_entries(
    session: AsyncSession, source_id: int, fetched: tuple[FetchedEntry, ...]
) -> dict[str, Entry]:
    """The stored entries this poll may match, in one query rather than one per entry."""
    guids = list({_guid(entry) for entry in fetched})
    found: dict[str, Entry] = {}
    for start in range(0, len(guids), 500):  # stay under SQLite's bound-parameter limit
        query = select(Entry).where(
            Entry.source_id == source_id, Entry.guid.in_(guids[start : start + 500])
        )
        found.update({entry.guid: entry for entry in (await session.scalars(query)).all()})
    return found


def _store_entry(
    session: AsyncSession,
    source: Source,
    fetched: FetchedEntry,
    now: datetime,
    seen: set[str],
    known: dict[str, Entry],
    historic: bool,
    options: FetchSettings,
) -> Outcome:
    if is_blocked(fetched.link, options.blocked_domains):
        return "blocked"
    guid = _guid(fetched)
    if guid in seen:  # a feed that repeats a guid: the first copy counts
        return "unchanged"
    seen.add(guid)
    digest = content_hash(fetched.title, fetched.clean_html)
    existing = known.get(guid)
    labels = dict(fetched.labels)
    # New labels alone (PubMed indexes a paper as a Review days later) change its card.
    if (
        existing is not None
        and existing.content_hash == digest
        and (existing.source_labels or {}) == labels
    ):
        return "unchanged"
    entry = existing or Entry(source_id=source.id, guid=guid, fetched_at=now, historic=historic)
    entry.canonical_key = canonical_key(fetched.identifiers, fetched.link, guid)
    ids = fetched.identifiers
    entry.doi, entry.pmid, entry.nct = ids.doi, ids.pmid, ids.nct
    entry.link = fetched.link
    entry.title = fetched.title
    entry.author = fetched.author
    entry.published_at = fetched.published_at
    entry.raw_html = fetched.raw_html
    entry.clean_html = fetched.clean_html
    entry.text = fetched.text
    entry.content_hash = digest
    entry.source_labels = labels
    if existing is None:
        session.add(entry)
        return "new"
    entry.updated_at = now
    entry.update_count += 1
    entry.story_id = None  # detached, so curation judges its story again on the new content
    return "updated"
