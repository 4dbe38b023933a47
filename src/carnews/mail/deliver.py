"""Deliver: send an approved edition by email, one ledger row per subscriber.

Before the first message goes out, one Delivery row is written per
(edition, subscriber) — the unique constraint makes a second start add none.
A batch is marked ``sending`` and committed *before* it is handed to the
relay, so a crash leaves rows that say "maybe sent" rather than "not sent":
such rows are never retried automatically and are reported for an operator.
A 5xx answer bounces the address; a 4xx or a dropped connection is retried
after a wait that doubles with each try. Messages are spliced from one encoded
template per disease mix and go out over connections kept for the whole run.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid

import aiosmtplib
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.editions.render import EditionView
from carnews.editions.review import ensure_sendable, load_edition
from carnews.editions.views import edition_view
from carnews.errors import ConfigError, DeliveryError, EditionStateError
from carnews.mail.message import Composer, sender_domain
from carnews.mail.ratelimit import RateLimiter
from carnews.mail.recovery import mark_abandoned
from carnews.mail.relay import send_one, smtp_client, wire_address
from carnews.settings import Settings, SmtpSettings
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import (
    Delivery,
    DeliveryState,
    Edition,
    EditionState,
    Subscriber,
    SubscriberStatus,
)

BATCH_SIZE = 200
LEDGER_CHUNK = 5000


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


def wants(diseases: Sequence[str], view: EditionView) -> bool:
    """Whether a reader who chose ``diseases`` (none: every disease) gets any story.

    The same answer as ``view.for_diseases(diseases).stories``, without building a
    view per subscriber: the ledger asks it once for each of them.
    """
    return bool(view.stories) and (
        not diseases or view.for_everyone or not view.diseases.isdisjoint(diseases)
    )


async def start_sending(
    db: Database, clock: Clock, edition_id: int, actor: str, *, resume: bool = False
) -> int:
    """Pass the review gate and write the ledger; return how many rows were added."""
    now = clock()
    async with db.session() as session:
        # Senders starting side by side write the ledger one after another (PostgreSQL:
        # the row lock; SQLite: one writer), so the second finds the rows and adds none.
        await session.execute(select(Edition.id).where(Edition.id == edition_id).with_for_update())
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
            # The operator has looked at the relay: what was waiting to retry goes now.
            await session.execute(
                update(Delivery)
                .where(Delivery.edition_id == edition_id, Delivery.retry_at.is_not(None))
                .values(retry_at=now)
            )
        ensure_sendable(edition)
        view = await edition_view(session, edition, base_url="", site_title="")
        added = await _write_ledger(session, edition_id, view, now)
        if edition.state == EditionState.APPROVED:
            edition.state = EditionState.SENDING
            audit(session, now, actor, "send_start", ("edition", edition_id), queued=added)
        return added


async def _write_ledger(
    session: AsyncSession, edition_id: int, view: EditionView, now: datetime
) -> int:
    """One queued row per active subscriber who has one, in chunks of plain rows.

    Subscribers are read a chunk at a time as (id, diseases) pairs, never as objects,
    so a list of a million costs a chunk of memory, not the list.
    """
    has_row = select(Delivery.id).where(
        Delivery.edition_id == edition_id, Delivery.subscriber_id == Subscriber.id
    )
    added, after = 0, 0
    while True:
        chunk = (
            await session.execute(
                select(Subscriber.id, Subscriber.diseases)
                .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.id > after,
                       ~has_row.exists())
                .order_by(Subscriber.id)
                .limit(LEDGER_CHUNK)
            )
        ).all()  # fmt: skip
        if not chunk:
            return added
        after = chunk[-1][0]
        rows = [
            {"edition_id": edition_id, "subscriber_id": subscriber_id, "queued_at": now,
             "state": DeliveryState.QUEUED, "attempts": 0}
            for subscriber_id, diseases in chunk
            if wants(diseases, view)
        ]  # fmt: skip
        if rows:
            await session.execute(insert(Delivery), rows)
            added += len(rows)


@dataclass(frozen=True)
class _Claim:
    """One claimed row with what its message needs, read without ORM objects."""

    delivery_id: int
    subscriber_id: int
    email: str
    diseases: list[str]
    message_id: str
    attempts: int  # counting this one


async def _claim_batch(
    db: Database, edition_id: int, now: datetime, sender_domain: str
) -> list[_Claim]:
    """Mark a batch ``sending`` and commit before any of it reaches the relay.

    A batch is queued rows and temporary failures whose back-off is over. Each row gets
    its Message-ID here, so a row a dead sender left behind names the message to look
    for in the relay's log. On PostgreSQL, SKIP LOCKED lets several senders claim side
    by side without ever taking the same row.
    """
    due = or_(
        Delivery.state == DeliveryState.QUEUED,
        and_(Delivery.state == DeliveryState.FAILED_TEMPORARY, Delivery.retry_at <= now),
    )
    async with db.session() as session:
        picked = (
            await session.execute(
                select(Delivery.id, Delivery.attempts)
                .where(Delivery.edition_id == edition_id, due)
                .order_by(Delivery.id)
                .limit(BATCH_SIZE)
                .with_for_update(skip_locked=True, of=Delivery)
            )
        ).all()
        if not picked:
            return []
        message_ids = {row_id: make_msgid(domain=sender_domain) for row_id, _ in picked}
        await session.execute(
            update(Delivery),
            [{"id": row_id, "state": DeliveryState.SENDING, "attempts": tried + 1,
              "claimed_at": now, "retry_at": None, "message_id": message_ids[row_id]}
             for row_id, tried in picked],
        )  # fmt: skip
        attempts = {row_id: tried + 1 for row_id, tried in picked}
        readers = await session.execute(
            select(Delivery.id, Subscriber.id, Subscriber.email, Subscriber.diseases)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.id.in_(list(message_ids)))
            .order_by(Delivery.id)
        )
        return [
            _Claim(row_id, subscriber_id, email, list(diseases), message_ids[row_id],
                   attempts[row_id])
            for row_id, subscriber_id, email, diseases in readers.all()
        ]  # fmt: skip


@dataclass
class _Outcome:
    claim: _Claim
    state: DeliveryState
    error: str | None = None
    reached_relay: bool = True


class _Sender:
    """``smtp.concurrency`` connections kept open for the whole run, shared by batches."""

    def __init__(self, settings: Settings, composer: Composer, limiter: RateLimiter) -> None:
        self._settings, self._composer, self._limiter = settings, composer, limiter
        self._connections = [smtp_client(settings.smtp) for _ in range(settings.smtp.concurrency)]

    async def send(self, batch: Sequence[_Claim], now: datetime) -> list[_Outcome]:
        """Every claim gets an outcome; connections take messages as they come free."""
        queue = iter(batch)
        date = format_datetime(now)
        outcomes: list[_Outcome] = []

        async def work(smtp: aiosmtplib.SMTP) -> None:
            for claim in queue:
                address = wire_address(claim.email)
                data = self._composer.compose(
                    subscriber_id=claim.subscriber_id, to=address,
                    diseases=claim.diseases, message_id=claim.message_id, date=date,
                )  # fmt: skip
                await self._limiter.acquire()
                answer = await send_one(smtp, self._settings.mail.from_address, address, data)
                outcomes.append(_Outcome(claim, *answer))

        await asyncio.gather(*(work(smtp) for smtp in self._connections[: len(batch)]))
        return outcomes

    def close(self) -> None:
        for smtp in self._connections:
            if smtp.is_connected:
                smtp.close()


async def _record(
    db: Database, outcomes: Sequence[_Outcome], now: datetime, smtp: SmtpSettings
) -> int:
    """Write a batch's answers in a few statements; a 5xx also bounces the address.

    Returns how many rows are settled: sent, or failed with no retry to come.
    """
    sent = [o.claim.delivery_id for o in outcomes if o.state == DeliveryState.SENT]
    failed = [o for o in outcomes if o.state != DeliveryState.SENT]
    retry_at = {o.claim.delivery_id: _retry_at(o, now, smtp) for o in failed}
    async with db.session() as session:
        if sent:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(sent))
                .values(state=DeliveryState.SENT, sent_at=now, last_error=None)
            )
        if failed:
            await session.execute(
                update(Delivery),
                [{"id": o.claim.delivery_id, "state": o.state, "last_error": o.error,
                  "retry_at": retry_at[o.claim.delivery_id]} for o in failed],
            )  # fmt: skip
        bounced = [o.claim.subscriber_id for o in failed
                   if o.state == DeliveryState.FAILED_PERMANENT]  # fmt: skip
        if bounced:
            await session.execute(
                update(Subscriber)
                .where(Subscriber.id.in_(bounced))
                .values(status=SubscriberStatus.BOUNCED)
            )
    return len(outcomes) - sum(1 for when in retry_at.values() if when is not None)


def _retry_at(outcome: _Outcome, now: datetime, smtp: SmtpSettings) -> datetime | None:
    """When a temporary failure is due again: the wait doubles after each attempt.

    None means never: a permanent failure, or a temporary one out of attempts.
    """
    attempts = outcome.claim.attempts
    if outcome.state != DeliveryState.FAILED_TEMPORARY or attempts >= smtp.max_attempts:
        return None
    return now + timedelta(seconds=smtp.retry_base_seconds * 2 ** (attempts - 1))


async def _release_unsent(db: Database, batch: Sequence[_Claim]) -> None:
    """A batch that never reached the relay goes back to the queue, attempt not counted."""
    async with db.session() as session:
        await session.execute(
            update(Delivery),
            [{"id": claim.delivery_id, "state": DeliveryState.QUEUED,
              "attempts": claim.attempts - 1, "claimed_at": None, "message_id": None}
             for claim in batch],
        )  # fmt: skip


@dataclass(frozen=True)
class SendProgress:
    """Where a run stands after a batch; ``settled`` counts rows with no retry to come."""

    settled: int
    total: int
    sent: int
    failed: int


Progress = Callable[[SendProgress], None]
Sleep = Callable[[float], Awaitable[None]]


async def send_edition(
    db: Database,
    settings: Settings,
    clock: Clock,
    edition_id: int,
    *,
    actor: str,
    on_progress: Progress | None = None,
    resume: bool = False,
    sleep: Sleep = asyncio.sleep,
) -> SendReport:
    """Send (or resume sending) an approved edition to every active subscriber.

    Temporary failures are tried again in the same run once their back-off is over,
    up to ``smtp.max_attempts`` tries, so one run settles every row it can.
    """
    _require_secret(settings)
    await start_sending(db, clock, edition_id, actor, resume=resume)
    await mark_abandoned(db, clock, edition_id, settings.smtp.claim_lease_seconds, actor)
    async with db.session() as session:
        counts = await delivery_counts(session, edition_id)
        edition = await load_edition(session, edition_id)
        view = await edition_view(
            session, edition, base_url=settings.site.base_url, site_title=settings.site.title
        )
        to_settle = counts[DeliveryState.QUEUED] + await _retryable(session, edition_id)
    limiter = RateLimiter(settings.smtp.max_per_second, settings.smtp.max_per_hour)
    sender = _Sender(settings, Composer(view, settings), limiter)
    settled = streak = sent = 0
    try:
        while True:
            batch = await _claim_batch(db, edition_id, clock(), sender_domain(settings))
            if not batch:
                if await _wait_for_retries(db, edition_id, clock, sleep):
                    continue
                break
            outcomes = await sender.send(batch, clock())
            if not any(outcome.reached_relay for outcome in outcomes):
                await _release_unsent(db, batch)
                raise DeliveryError(
                    f"cannot reach the SMTP relay at {settings.smtp.host}:{settings.smtp.port}: "
                    f"{outcomes[0].error}",
                    context={"edition": edition_id},
                )
            settled += await _record(db, outcomes, clock(), settings.smtp)
            sent += sum(1 for o in outcomes if o.state == DeliveryState.SENT)
            if on_progress is not None:
                on_progress(SendProgress(settled, to_settle, sent, settled - sent))
            for outcome in outcomes:
                streak = 0 if outcome.state == DeliveryState.SENT else streak + 1
            if streak >= settings.smtp.pause_after_errors:
                return await _pause(db, clock, edition_id, actor, streak)
    finally:
        sender.close()
    return await finish_if_done(db, clock, edition_id, actor)


async def _wait_for_retries(db: Database, edition_id: int, clock: Clock, sleep: Sleep) -> bool:
    """Sleep until the next temporary failure is due; False when none is waiting.

    A clock that does not move while sleeping (a fixed test or demo clock) would make
    the wait endless, so then the retries are left to the next run.
    """
    async with db.session() as session:
        due = await session.scalar(
            select(func.min(Delivery.retry_at)).where(
                Delivery.edition_id == edition_id,
                Delivery.state == DeliveryState.FAILED_TEMPORARY,
            )
        )
    if due is None:
        return False
    before = clock()
    wait = (due - before).total_seconds()
    if wait > 0:
        await sleep(wait)
        return clock() > before
    return True


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


async def _retryable(session: AsyncSession, edition_id: int) -> int:
    """Temporary failures with a try left; the rest of that state are final."""
    count = await session.scalar(
        select(func.count()).where(
            Delivery.edition_id == edition_id,
            Delivery.state == DeliveryState.FAILED_TEMPORARY,
            Delivery.retry_at.is_not(None),
        )
    )
    return count or 0


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
        retryable = await _retryable(session, edition_id)
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
