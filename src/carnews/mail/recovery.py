"""Recovery: deliveries a sender left behind when it died mid-batch.

A batch is marked ``sending`` (with each row's Message-ID and its holder's host and
pid) before the relay sees it, so after a crash those rows may or may not have gone
out. carnews never guesses: once their holder is seen dead (a process on this host
that no longer exists, or a heartbeat older than ``smtp.claim_lease_seconds``) they
become ``unknown``, and the relay's log (their Message-IDs) or an operator decides.
"""

from __future__ import annotations

import socket

from sqlalchemy import select, update

from carnews.clock import Clock
from carnews.mail.claims import Alive, Holder, holder_is_dead, lease_cutoff, pid_alive
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Delivery, DeliveryState, Subscriber

ABANDONED = "the sender stopped before the relay's answer was recorded"


async def mark_abandoned(
    db: Database,
    clock: Clock,
    edition_id: int,
    lease_seconds: float,
    actor: str,
    *,
    here: str | None = None,
    alive: Alive = pid_alive,
) -> int:
    """Rows whose holder is dead belong to a sender that died mid-batch.

    They may or may not have reached the relay, so they are never sent again on their
    own: they become ``unknown`` and wait for an operator (``send --resolve-unknown``),
    who can look their Message-ID up in the relay's log. ``here`` is this host's name:
    only there can a holder's pid be asked whether it still runs.
    """
    here = socket.gethostname() if here is None else here
    cutoff = lease_cutoff(clock(), lease_seconds)
    async with db.session() as session:
        claims = (
            await session.execute(
                select(Delivery.id, Delivery.claimed_host, Delivery.claimed_pid,
                       Delivery.heartbeat_at, Delivery.claimed_at)
                .where(Delivery.edition_id == edition_id,
                       Delivery.state == DeliveryState.SENDING)
            )
        ).all()  # fmt: skip
        dead = [
            row_id
            for row_id, host, pid, heartbeat, claimed in claims
            if holder_is_dead(Holder(host, pid) if host is not None and pid is not None else None,
                              heartbeat or claimed, cutoff=cutoff, here=here, alive=alive)
        ]  # fmt: skip
        if dead:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(dead), Delivery.state == DeliveryState.SENDING)
                .values(state=DeliveryState.UNKNOWN, last_error=ABANDONED)
            )
            audit(session, clock(), actor, "deliveries_unknown", ("edition", edition_id),
                  count=len(dead))  # fmt: skip
        return len(dead)


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
    answer decides row by row, whatever ``as_sent`` says: a row whose Message-ID the
    relay took is sent, the rest are sent again (a message the relay never took was
    not sent, and taking it for sent would leave a reader without their issue).
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
            took = as_sent if relay_accepted is None else row.message_id in relay_accepted
            if took:
                row.state, row.sent_at = DeliveryState.SENT, now
            else:  # sent again under the same Message-ID
                row.state, row.claimed_at, row.heartbeat_at = DeliveryState.QUEUED, None, None
                row.claimed_host, row.claimed_pid = None, None
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
