"""A reader's own choices: diseases, frequency and name, changed from their preferences
page (``/preferences/TOKEN``, the opaque token of their unsubscribe link) or by an
operator (``carnews subscribers set``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from carnews.audience.signup import FREQUENCIES, Choices
from carnews.audience.subscriptions import NAME_LENGTH, normalise_address, normalise_diseases
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Subscriber


async def subscriber_by_id(db: Database, subscriber_id: int) -> Subscriber:
    async with db.read() as session:
        found = await session.get(Subscriber, subscriber_id)
    if found is None:
        raise NotFoundError("this subscription no longer exists")
    return found


async def update_preferences(
    db: Database, clock: Clock, subscriber_id: int, choices: Choices, *, actor: str
) -> None:
    """Store the reader's choices; their status (active, unsubscribed, ...) is untouched."""
    now = clock()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        subscriber.name = choices.name
        subscriber.diseases = list(choices.diseases)
        subscriber.frequency = choices.frequency
        audit(
            session,
            now,
            actor,
            "subscriber_preferences",
            ("subscriber", subscriber_id),
            diseases=list(choices.diseases),
            frequency=choices.frequency,
        )


async def set_by_address(
    db: Database,
    clock: Clock,
    lexicon: Lexicon,
    email: str,
    *,
    name: str | None = None,
    diseases: Sequence[str] | None = None,
    frequency: str | None = None,
) -> Subscriber:
    """The operator's ``subscribers set``: change only what was given."""
    address = normalise_address(email)
    if frequency is not None and frequency not in FREQUENCIES:
        raise SubscriberError(
            f"unknown frequency {frequency!r}",
            hint="Use --frequency edition or --frequency monthly.",
        )
    if name is not None and len(name) > NAME_LENGTH:
        raise SubscriberError(f"the name is longer than {NAME_LENGTH} characters")
    chosen = normalise_diseases(diseases, lexicon) if diseases is not None else None
    async with db.read() as session:
        subscriber = await session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        raise NotFoundError(f"{address} is not a subscriber", context={"address": address})
    choices = Choices(
        name.strip() if name is not None else subscriber.name,
        tuple(chosen) if chosen is not None else tuple(subscriber.diseases),
        frequency or subscriber.frequency,
    )
    await update_preferences(db, clock, subscriber.id, choices, actor="cli")
    return await subscriber_by_id(db, subscriber.id)
