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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from carnews.audience.diseases import disease_names, normalise_disease
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import Subscriber, SubscriberStatus

CSV_COLUMNS = ("email", "name", "diseases", "status", "consent_source", "created_at")
# What a token looks like (secrets.token_urlsafe); anything else is not looked up at all.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def normalise_address(raw: str) -> str:
    """The one spelling of an address; SubscriberError says what is wrong with a bad one."""
    candidate = raw.strip()
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(
            f"{candidate!r} is not a usable email address: {exc}", context={"address": candidate}
        ) from None
    # Lower-cased whole: mail systems treat local parts case-insensitively in practice,
    # and one person must not become two subscribers by capitalising their name.
    return checked.normalized.lower()


def normalise_diseases(names: Iterable[str], lexicon: Lexicon) -> list[str]:
    chosen: list[str] = []
    for name in names:
        if not name.strip():
            continue
        known = normalise_disease(name.strip(), lexicon)
        if known is None:
            raise SubscriberError(
                f"unknown disease {name.strip()!r}",
                hint="Choose from: " + ", ".join(disease_names(lexicon)),
                context={"disease": name},
            )
        if known not in chosen:
            chosen.append(known)
    return chosen


def split_diseases(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


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
    return Subscriber(
        email=address,
        name=name.strip(),
        diseases=diseases,
        status=SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING,
        consent_source=source,
        consent_at=now,
        created_at=now,
        confirmed_at=now if confirmed else None,
    )


async def list_subscribers(
    db: Database, status: SubscriberStatus | None = None
) -> list[Subscriber]:
    async with db.read() as session:
        query = select(Subscriber).order_by(Subscriber.id)
        if status is not None:
            query = query.where(Subscriber.status == status)
        return list((await session.scalars(query)).all())


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, address, why


async def import_csv(
    db: Database, clock: Clock, lexicon: Lexicon, text: str, *, confirmed: bool, actor: str
) -> ImportReport:
    """Import rows with at least an ``email`` column; a bad row is reported, the rest go in."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise SubscriberError(
            "the CSV has no 'email' column",
            hint="The first line must name the columns, e.g. email,name,diseases.",
        )
    report = ImportReport()
    now = clock()
    async with db.session() as session:
        known = set((await session.scalars(select(Subscriber.email))).all())
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            try:
                address = normalise_address(row.get("email", ""))
                diseases = normalise_diseases(split_diseases(row.get("diseases", "")), lexicon)
            except SubscriberError as exc:
                report.rejected.append((line, row.get("email", ""), exc.message))
                continue
            if address in known:
                report.unchanged += 1
                continue
            known.add(address)
            session.add(
                _new_subscriber(address, row.get("name", ""), diseases, confirmed, "import", now)
            )
            report.added += 1
        audit(session, now, actor, "subscriber_import", ("subscribers", "*"), added=report.added)
    return report


async def export_csv(db: Database) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in await list_subscribers(db):
        writer.writerow(
            [s.email, s.name, ";".join(s.diseases), s.status.value, s.consent_source,
             s.created_at.isoformat()]
        )  # fmt: skip
    return out.getvalue()


async def subscriber_for_token(db: Database, token: str) -> int:
    """The subscriber an unsubscribe link names, or NotFoundError.

    A link that was never issued, or whose subscriber was erased, gets the same answer as
    a malformed one: nothing tells a guesser which tokens exist.
    """
    found = None
    if TOKEN_PATTERN.fullmatch(token):
        async with db.session() as session:
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
