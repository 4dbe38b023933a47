"""Managing subscribers one at a time, for the admin API: page, get, change, remove, imports.

Adding goes through ``subscriptions.add_subscriber`` like every other door. Every change
is audited with its actor. A subscriber is found by id; an id nobody has is a
``NotFoundError`` whatever the reason (never existed, removed). Removing is erasing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from carnews.audience.privacy import erase
from carnews.audience.subscriptions import normalise_diseases, unsubscribe
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import AuditEvent, Subscriber, SubscriberStatus

FREQUENCIES = ("edition", "monthly")


@dataclass(frozen=True)
class Page:
    subscribers: list[Subscriber]
    total: int


async def page_of_subscribers(
    db: Database, *, page: int, per_page: int, status: SubscriberStatus | None = None
) -> Page:
    """One page of subscribers in id order, and how many there are in all."""
    async with db.read() as session:
        where = [Subscriber.status == status] if status is not None else []
        total = await session.scalar(select(func.count()).select_from(Subscriber).where(*where))
        query = select(Subscriber).where(*where).order_by(Subscriber.id)
        rows = await session.scalars(query.offset((page - 1) * per_page).limit(per_page))
        return Page(list(rows.all()), int(total or 0))


async def get_subscriber(db: Database, subscriber_id: int) -> Subscriber:
    async with db.read() as session:
        found = await session.get(Subscriber, subscriber_id)
    if found is None:
        raise _missing(subscriber_id)
    return found


def _missing(subscriber_id: int) -> NotFoundError:
    return NotFoundError(
        f"there is no subscriber {subscriber_id}",
        hint="GET /api/subscribers lists them.",
        context={"subscriber": subscriber_id},
    )


@dataclass(frozen=True)
class Change:
    """What an operator changes; None leaves a field as it is."""

    name: str | None = None
    diseases: Sequence[str] | None = None
    frequency: str | None = None
    unsubscribed: bool = False


async def update_subscriber(
    db: Database, clock: Clock, lexicon: Lexicon, subscriber_id: int, change: Change, *,
    actor: str,
) -> Subscriber:  # fmt: skip
    """Apply ``change``; unsubscribing goes through ``unsubscribe`` like every other door."""
    values: dict[str, Any] = {}
    if change.name is not None:
        values["name"] = change.name.strip()
    if change.diseases is not None:
        values["diseases"] = normalise_diseases(change.diseases, lexicon)
    if change.frequency is not None:
        if change.frequency not in FREQUENCIES:
            raise SubscriberError(
                f"frequency {change.frequency!r} is not one of {', '.join(FREQUENCIES)}"
            )
        values["frequency"] = change.frequency
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise _missing(subscriber_id)
        for key, value in values.items():
            setattr(subscriber, key, value)
        if values:
            audit(session, clock(), actor, "subscriber_update", ("subscriber", subscriber_id),
                  fields=sorted(values))  # fmt: skip
    if change.unsubscribed:
        await unsubscribe(db, clock, subscriber_id, via=actor)
    return await get_subscriber(db, subscriber_id)


async def remove_subscriber(
    db: Database, clock: Clock, key: str, subscriber_id: int, *, actor: str
) -> None:
    """Erase the subscriber as their own "erase me" does (``privacy.erase``): the row and
    everything linked to it go, and only a hash of the address under the site ``key``
    stays, so an import cannot quietly add it back; the person may sign up again."""
    try:
        await erase(db, clock, key, subscriber_id, actor=actor)
    except NotFoundError:
        raise _missing(subscriber_id) from None


@dataclass(frozen=True)
class ImportRun:
    """One CSV import as the audit log tells it: when, by whom, how many rows went in."""

    at: datetime
    actor: str
    added: int
    last_line: int


async def recent_imports(db: Database, limit: int = 20) -> list[ImportRun]:
    """The latest imports, newest first; an import writes one audit event per chunk, all
    with the import's start time, so the chunks of one import are summed."""
    async with db.read() as session:
        events = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "subscriber_import")
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit * 50)
        )
        runs: dict[tuple[datetime, str], ImportRun] = {}
        for event in events.all():
            key = (event.at, event.actor)
            before = runs.get(key, ImportRun(event.at, event.actor, 0, 0))
            last = _last_line(str(event.detail.get("lines", "")))
            runs[key] = ImportRun(event.at, event.actor,
                                  before.added + int(event.detail.get("added", 0)),
                                  max(before.last_line, last))  # fmt: skip
    return list(runs.values())[:limit]


def _last_line(lines: str) -> int:
    tail = lines.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0
