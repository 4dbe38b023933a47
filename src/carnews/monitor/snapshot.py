"""One read of everything the operator watches, taken from the database when asked.

Every process (web, worker, scheduler) reads the same rows, so ``/healthz``,
``/metrics`` and ``carnews status`` tell the same truth wherever they are asked. Each
figure is one aggregate query (a count grouped by state, a max) in one read session:
a scrape costs a handful of index scans, and never waits for a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.gather.sources import shown_health
from carnews.storage import Database
from carnews.storage.leases import SCHEDULER_LEASE, LeaseState
from carnews.storage.models import (
    BounceEvent,
    BounceKind,
    Delivery,
    DeliveryState,
    Edition,
    EditionState,
    Entry,
    Lease,
    Source,
    SourceHealth,
    Story,
)


@dataclass(frozen=True)
class SourceRow:
    name: str
    health: str  # as carnews.gather.sources.shown_health tells it: ok, failing or gone
    enabled: bool
    polled: bool  # False: left alone until 'carnews sources enable'
    last_success_at: datetime | None
    last_checked_at: datetime | None
    consecutive_errors: int
    last_error: str | None
    entries_seen: int
    fetches: dict[str, int]  # polls by outcome: ok, not_modified, error


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    sources: tuple[SourceRow, ...]
    entries: int
    stories_kept: int
    stories_dropped: int
    editions: dict[str, int]  # by state
    deliveries: dict[str, int]  # by state, every state present
    queue_depth: int  # mail still to go out: queued, and temporary failures with a retry due
    last_send_at: datetime | None  # the latest message the relay accepted
    bounces: dict[str, int]  # by kind, every kind present
    scheduler: LeaseState | None  # None: no scheduler holds the lease


async def take_snapshot(db: Database, now: datetime) -> Snapshot:
    async with db.read() as session:
        sources = (await session.scalars(select(Source).order_by(Source.name))).all()
        stories = await _grouped(session, Story.relevant)
        deliveries = await _grouped(session, Delivery.state)
        retrying = await session.scalar(
            select(func.count()).where(
                Delivery.state == DeliveryState.FAILED_TEMPORARY, Delivery.retry_at.is_not(None)
            )
        )
        lease = await session.get(Lease, SCHEDULER_LEASE)
        return Snapshot(
            taken_at=now,
            sources=tuple(_source_row(source) for source in sources),
            entries=await session.scalar(select(func.count()).select_from(Entry)) or 0,
            stories_kept=stories.get(True, 0),
            stories_dropped=stories.get(False, 0),
            editions=_every(EditionState, await _grouped(session, Edition.state)),
            deliveries=_every(DeliveryState, deliveries),
            queue_depth=deliveries.get(DeliveryState.QUEUED, 0) + (retrying or 0),
            last_send_at=await session.scalar(
                select(func.max(Delivery.sent_at)).where(Delivery.state == DeliveryState.SENT)
            ),
            bounces=_every(BounceKind, await _grouped(session, BounceEvent.kind)),
            scheduler=None
            if lease is None
            else LeaseState(lease.holder, lease.expires_at, lease.renewed_at),
        )


async def _grouped(session: AsyncSession, column: Any) -> dict[Any, int]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {key: count for key, count in rows.all()}


def _every(kind: Any, counts: dict[Any, int]) -> dict[str, int]:
    """Counts for every member of the enum ``kind``, zero where none: a metric that
    appears only once it is non-zero breaks rate() and alerts on absence."""
    return {member.value: counts.get(member, 0) for member in kind}


def _source_row(source: Source) -> SourceRow:
    fetches = {
        "ok": source.fetches_ok,
        "not_modified": source.fetches_not_modified,
        "error": source.fetches_failed,
    }
    return SourceRow(
        name=source.name,
        health=shown_health(source).value,
        enabled=source.enabled,
        polled=source.enabled and source.health == SourceHealth.OK,
        last_success_at=source.last_success_at,
        last_checked_at=source.last_checked_at,
        consecutive_errors=source.consecutive_errors,
        last_error=source.last_error,
        entries_seen=source.entries_seen,
        fetches=fetches,
    )
