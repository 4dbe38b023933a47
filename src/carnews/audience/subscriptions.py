"""Subscriptions: addresses, consent, disease choices, import/export, unsubscribe.

Addresses are checked for syntax (no DNS look-up: the machine may be offline
and a typo'd domain is the subscriber's to fix) and stored normalised, so
``Ana@Example.ORG`` and ``ana@example.org`` are one subscriber. Unsubscribe
links carry each subscriber's own random token (made when they are added, looked
up in the database), never their id; acting on them is POST-only (RFC 8058),
because link scanners GET every URL in a mail.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select

from carnews.audience.addresses import normalise_address as normalise_address
from carnews.audience.diseases import normalise_diseases as normalise_diseases
from carnews.audience.diseases import split_diseases as split_diseases
from carnews.audience.importing import (
    IMPORT_CHUNK as IMPORT_CHUNK,
)
from carnews.audience.importing import (
    MAX_REJECTS_KEPT as MAX_REJECTS_KEPT,
)
from carnews.audience.importing import (
    NAME_LENGTH as NAME_LENGTH,
)
from carnews.audience.importing import (
    Added as Added,
)
from carnews.audience.importing import (
    ChunkHook as ChunkHook,
)
from carnews.audience.importing import (
    ImportReport as ImportReport,
)
from carnews.audience.importing import (
    import_csv as import_csv,
)
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Subscriber, SubscriberStatus

CSV_COLUMNS = ("email", "name", "diseases", "status", "consent_source", "created_at")
# What a token looks like (secrets.token_urlsafe); anything else is not looked up at all.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


async def add_subscriber(
    db: Database,
    clock: Clock,
    lexicon: Lexicon,
    *,
    email: str,
    name: str = "",
    diseases: Sequence[str] = (),
    confirmed: bool = False,
    consent_source: str,
    actor: str,
) -> Subscriber:
    """Add one subscriber: active when consent was already confirmed, else pending."""
    address = normalise_address(email)
    chosen = normalise_diseases(diseases, lexicon)
    now = clock()
    async with db.session() as session:
        if await session.scalar(select(Subscriber.id).where(Subscriber.email == address)):
            raise SubscriberError(
                f"{address} is already on the list",
                hint="'carnews subscribers list' shows it and its status.",
                context={"address": address},
            )
        subscriber = _new_subscriber(address, name, chosen, confirmed, consent_source, now)
        session.add(subscriber)
        await session.flush()
        audit(session, now, actor, "subscriber_add", ("subscriber", subscriber.id))
        return subscriber


def _new_subscriber(
    address: str, name: str, diseases: list[str], confirmed: bool, source: str, now: datetime
) -> Subscriber:
    return Subscriber(**_subscriber_values(address, name, diseases, confirmed, source, now))


def _subscriber_values(
    address: str, name: str, diseases: list[str], confirmed: bool, source: str, now: datetime
) -> dict[str, Any]:
    return {
        "email": address,
        "name": name.strip(),
        "diseases": diseases,
        "status": SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING,
        "consent_source": source,
        "consent_at": now,
        "created_at": now,
        "confirmed_at": now if confirmed else None,
    }


async def list_subscribers(
    db: Database, status: SubscriberStatus | None = None
) -> list[Subscriber]:
    async with db.read() as session:
        query = select(Subscriber).order_by(Subscriber.id)
        if status is not None:
            query = query.where(Subscriber.status == status)
        return list((await session.scalars(query)).all())


async def export_csv(db: Database) -> str:
    out = io.StringIO()
    await write_csv(db, out)
    return out.getvalue()


async def write_csv(db: Database, out: TextIO) -> None:
    """Every subscriber as CSV, read a page at a time so a large list is never all in memory."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    columns = (Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.diseases,
               Subscriber.status, Subscriber.consent_source, Subscriber.created_at)  # fmt: skip
    last = 0
    while True:
        async with db.session() as session:
            query = select(*columns).where(Subscriber.id > last).order_by(Subscriber.id)
            page = (await session.execute(query.limit(IMPORT_CHUNK))).all()
        if not page:
            return
        for _id, email, name, diseases, status, source, created in page:
            writer.writerow([email, name, ";".join(diseases), status.value, source,
                             created.isoformat()])  # fmt: skip
        last = page[-1][0]


async def subscriber_for_token(db: Database, token: str) -> int:
    """The subscriber an unsubscribe link names, or NotFoundError.

    A link that was never issued, or whose subscriber was erased, gets the same answer as
    a malformed one: nothing tells a guesser which tokens exist.
    """
    found = None
    if TOKEN_PATTERN.fullmatch(token):
        # A read: the page answers while a send holds SQLite's one write lock.
        async with db.read() as session:
            found = await session.scalar(
                select(Subscriber.id).where(Subscriber.unsubscribe_token == token)
            )
    if found is None:
        raise NotFoundError(
            "this unsubscribe link is not valid", hint="Use the link from your newsletter email."
        )
    return found


async def unsubscribe(db: Database, clock: Clock, subscriber_id: int, *, via: str) -> Subscriber:
    """Stop all mail to a subscriber; doing it twice is harmless."""
    now = clock()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
            subscriber.unsubscribed_at = now
            audit(session, now, via, "unsubscribe", ("subscriber", subscriber_id))
        return subscriber


async def unsubscribe_address(db: Database, clock: Clock, address: str, *, via: str) -> bool:
    """Unsubscribe by address (a mailto: reply, the webhook); False if nobody has it."""
    async with db.read() as session:
        found = await session.scalar(select(Subscriber.id).where(Subscriber.email == address))
    if found is None:
        return False
    await unsubscribe(db, clock, found, via=via)
    return True
