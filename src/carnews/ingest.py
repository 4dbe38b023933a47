"""Ingest: poll the sources that are due and store what they published.

The fetch stage's database side: configured sources are mirrored into the
``sources`` table, each due source is fetched concurrently (one broken source
never stops the others), and every entry is stored new, updated (same identity,
new content) or unchanged. Running it twice stores nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.fetch import FetchedEntry, FetchRequest, FetchResult, fetch, make_client
from carnews.identify import canonical_key, content_hash, entry_guid
from carnews.settings import Settings, SourceSettings
from carnews.storage import Database
from carnews.storage.models import Entry, Source

MAX_BACKOFF_DOUBLINGS = 6


@dataclass(frozen=True)
class SourceReport:
    name: str
    url: str
    outcome: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    error: str | None = None


async def sync_sources(db: Database, configured: Sequence[SourceSettings], now: datetime) -> None:
    """Make the sources table match the config: add new ones, update changed fields."""
    async with db.session() as session:
        existing = {s.name: s for s in (await session.scalars(select(Source))).all()}
        for config in configured:
            source = existing.get(config.name)
            if source is None:
                source = Source(name=config.name, url=config.url, created_at=now)
                session.add(source)
            elif source.url != config.url:
                source.url, source.etag, source.last_modified = config.url, None, None
            source.kind = config.kind
            source.interval_minutes = config.interval_minutes
            source.weight = config.weight
            source.enabled = config.enabled
        configured_names = {config.name for config in configured}
        for name, source in existing.items():
            if name not in configured_names:
                source.enabled = False


async def ingest(
    db: Database,
    settings: Settings,
    clock: Clock,
    *,
    force: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[SourceReport]:
    """Fetch every due source (every enabled one with ``force``) and store its entries."""
    now = clock()
    await sync_sources(db, settings.sources, now)
    async with db.session() as session:
        query = select(Source).where(Source.enabled.is_(True)).order_by(Source.id)
        sources = [s for s in (await session.scalars(query)).all() if force or _due(s, now)]
    limit = asyncio.Semaphore(settings.fetch.concurrency)
    options = settings.fetch

    async def one(client: httpx.AsyncClient, source: Source) -> SourceReport:
        async with limit:
            request = FetchRequest(source.url, source.etag, source.last_modified)
            result = await fetch(
                client, request, max_bytes=options.max_bytes, total_timeout=options.timeout_seconds
            )
        return await _store(db, source.id, result, clock())

    async with make_client(
        contact_url=options.contact_url,
        timeout=options.timeout_seconds,
        connect_timeout=options.connect_timeout_seconds,
        transport=transport,
    ) as client:
        return list(await asyncio.gather(*(one(client, source) for source in sources)))


def _due(source: Source, now: datetime) -> bool:
    return source.next_check_at is None or source.next_check_at <= now


async def _store(db: Database, source_id: int, result: FetchResult, now: datetime) -> SourceReport:
    async with db.session() as session:
        source = await session.get_one(Source, source_id)
        source.last_checked_at = now
        source.last_status = result.http_status
        if result.outcome == "error":
            source.consecutive_errors += 1
            source.last_error = result.error
            doublings = min(source.consecutive_errors, MAX_BACKOFF_DOUBLINGS)
            source.next_check_at = now + timedelta(minutes=source.interval_minutes * 2**doublings)
            return SourceReport(
                source.name, source.url, "error", seconds=result.seconds, error=result.error
            )
        source.consecutive_errors = 0
        source.last_error = None
        source.last_success_at = now
        source.etag, source.last_modified = result.etag, result.last_modified
        source.next_check_at = now + timedelta(minutes=source.interval_minutes)
        counts: dict[str, int] = {"new": 0, "updated": 0, "unchanged": 0}
        seen: set[str] = set()
        for fetched in result.entries:
            outcome = await _store_entry(session, source, fetched, now, seen)
            counts[outcome] += 1
        source.entries_seen += counts["new"]
        return SourceReport(
            source.name,
            source.url,
            result.outcome,
            new=counts["new"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            seconds=result.seconds,
        )


async def _store_entry(
    session: AsyncSession, source: Source, fetched: FetchedEntry, now: datetime, seen: set[str]
) -> str:
    guid = entry_guid(fetched.guid, fetched.link, fetched.title, fetched.text)
    if guid in seen:  # a feed that repeats a guid: the first copy counts
        return "unchanged"
    seen.add(guid)
    digest = content_hash(fetched.title, fetched.clean_html)
    existing = await session.scalar(
        select(Entry).where(Entry.source_id == source.id, Entry.guid == guid)
    )
    if existing is not None and existing.content_hash == digest:
        return "unchanged"
    entry = existing or Entry(source_id=source.id, guid=guid, fetched_at=now)
    entry.canonical_key = canonical_key(fetched.identifiers, fetched.link, guid)
    entry.link = fetched.link
    entry.title = fetched.title
    entry.author = fetched.author
    entry.published_at = fetched.published_at
    entry.raw_html = fetched.raw_html
    entry.clean_html = fetched.clean_html
    entry.text = fetched.text
    entry.content_hash = digest
    if existing is None:
        session.add(entry)
        return "new"
    entry.updated_at = now
    entry.update_count += 1
    return "updated"
