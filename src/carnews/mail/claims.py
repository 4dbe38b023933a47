"""Claims: which sender holds which ledger rows while their messages are out.

A batch is marked ``sending`` and committed before the relay sees it, with the
holder's host and pid and a heartbeat that the holder renews while it sends. A
claim is dead when its holder is a process on this host that no longer exists,
or when its heartbeat is older than ``smtp.claim_lease_seconds`` (a holder on
another host, or a pid reused). Rows that never reached the relay go back to the
queue with their Message-ID, so a message keeps one Message-ID however often it
is tried.

A row is claimed only while its subscriber is active: one who unsubscribed (bounced,
complained, was erased) after the edition was queued gets nothing, and the row is
settled as a permanent failure that says why. On SQLite each claim first applies the
opt-out journal (``storage.optouts``) in its own write transaction, so a one-click
unsubscribe the web app recorded counts from the next batch on.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState, Subscriber, SubscriberStatus
from carnews.storage.optouts import apply_optouts

BATCH_SIZE = 200
NOT_ACTIVE = (
    "not sent: the subscriber left (unsubscribed, bounced or complained) before it went out"
)


@dataclass(frozen=True)
class Holder:
    """A sending process: the host it runs on and its pid there."""

    host: str
    pid: int


def this_process() -> Holder:
    return Holder(socket.gethostname(), os.getpid())


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 only asks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


Alive = Callable[[int], bool]


def holder_is_dead(
    holder: Holder | None,
    heartbeat: datetime | None,
    *,
    cutoff: datetime,
    here: str,
    alive: Alive = pid_alive,
) -> bool:
    """A dead claim: its heartbeat is older than the lease, or its process on this host is gone.

    A row with no heartbeat (claimed before holders were recorded) has only its lease.
    """
    if heartbeat is None or heartbeat <= cutoff:
        return True
    return holder is not None and holder.host == here and not alive(holder.pid)


@dataclass(frozen=True)
class Claim:
    """One claimed row with what its message needs, read without ORM objects."""

    delivery_id: int
    subscriber_id: int
    email: str
    diseases: list[str]
    unsubscribe_token: str
    message_id: str
    attempts: int  # counting this one


async def claim_batch(
    db: Database, edition_id: int, now: datetime, sender_domain: str, holder: Holder
) -> list[Claim]:
    """Mark a batch ``sending`` under ``holder`` and commit before any of it reaches the relay.

    A batch is queued rows and temporary failures whose back-off is over. A row gets its
    Message-ID the first time it is claimed and keeps it, so a row a dead sender left
    behind names the message to look for in the relay's log, and a retry of a message
    that did arrive is one the reader's mail system can recognise. On PostgreSQL, SKIP
    LOCKED lets several senders claim side by side without ever taking the same row.
    """
    journal = db.optouts
    recorded = journal.pending() if journal is not None else []
    async with db.session() as session:
        # The write lock is ours: unsubscribes the web app could only journal land now.
        await apply_optouts(session, recorded)
        claims = await _claim(session, edition_id, now, sender_domain, holder)
    if journal is not None:  # committed: the journal may let go of them
        journal.forget(recorded)
    return claims


async def _claim(
    session: AsyncSession, edition_id: int, now: datetime, sender_domain: str, holder: Holder
) -> list[Claim]:
    """Pick a batch of due rows of active readers and mark them ``sending``."""
    while True:
        picked = await _pick(session, edition_id, now)
        # Status at send time, not at queue time: an unsubscribe must win over the queue.
        gone = [row_id for row_id, active in picked if not active]
        if gone:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(gone))
                .values(state=DeliveryState.FAILED_PERMANENT, last_error=NOT_ACTIVE,
                        retry_at=None)
            )  # fmt: skip
        picked = [row for row in picked if row[1]]
        if picked or not gone:  # a batch, or nothing left; all gone: pick again
            break
    if not picked:
        return []
    ids = [row_id for row_id, _ in picked]
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(state=DeliveryState.SENDING, attempts=Delivery.attempts + 1, claimed_at=now,
                heartbeat_at=now, claimed_host=holder.host, claimed_pid=holder.pid,
                retry_at=None, message_id=_message_id(now, sender_domain))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    readers = await session.execute(
        select(Delivery.id, Subscriber.id, Subscriber.email, Subscriber.diseases,
               Subscriber.unsubscribe_token, Delivery.message_id, Delivery.attempts)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    )  # fmt: skip
    return [
        Claim(row_id, subscriber_id, email, list(diseases), token, str(message_id), tried)
        for row_id, subscriber_id, email, diseases, token, message_id, tried in readers.all()
    ]


def _message_id(now: datetime, domain: str) -> ColumnElement[str]:
    """A row's Message-ID: the one it has, or a new one made in the same statement.

    Unique as ``make_msgid``'s are (a time, 64 random bits for this claim, and the row's
    own id), and made by the database for the whole batch at once rather than by one
    parameter set per row.
    """
    made = literal(f"<{int(now.timestamp())}.{secrets.token_hex(8)}.", String)
    return func.coalesce(
        Delivery.message_id, made + cast(Delivery.id, String) + literal(f"@{domain}>", String)
    )


async def _pick(session: AsyncSession, edition_id: int, now: datetime) -> list[tuple[int, bool]]:
    """The next batch of due rows, lowest id first: (id, whether the subscriber is still
    active).

    Queued rows and due retries are asked for apart, each in the order of the ledger's
    (edition, state) index, so a claim reads about one batch of rows however long the
    ledger is; asked for together, every claim read and sorted all the rows still
    queued, and a send of 100,000 took time in the square of its length.
    """
    queued = Delivery.state == DeliveryState.QUEUED
    due_retry = and_(Delivery.state == DeliveryState.FAILED_TEMPORARY, Delivery.retry_at <= now)
    rows: list[tuple[int, bool]] = []
    for due in (queued, due_retry):
        found = await session.execute(
            select(Delivery.id, Subscriber.status)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.edition_id == edition_id, due)
            .order_by(Delivery.id)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        rows += [(row_id, status == SubscriberStatus.ACTIVE) for row_id, status in found.all()]
    return sorted(rows)[:BATCH_SIZE]


async def release(db: Database, claims: Sequence[Claim]) -> None:
    """Claims that never reached the relay go back to the queue, the attempt not counted.

    The Message-ID stays: the message is the same one whenever it goes.
    """
    if not claims:
        return
    async with db.session() as session:
        await session.execute(
            update(Delivery),
            [{"id": claim.delivery_id, "state": DeliveryState.QUEUED,
              "attempts": claim.attempts - 1, "claimed_at": None, "heartbeat_at": None,
              "claimed_host": None, "claimed_pid": None}
             for claim in claims],
        )  # fmt: skip


async def settle_left(db: Database, claims: Sequence[Claim]) -> None:
    """Claims whose reader unsubscribed after the claim: never sent, and never will be."""
    if not claims:
        return
    async with db.session() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([claim.delivery_id for claim in claims]))
            .values(state=DeliveryState.FAILED_PERMANENT, last_error=NOT_ACTIVE, retry_at=None)
        )


async def give_up(db: Database, claims: Iterable[Claim], reason: str) -> None:
    """Claims whose message the relay had when the run stopped: maybe sent, so ``unknown``."""
    ids = [claim.delivery_id for claim in claims]
    if not ids:
        return
    async with db.session() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.SENDING)
            .values(state=DeliveryState.UNKNOWN, last_error=reason)
        )


async def keep_alive(
    db: Database, clock: Clock, edition_id: int, holder: Holder, lease_seconds: float
) -> None:
    """Renew the heartbeat of ``holder``'s claims a few times per lease, until cancelled.

    A batch at a low rate limit can take longer than the lease (200 messages at 500 an
    hour take 24 minutes); the heartbeat keeps such a batch from looking abandoned.
    """
    every = lease_seconds / 3
    while True:
        await asyncio.sleep(every)
        try:
            async with db.session() as session:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.edition_id == edition_id,
                           Delivery.state == DeliveryState.SENDING,
                           Delivery.claimed_host == holder.host,
                           Delivery.claimed_pid == holder.pid)
                    .values(heartbeat_at=clock())
                )  # fmt: skip
        except SQLAlchemyError:  # one missed beat is no harm; the next may get through
            continue


def lease_cutoff(now: datetime, lease_seconds: float) -> datetime:
    return now - timedelta(seconds=lease_seconds)
