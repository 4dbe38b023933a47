"""Self-service privacy: what carnews holds about an address, erasing it, blocking it.

Erasing deletes the subscriber row (their deliveries, bounces and confirmation links go
with it, by cascade) and keeps only an HMAC of the address under the site key in
``suppressed_addresses``. An import checks that table, so it cannot silently re-add an
erased address; the person may sign up again through the form, and only their fresh
confirmation lifts the mark. A blocked address is never mailed again, form or not.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.limits import keyed_hash
from carnews.clock import Clock
from carnews.errors import NotFoundError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import (
    AuditEvent,
    BounceEvent,
    Confirmation,
    Delivery,
    Subscriber,
    SuppressedAddress,
)

ERASED = "erased"
BLOCKED = "blocked"


def address_hash(key: str, address: str) -> str:
    return keyed_hash(key, "address", address)


async def suppression(session: AsyncSession, key: str, address: str) -> str | None:
    """``"erased"``, ``"blocked"`` or None for a normalised address."""
    return await session.scalar(
        select(SuppressedAddress.reason).where(
            SuppressedAddress.address_hash == address_hash(key, address)
        )
    )


async def suppressed_among(session: AsyncSession, key: str, addresses: list[str]) -> set[str]:
    """Which of these normalised addresses were erased or blocked."""
    # Most lists have erased or blocked nobody yet: then no address needs its HMAC.
    if await session.scalar(select(SuppressedAddress.address_hash).limit(1)) is None:
        return set()
    hashes = {address_hash(key, address): address for address in addresses}
    found = await session.scalars(
        select(SuppressedAddress.address_hash).where(SuppressedAddress.address_hash.in_(hashes))
    )
    return {hashes[value] for value in found}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_data(db: Database, subscriber_id: int) -> dict[str, Any]:
    """Everything stored about one subscriber, as JSON-ready data."""
    async with db.read() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        deliveries = (
            await session.execute(
                select(Delivery.edition_id, Delivery.state, Delivery.sent_at, Delivery.queued_at)
                .where(Delivery.subscriber_id == subscriber_id)
                .order_by(Delivery.id)
            )
        ).all()
        bounces = (
            await session.execute(
                select(BounceEvent.kind, BounceEvent.at, BounceEvent.diagnostic)
                .where(BounceEvent.subscriber_id == subscriber_id)
                .order_by(BounceEvent.id)
            )
        ).all()
        links = (
            await session.execute(
                select(Confirmation.created_at, Confirmation.expires_at, Confirmation.used_at)
                .where(Confirmation.subscriber_id == subscriber_id)
                .order_by(Confirmation.id)
            )
        ).all()
        history = (await session.execute(
            select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.object_type == "subscriber",
                   AuditEvent.object_id == str(subscriber_id))
            .order_by(AuditEvent.id)
        )).all()  # fmt: skip
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "diseases": list(subscriber.diseases),
        "frequency": subscriber.frequency,
        "consent": {
            "source": subscriber.consent_source,
            "at": _when(subscriber.consent_at),
            "ip": subscriber.consent_ip,
        },
        "created_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "unsubscribed_at": _when(subscriber.unsubscribed_at),
        "deliveries": [
            {
                "edition": edition,
                "state": state.value,
                "queued_at": _when(queued),
                "sent_at": _when(sent),
            }
            for edition, state, sent, queued in deliveries
        ],
        "bounces": [
            {"kind": kind.value, "at": _when(at), "diagnostic": diagnostic}
            for kind, at, diagnostic in bounces
        ],
        "history": [
            {"at": _when(at), "by": actor, "action": action, "detail": detail}
            for at, actor, action, detail in history
        ],
        "confirmation_links": [
            {"sent_at": _when(made), "expires_at": _when(expires), "used_at": _when(used)}
            for made, expires, used in links
        ],
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


async def erase(
    db: Database, clock: Clock, key: str, subscriber_id: int, *, actor: str, reason: str = ERASED
) -> None:
    """Delete the subscriber and everything linked to them; keep only the keyed hash."""
    now = clock()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        await _suppress(session, key, subscriber.email, reason, now)
        await session.delete(subscriber)
        await session.flush()
        # The audit log names the row by its id only: the address is gone with it.
        audit(session, now, actor, f"subscriber_{reason}", ("subscriber", subscriber_id))


async def block_address(db: Database, clock: Clock, key: str, address: str, *, actor: str) -> bool:
    """Never mail ``address`` again; its data, if any, is erased. True if it was a subscriber."""
    async with db.session() as session:
        found = await session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    if found is not None:
        await erase(db, clock, key, found, actor=actor, reason=BLOCKED)
        return True
    now = clock()
    async with db.session() as session:
        await _suppress(session, key, address, BLOCKED, now)
        audit(session, now, actor, "subscriber_blocked", ("subscriber", "-"))
    return False


async def _suppress(
    session: AsyncSession, key: str, address: str, reason: str, now: datetime
) -> None:
    hashed = address_hash(key, address)
    kept = await session.get(SuppressedAddress, hashed)
    if kept is None:
        session.add(SuppressedAddress(address_hash=hashed, reason=reason, at=now))
    elif reason == BLOCKED:  # a block outranks an erasure; an erasure never lifts a block
        kept.reason, kept.at = reason, now


async def lift_erasure(session: AsyncSession, key: str, address: str) -> None:
    """The person confirmed a new sign-up: their erasure mark has done its job."""
    await session.execute(
        delete(SuppressedAddress).where(
            SuppressedAddress.address_hash == address_hash(key, address),
            SuppressedAddress.reason == ERASED,
        )
    )
