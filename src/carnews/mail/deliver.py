"""Deliver: send an approved edition by email, one ledger row per subscriber.

Before the first message goes out, one Delivery row is written per
(edition, subscriber) — the unique constraint makes a second start add none.
A batch is claimed (``claims``) and committed *before* it is handed to the
relay, so a crash leaves rows that say "maybe sent" rather than "not sent":
such rows are never retried automatically and are reported for an operator
(``recovery``). Each batch goes out and its answers come back in ``batch``.
Messages are spliced from one encoded template per disease mix.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.editions.digest import audience
from carnews.editions.render import EditionView
from carnews.editions.review import ensure_sendable, load_edition
from carnews.editions.views import edition_view
from carnews.errors import EditionStateError
from carnews.mail.batch import BatchRun, Progress, Sender, SendProgress
from carnews.mail.claims import Holder, claim_batch, keep_alive, this_process
from carnews.mail.message import Composer, sender_domain
from carnews.mail.ratelimit import RateLimiter
from carnews.mail.recovery import mark_abandoned
from carnews.settings import Settings, validate
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

__all__ = ["Progress", "SendProgress", "SendReport", "Sleep", "delivery_counts", "finish_if_done",
           "send_edition", "start_sending", "wants"]  # fmt: skip

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
        added = await _write_ledger(session, edition, view, now)
        if edition.state == EditionState.APPROVED:
            edition.state = EditionState.SENDING
            audit(session, now, actor, "send_start", ("edition", edition_id), queued=added)
        return added


async def _write_ledger(
    session: AsyncSession, edition: Edition, view: EditionView, now: datetime
) -> int:
    """One queued row per active subscriber of the edition's audience who has a story,
    in chunks of plain rows: an edition's readers, or a digest's (``digest.audience``).

    Subscribers are read a chunk at a time as (id, diseases) pairs, never as objects,
    so a list of a million costs a chunk of memory, not the list.
    """
    edition_id = edition.id
    has_row = select(Delivery.id).where(
        Delivery.edition_id == edition_id, Delivery.subscriber_id == Subscriber.id
    )
    added, after = 0, 0
    while True:
        chunk = (
            await session.execute(
                select(Subscriber.id, Subscriber.diseases)
                .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.id > after,
                       audience(edition.kind), ~has_row.exists())
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
    holder: Holder | None = None,
) -> SendReport:
    """Send (or resume sending) an approved edition to every active subscriber.

    Temporary failures are tried again in the same run once their back-off is over,
    up to ``smtp.max_attempts`` tries, so one run settles every row it can. Settings
    and the message are checked before anything is claimed; a run that stops on any
    error leaves no claim of its own behind.
    """
    validate(settings)
    holder = holder or this_process()
    await start_sending(db, clock, edition_id, actor, resume=resume)
    await mark_abandoned(db, clock, edition_id, settings.smtp.claim_lease_seconds, actor)
    async with db.read() as session:
        counts = await delivery_counts(session, edition_id)
        edition = await load_edition(session, edition_id)
        view = await edition_view(
            session, edition, base_url=settings.site.base_url, site_title=settings.site.title
        )
        to_settle = counts[DeliveryState.QUEUED] + await _retryable(session, edition_id)
    composer = Composer(view, settings.mail, settings.site, settings.templates.dir)
    _preflight(composer, settings, clock())
    limiter = RateLimiter(settings.smtp.max_per_second, settings.smtp.max_per_hour)
    journal = db.optouts
    sender = Sender(settings, composer, limiter, journal.left if journal is not None else None)
    heartbeat = asyncio.create_task(
        keep_alive(db, clock, edition_id, holder, settings.smtp.claim_lease_seconds)
    )
    run = BatchRun(db, settings, clock, edition_id, sender, on_progress, to_settle)
    try:
        while True:
            batch = await claim_batch(db, edition_id, clock(), sender_domain(settings.mail), holder)
            if not batch:
                if await _wait_for_retries(db, edition_id, clock, sleep):
                    continue
                break
            if await run.batch(batch):
                return await _pause(db, clock, edition_id, actor, run.streak)
    finally:
        sender.close()
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
    return await finish_if_done(db, clock, edition_id, actor)


def _preflight(composer: Composer, settings: Settings, now: datetime) -> None:
    """Build one message before claiming anything: a bad header, template or DKIM key
    stops the run here, with every row still queued."""
    composer.compose(unsubscribe_token="preflight", to=settings.mail.from_address, diseases=(),
                     message_id=make_msgid(domain=sender_domain(settings.mail)),
                     date=format_datetime(now))  # fmt: skip


async def _wait_for_retries(db: Database, edition_id: int, clock: Clock, sleep: Sleep) -> bool:
    """Sleep until the next temporary failure is due; False when none is waiting.

    A clock that does not move while sleeping (a fixed test or demo clock) would make
    the wait endless, so then the retries are left to the next run.
    """
    async with db.read() as session:
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
                audience(edition.kind),
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
