"""Recovery: deliveries a sender left behind when it died mid-batch.

A batch is marked ``sending`` (with each row's Message-ID) before the relay sees
it, so after a crash those rows may or may not have gone out. carnews never
guesses: once their claim is older than ``smtp.claim_lease_seconds`` they become
``unknown``, and the relay's log (their Message-IDs) or an operator decides.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from carnews.clock import Clock
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Delivery, DeliveryState, Subscriber


async def mark_abandoned(
    db: Database, clock: Clock, edition_id: int, lease_seconds: float, actor: str
) -> int:
    """Rows claimed longer ago than the lease belong to a sender that died mid-batch.

    They may or may not have reached the relay, so they are never sent again on their
    own: they become ``unknown`` and wait for an operator (``send --resolve-unknown``),
    who can look their Message-ID up in the relay's log.
    """
    cutoff = clock() - timedelta(seconds=lease_seconds)
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(
                    Delivery.edition_id == edition_id,
                    Delivery.state == DeliveryState.SENDING,
                    Delivery.claimed_at <= cutoff,
                )
            )
        ).all()
        for row in rows:
            row.state = DeliveryState.UNKNOWN
            row.last_error = "the sender stopped before the relay's answer was recorded"
        if rows:
            audit(session, clock(), actor, "deliveries_unknown", ("edition", edition_id),
                  count=len(rows))  # fmt: skip
        return len(rows)


async def resolve_unknown(
    db: Database,
    clock: Clock,
    edition_id: int,
    *,
    as_sent: bool = False,
    relay_accepted: set[str] | None = None,
    actor: str,
) -> int:
    """An operator's decision on ``unknown`` rows: they were sent, or send them again.

    With ``relay_accepted`` (the Message-IDs found in the relay's log) the relay's own
    answer decides row by row: a row whose Message-ID the relay took is sent, the rest
    are sent again.
    """
    now = clock()
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(
                    Delivery.edition_id == edition_id, Delivery.state == DeliveryState.UNKNOWN
                )
            )
        ).all()
        for row in rows:
            if as_sent or (relay_accepted is not None and row.message_id in relay_accepted):
                row.state, row.sent_at = DeliveryState.SENT, now
            else:
                row.state, row.claimed_at = DeliveryState.QUEUED, None
        by_log = relay_accepted is not None
        audit(session, now, actor, "resolve_unknown", ("edition", edition_id),
              count=len(rows), as_sent=as_sent, by_relay_log=by_log)  # fmt: skip
        return len(rows)


async def unknown_rows(db: Database, edition_id: int) -> list[tuple[str, str | None]]:
    """(address, Message-ID) of every row waiting for an operator."""
    async with db.read() as session:
        rows = await session.execute(
            select(Subscriber.email, Delivery.message_id)
            .join(Subscriber, Delivery.subscriber_id == Subscriber.id)
            .where(Delivery.edition_id == edition_id, Delivery.state == DeliveryState.UNKNOWN)
            .order_by(Delivery.id)
        )
        return [(email, message_id) for email, message_id in rows]
