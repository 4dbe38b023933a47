"""Double opt-in: a sign-up asks, a confirmation link (three days, once) makes it active.

The form, an import without consent, and a re-subscription from the preferences page all
end here. Nothing a stranger sends changes a subscriber: what they asked for (name,
diseases, frequency) waits on the confirmation row and applies only when the mailbox's
owner follows the link. A repeated sign-up mails a fresh link, at most
``web.mails_per_address_per_day`` a day; the caller shows the same page whatever happened,
so the page never tells whether an address is known.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.limits import DAY, HOUR, keyed_hash, take
from carnews.audience.privacy import BLOCKED, address_hash, lift_erasure, suppression
from carnews.audience.subscriptions import TOKEN_PATTERN
from carnews.clock import Clock
from carnews.errors import LinkError, NotFoundError, RateLimitError
from carnews.settings import WebSettings
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Confirmation, Subscriber, SubscriberStatus

CONFIRM_FOR = timedelta(days=3)
FREQUENCIES = ("edition", "monthly")
IMPORT_CHUNK = 500


@dataclass(frozen=True)
class Choices:
    """What a reader asked for; empty ``diseases`` means every disease."""

    name: str = ""
    diseases: tuple[str, ...] = ()
    frequency: str = "edition"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "diseases": list(self.diseases), "frequency": self.frequency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Choices:
        return cls(
            str(data.get("name", "")),
            tuple(data.get("diseases", ())),
            str(data.get("frequency", "edition")),
        )


@dataclass(frozen=True)
class PendingMail:
    """A confirmation link to mail: the token exists only here and in that mail."""

    address: str
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_signup(
    db: Database,
    clock: Clock,
    key: str,
    limits: WebSettings,
    *,
    address: str,
    choices: Choices,
    ip: str,
) -> PendingMail | None:
    """A form sign-up for a normalised ``address``: the link to mail, or None (no mail).

    RateLimitError when this IP sent too many sign-ups this hour; None, silently, for a
    blocked address or one that already got its mails for the day.
    """
    now = clock()
    async with db.session() as session:
        ip_key = keyed_hash(key, "ip", ip)
        if not await take(
            session, "ip", ip_key, now, limit=limits.signups_per_ip_per_hour, window=HOUR
        ):
            raise RateLimitError("too many sign-ups came from your network in the last hour")
    async with db.session() as session:
        if await suppression(session, key, address) == BLOCKED:
            return None
        subscriber = await session.scalar(select(Subscriber).where(Subscriber.email == address))
        if subscriber is None:
            subscriber = Subscriber(
                email=address,
                name=choices.name,
                diseases=list(choices.diseases),
                frequency=choices.frequency,
                status=SubscriberStatus.PENDING,
                consent_source="form",
                created_at=now,
                consent_ip=ip if limits.record_consent_ip else None,
            )
            session.add(subscriber)
            await session.flush()
            audit(session, now, "web", "subscriber_signup", ("subscriber", subscriber.id))
        return await _new_link(session, key, limits, subscriber, choices, "form", now)


async def request_confirmation(
    db: Database, clock: Clock, key: str, limits: WebSettings, subscriber_id: int
) -> PendingMail | None:
    """A re-subscription from the preferences page: a fresh link, within the daily limit."""
    now = clock()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise NotFoundError("this subscription no longer exists")
        choices = Choices(subscriber.name, tuple(subscriber.diseases), subscriber.frequency)
        return await _new_link(session, key, limits, subscriber, choices, "preferences", now)


async def _new_link(
    session: AsyncSession,
    key: str,
    limits: WebSettings,
    subscriber: Subscriber,
    choices: Choices,
    source: str,
    now: datetime,
) -> PendingMail | None:
    counted = address_hash(key, subscriber.email)
    if not await take(
        session, "address", counted, now, limit=limits.mails_per_address_per_day, window=DAY
    ):
        return None
    token = secrets.token_urlsafe(32)
    session.add(
        Confirmation(
            subscriber_id=subscriber.id,
            token_hash=_token_hash(token),
            choices={**choices.to_dict(), "source": source},
            created_at=now,
            expires_at=now + CONFIRM_FOR,
        )
    )
    return PendingMail(subscriber.email, token, now + CONFIRM_FOR)


async def links_for_imported(db: Database, clock: Clock) -> list[PendingMail]:
    """A link for every imported subscriber still pending who never got one.

    Run after ``import_csv`` without ``--confirmed``: an import is no consent, so each
    address is asked. Running it again mails nobody twice.
    """
    now = clock()
    made: list[PendingMail] = []
    asked = select(Confirmation.id).where(Confirmation.subscriber_id == Subscriber.id)
    while True:
        async with db.session() as session:
            waiting = (
                await session.execute(
                    select(Subscriber.id, Subscriber.email)
                    .where(
                        Subscriber.status == SubscriberStatus.PENDING,
                        Subscriber.consent_source == "import",
                        ~asked.exists(),
                    )
                    .order_by(Subscriber.id)
                    .limit(IMPORT_CHUNK)
                )
            ).all()
            for subscriber_id, address in waiting:
                token = secrets.token_urlsafe(32)
                session.add(
                    Confirmation(
                        subscriber_id=subscriber_id,
                        token_hash=_token_hash(token),
                        choices={"source": "import"},
                        created_at=now,
                        expires_at=now + CONFIRM_FOR,
                    )
                )
                made.append(PendingMail(address, token, now + CONFIRM_FOR))
        if len(waiting) < IMPORT_CHUNK:
            return made


async def withdraw_links(db: Database, links: Sequence[PendingMail]) -> None:
    """Forget links that were never mailed (the relay was down), so a rerun mails them."""
    hashes = [_token_hash(link.token) for link in links]
    async with db.session() as session:
        for start in range(0, len(hashes), IMPORT_CHUNK):
            chunk = hashes[start : start + IMPORT_CHUNK]
            await session.execute(delete(Confirmation).where(Confirmation.token_hash.in_(chunk)))


async def _link(session: AsyncSession, token: str, now: datetime) -> Confirmation:
    """The confirmation a token names, or a clear refusal (never a hint which exist)."""
    found = None
    if TOKEN_PATTERN.fullmatch(token):
        found = await session.scalar(
            select(Confirmation).where(Confirmation.token_hash == _token_hash(token))
        )
    if found is None:
        raise NotFoundError(
            "this confirmation link is not valid",
            hint="Use the link from your confirmation email, or sign up again.",
        )
    if found.used_at is not None:
        raise LinkError("this confirmation link was already used")
    if found.expires_at <= now:
        raise LinkError(f"this confirmation link has expired (links last {CONFIRM_FOR.days} days)")
    return found


async def check_link(db: Database, clock: Clock, token: str) -> str:
    """The address a usable link confirms (for the page with the button); else an error."""
    async with db.read() as session:
        link = await _link(session, token, clock())
        subscriber = await session.get_one(Subscriber, link.subscriber_id)
        return subscriber.email


async def confirm(db: Database, clock: Clock, key: str, token: str) -> str:
    """Make the link's subscriber active with their choices; the preferences token."""
    now = clock()
    async with db.session() as session:
        link = await _link(session, token, now)
        subscriber = await session.get_one(Subscriber, link.subscriber_id)
        if subscriber.unsubscribed_at is not None and link.created_at < subscriber.unsubscribed_at:
            raise LinkError("this confirmation link was sent before you unsubscribed")
        _apply(subscriber, link.choices, now)
        # Every other open link of this subscriber is spent too: one confirmation is enough.
        await session.execute(
            update(Confirmation)
            .where(Confirmation.subscriber_id == subscriber.id, Confirmation.used_at.is_(None))
            .values(used_at=now)
        )
        await lift_erasure(session, key, subscriber.email)
        audit(
            session,
            now,
            "web",
            "subscriber_confirm",
            ("subscriber", subscriber.id),
            source=link.choices.get("source", ""),
        )
        return subscriber.unsubscribe_token


def _apply(subscriber: Subscriber, asked: dict[str, Any], now: datetime) -> None:
    source = str(asked.get("source", "form"))
    if source == "form":
        choices = Choices.from_dict(asked)
        subscriber.name = choices.name
        subscriber.diseases = list(choices.diseases)
        subscriber.frequency = choices.frequency
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.consent_source = source
    subscriber.consent_at = now
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None


def diseases_or_all(diseases: Sequence[str]) -> str:
    return ", ".join(diseases) or "all diseases"
