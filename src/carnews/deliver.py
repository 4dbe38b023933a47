"""Deliver: send an approved edition by email, one ledger row per subscriber.

Before the first message goes out, one Delivery row is written per
(edition, subscriber) — the unique constraint makes a second start add none.
A batch is marked ``sending`` and committed *before* it is handed to the
relay, so a crash leaves rows that say "maybe sent" rather than "not sent":
such rows are never retried automatically and are reported for an operator.
A 5xx answer bounces the address; a 4xx or a dropped connection is retried.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from carnews.clock import Clock
from carnews.edition import audit, ensure_sendable, load_edition
from carnews.errors import ConfigError, DeliveryError, EditionStateError
from carnews.message import Signer, build_message, signer_for, to_bytes, unsubscribe_url
from carnews.ratelimit import RateLimiter
from carnews.recovery import mark_abandoned
from carnews.render import EditionView, RenderedEmail, render_email
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import (
    Delivery,
    DeliveryState,
    Edition,
    EditionState,
    Subscriber,
    SubscriberStatus,
)
from carnews.views import edition_view

BATCH_SIZE = 200
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SendReport:
    edition_id: int
    queued: int
    sent: int
    failed_temporary: int
    failed_permanent: int
    unknown: int
    skipped_no_matching_story: int
    finished: bool
    paused: bool = False


def _require_secret(settings: Settings) -> None:
    if not settings.site.secret_key:
        raise ConfigError(
            "site.secret_key is not set, so unsubscribe links cannot be signed",
            hint="Set CARNEWS_SITE_SECRET_KEY (a long random string) before sending.",
            context={"key": "site.secret_key"},
        )


def wants(subscriber: Subscriber, view: EditionView) -> bool:
    return bool(view.for_diseases(subscriber.diseases).stories)


async def start_sending(
    db: Database, clock: Clock, edition_id: int, actor: str, *, resume: bool = False
) -> int:
    """Pass the review gate and write the ledger; return how many rows were added."""
    now = clock()
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        if edition.state == EditionState.SENT:  # sending again only reports the ledger
            return 0
        if edition.state == EditionState.PAUSED:
            if not resume:
                raise EditionStateError(
                    f"sending edition {edition_id} paused after too many errors in a row",
                    hint=f"Check the relay, then: carnews send {edition_id} --resume",
                    context={"edition": edition_id},
                )
            edition.state = EditionState.SENDING
            audit(session, now, actor, "send_resume", ("edition", edition_id))
        ensure_sendable(edition)
        view = await edition_view(session, edition, base_url="", site_title="")
        existing = set(
            (
                await session.scalars(
                    select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id)
                )
            ).all()
        )
        active = (
            await session.scalars(
                select(Subscriber).where(Subscriber.status == SubscriberStatus.ACTIVE)
            )
        ).all()
        added = 0
        for subscriber in active:
            if subscriber.id not in existing and wants(subscriber, view):
                session.add(Delivery(edition_id=edition_id, subscriber_id=subscriber.id,
                                     queued_at=now))  # fmt: skip
                added += 1
        if edition.state == EditionState.APPROVED:
            edition.state = EditionState.SENDING
            audit(session, now, actor, "send_start", ("edition", edition_id), queued=added)
        return added


async def _claim_batch(
    db: Database, edition_id: int, now: datetime, sender_domain: str
) -> list[Delivery]:
    """Mark a batch ``sending`` and commit before any of it reaches the relay.

    Each row gets its Message-ID here, so a row a dead sender left behind names the
    message to look for in the relay's log. On PostgreSQL, SKIP LOCKED lets several
    senders claim side by side without ever taking the same row.
    """
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(Delivery)
                .where(
                    Delivery.edition_id == edition_id,
                    Delivery.state == DeliveryState.QUEUED,
                )
                .order_by(Delivery.id)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True, of=Delivery)
            )
        ).all()
        for row in rows:
            row.state = DeliveryState.SENDING
            row.attempts += 1
            row.claimed_at = now
            row.message_id = make_msgid(domain=sender_domain)
        await session.flush()
        ids = [row.id for row in rows]
        loaded = await session.scalars(
            select(Delivery).where(Delivery.id.in_(ids)).options(selectinload(Delivery.subscriber))
        )
        return sorted(loaded.all(), key=lambda row: row.id)


@dataclass
class _Outcome:
    delivery_id: int
    state: DeliveryState
    message_id: str | None = None
    error: str | None = None
    reached_relay: bool = True


async def _send_batch(
    batch: Sequence[Delivery],
    view: EditionView,
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
) -> list[_Outcome]:
    """Send over ``smtp.concurrency`` reused connections; every row gets an outcome."""
    rendered: dict[tuple[str, ...], RenderedEmail] = {}
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    for row in batch:
        queue.put_nowait(row)
    outcomes: list[_Outcome] = []

    signer = signer_for(settings.mail)

    def message_for(row: Delivery) -> EmailMessage:
        key = tuple(sorted(row.subscriber.diseases))
        if key not in rendered:
            rendered[key] = render_email(view.for_diseases(key), settings.templates.dir)
        url = unsubscribe_url(settings, row.subscriber_id)
        return build_message(
            rendered[key].personalise(url),
            to=row.subscriber.email,
            settings=settings,
            unsubscribe_url=url,
            now=clock(),
            message_id=row.message_id,
        )

    async def worker() -> None:
        smtp = smtp_client(settings)
        try:
            while not queue.empty():
                row = queue.get_nowait()
                message = message_for(row)
                await limiter.acquire()
                sent = await send_one(smtp, settings.mail.from_address, message, signer)
                outcomes.append(_Outcome(row.id, *sent))
        finally:
            if smtp.is_connected:
                smtp.close()

    workers = min(settings.smtp.concurrency, len(batch)) or 1
    await asyncio.gather(*(worker() for _ in range(workers)))
    return outcomes


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    smtp = settings.smtp
    return aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        timeout=smtp.timeout_seconds,
        username=smtp.username or None,
        password=smtp.password.reveal() or None,
    )


# (state, Message-ID, error, whether the relay was reached at all)
Sent = tuple[DeliveryState, str | None, str | None, bool]


async def send_one(
    smtp: aiosmtplib.SMTP, sender: str, message: EmailMessage, signer: Signer | None
) -> Sent:
    message_id = str(message["Message-ID"])
    if not smtp.is_connected:
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            smtp.close()
            return DeliveryState.FAILED_TEMPORARY, None, _describe(exc), False
    try:
        await smtp.sendmail(sender, [str(message["To"])], to_bytes(message, signer))
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [error.code for error in exc.recipients]
        return _state_for(codes[0] if codes else 450), message_id, str(exc), True
    except aiosmtplib.SMTPResponseException as exc:
        return _state_for(exc.code), message_id, f"{exc.code} {exc.message}", True
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        smtp.close()
        return DeliveryState.FAILED_TEMPORARY, message_id, _describe(exc), True
    return DeliveryState.SENT, message_id, None, True


def _state_for(code: int) -> DeliveryState:
    return DeliveryState.FAILED_PERMANENT if 500 <= code < 600 else DeliveryState.FAILED_TEMPORARY


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _record(db: Database, outcomes: Sequence[_Outcome], now: datetime) -> None:
    async with db.session() as session:
        for outcome in outcomes:
            row = await session.get_one(Delivery, outcome.delivery_id)
            row.state = outcome.state
            row.message_id = outcome.message_id
            row.last_error = outcome.error
            if outcome.state == DeliveryState.SENT:
                row.sent_at = now
            elif outcome.state == DeliveryState.FAILED_PERMANENT:
                await session.execute(
                    update(Subscriber)
                    .where(Subscriber.id == row.subscriber_id)
                    .values(status=SubscriberStatus.BOUNCED)
                )


async def _release_unsent(db: Database, batch: Sequence[Delivery]) -> None:
    """A batch that never reached the relay goes back to the queue, attempt not counted."""
    async with db.session() as session:
        for row in batch:
            stored = await session.get_one(Delivery, row.id)
            stored.state, stored.attempts = DeliveryState.QUEUED, stored.attempts - 1
            stored.claimed_at = stored.message_id = None


# Called after each batch with (messages handled so far in this run, queued at its start).
Progress = Callable[[int, int], None]


async def send_edition(
    db: Database,
    settings: Settings,
    clock: Clock,
    edition_id: int,
    *,
    actor: str,
    on_progress: Progress | None = None,
    resume: bool = False,
) -> SendReport:
    """Send (or resume sending) an approved edition to every active subscriber."""
    _require_secret(settings)
    await start_sending(db, clock, edition_id, actor, resume=resume)
    await _requeue_temporary_failures(db, edition_id)
    await mark_abandoned(db, clock, edition_id, settings.smtp.claim_lease_seconds, actor)
    async with db.session() as session:
        to_send = (await delivery_counts(session, edition_id))[DeliveryState.QUEUED]
    handled = streak = 0
    limiter = RateLimiter(settings.smtp.max_per_second, settings.smtp.max_per_hour)
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        view = await edition_view(
            session, edition, base_url=settings.site.base_url, site_title=settings.site.title
        )
    domain = settings.mail.from_address.rpartition("@")[2] or "localhost"
    while batch := await _claim_batch(db, edition_id, clock(), domain):
        outcomes = await _send_batch(batch, view, settings, clock, limiter)
        if not any(outcome.reached_relay for outcome in outcomes):
            await _release_unsent(db, batch)
            raise DeliveryError(
                f"cannot reach the SMTP relay at {settings.smtp.host}:{settings.smtp.port}: "
                f"{outcomes[0].error}",
                context={"edition": edition_id},
            )
        await _record(db, outcomes, clock())
        handled += len(outcomes)
        if on_progress is not None:
            on_progress(handled, to_send)
        for outcome in outcomes:
            streak = 0 if outcome.state == DeliveryState.SENT else streak + 1
        if streak >= settings.smtp.pause_after_errors:
            return await _pause(db, clock, edition_id, actor, streak)
    return await finish_if_done(db, clock, edition_id, actor)


async def _pause(
    db: Database, clock: Clock, edition_id: int, actor: str, streak: int
) -> SendReport:
    """Stop before a broken relay or a bad list burns through the whole ledger."""
    async with db.session() as session:
        edition = await session.get_one(Edition, edition_id)
        edition.state = EditionState.PAUSED
        audit(session, clock(), actor, "send_paused", ("edition", edition_id), errors=streak)
    report = await finish_if_done(db, clock, edition_id, actor)
    return dataclasses.replace(report, finished=False, paused=True)


async def _requeue_temporary_failures(db: Database, edition_id: int) -> None:
    """Each run retries a temporarily failed row once; after MAX_ATTEMPTS it stays failed."""
    async with db.session() as session:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.state == DeliveryState.FAILED_TEMPORARY,
                Delivery.attempts < MAX_ATTEMPTS,
            )
            .values(state=DeliveryState.QUEUED)
        )


async def delivery_counts(session: AsyncSession, edition_id: int) -> dict[DeliveryState, int]:
    rows = await session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.state)
    )
    counts = {state: 0 for state in DeliveryState}
    counts.update({state: count for state, count in rows.all()})
    return counts


async def finish_if_done(db: Database, clock: Clock, edition_id: int, actor: str) -> SendReport:
    """Mark the edition sent once no row can still change; report the ledger either way."""
    now = clock()
    async with db.session() as session:
        counts = await delivery_counts(session, edition_id)
        retryable = await session.scalar(
            select(func.count()).where(
                Delivery.edition_id == edition_id,
                Delivery.state == DeliveryState.FAILED_TEMPORARY,
                Delivery.attempts < MAX_ATTEMPTS,
            )
        )
        edition = await session.get_one(Edition, edition_id)
        waiting = (DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.UNKNOWN)
        finished = not (any(counts[state] for state in waiting) or retryable)
        if finished and edition.state == EditionState.SENDING:
            edition.state = EditionState.SENT
            edition.sent_at = now
            audit(session, now, actor, "send_done", ("edition", edition_id),
                  sent=counts[DeliveryState.SENT])  # fmt: skip
        skipped = await session.scalar(
            select(func.count()).where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.id.not_in(
                    select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id)
                ),
            )
        )
    total = sum(counts.values())
    return SendReport(
        edition_id=edition_id,
        queued=total,
        sent=counts[DeliveryState.SENT],
        failed_temporary=counts[DeliveryState.FAILED_TEMPORARY],
        failed_permanent=counts[DeliveryState.FAILED_PERMANENT],
        unknown=counts[DeliveryState.SENDING] + counts[DeliveryState.UNKNOWN],
        skipped_no_matching_story=skipped or 0,
        finished=finished,
    )
