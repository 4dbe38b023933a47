"""Mail to the editors: a draft is ready, an approval was withdrawn, an edition was sent.

Plain-text notes to every editor and contributor (``carnews editors``), through the same
relay as the newsletter. A note that cannot be delivered is logged and never undoes or
blocks what it reports: an edit stays made and a send stays sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.mail.deliver import delivery_counts
from carnews.mail.message import one_line, sender_domain
from carnews.mail.relay import send_one, smtp_client
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import (
    BounceEvent,
    Delivery,
    DeliveryState,
    Edition,
    EditionStory,
    Subscriber,
    SubscriberStatus,
)
from carnews.web.auth import editor_addresses

log = logging.getLogger("carnews.notify")


@dataclass(frozen=True)
class EditionReport:
    """How an edition's send went, as far as is known now."""

    sent: int
    failed: int
    bounced: int  # readers of it whose address bounced (or who complained) since
    unsubscribed: int  # readers of it who left since it went out


async def edition_report(session: AsyncSession, edition_id: int) -> EditionReport | None:
    """None for an edition that has no ledger (never sent)."""
    started = await session.scalar(
        select(func.min(Delivery.queued_at)).where(Delivery.edition_id == edition_id)
    )
    if started is None:
        return None
    counts = await delivery_counts(session, edition_id)
    readers = select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id)
    bounced = await session.scalar(
        select(func.count(func.distinct(BounceEvent.subscriber_id))).where(
            BounceEvent.subscriber_id.in_(readers), BounceEvent.at >= started
        )
    )  # fmt: skip
    left = await session.scalar(
        select(func.count()).select_from(Subscriber).where(
            Subscriber.id.in_(readers), Subscriber.status == SubscriberStatus.UNSUBSCRIBED,
            Subscriber.unsubscribed_at >= started,
        )
    )  # fmt: skip
    failed = counts[DeliveryState.FAILED_PERMANENT] + counts[DeliveryState.FAILED_TEMPORARY]
    return EditionReport(counts[DeliveryState.SENT], failed, bounced or 0, left or 0)


def review_link(settings: Settings, edition_id: int) -> str:
    return f"{settings.site.base_url.rstrip('/')}/review/editions/{edition_id}"


async def notify_editors(
    db: Database, settings: Settings, clock: Clock, subject: str, body: str
) -> int:
    """Send one note to each editor; return how many the relay accepted."""
    addresses = await editor_addresses(db)
    if not addresses:
        return 0
    accepted = 0
    smtp = smtp_client(settings.smtp)
    try:
        for address in addresses:
            data = _note(settings, clock(), address, subject, body)
            state, error, _ = await send_one(smtp, settings.mail.from_address, address, data)
            if state == DeliveryState.SENT:
                accepted += 1
            else:
                log.warning("note to editor %s not sent: %s", address, error)
    finally:
        if smtp.is_connected:
            smtp.close()
    return accepted


def _note(settings: Settings, now: datetime, to: str, subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((one_line(settings.mail.from_name), settings.mail.from_address))
    message["To"] = to
    # One line: an edition title an editor typed cannot add a header of its own.
    message["Subject"] = one_line(f"[{settings.site.title} review] {subject}")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender_domain(settings.mail))
    message.set_content(body)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


async def draft_ready(db: Database, settings: Settings, clock: Clock, edition_id: int) -> int:
    async with db.read() as session:
        title = (await session.get_one(Edition, edition_id)).title
        count = await session.scalar(
            select(func.count()).where(EditionStory.edition_id == edition_id)
        )
    body = (f"A new draft is ready for review: {title}\n{count} stories.\n\n"
            f"Review it: {review_link(settings, edition_id)}\n")  # fmt: skip
    return await notify_editors(db, settings, clock, f"Draft {edition_id} is ready", body)


async def approval_withdrawn(
    db: Database, settings: Settings, clock: Clock, edition_id: int, actor: str, what: str
) -> int:
    body = (f"{actor} changed edition {edition_id} after it was approved ({what}), so its "
            "approval is withdrawn and it will not be sent until an editor approves it "
            f"again.\n\nReview it: {review_link(settings, edition_id)}\n")  # fmt: skip
    return await notify_editors(db, settings, clock, f"Approval of edition {edition_id} withdrawn",
                                body)  # fmt: skip


async def send_report(db: Database, settings: Settings, clock: Clock, edition_id: int) -> int:
    async with db.read() as session:
        report = await edition_report(session, edition_id)
        title = (await session.get_one(Edition, edition_id)).title
    if report is None:
        return 0
    body = (f"Edition {edition_id} ({title}) has been sent.\n\n"
            f"Sent: {report.sent}\nFailed: {report.failed}\nBounced since: {report.bounced}\n"
            f"Unsubscribed since: {report.unsubscribed}\n\n"
            f"Details: {review_link(settings, edition_id)}\n")  # fmt: skip
    return await notify_editors(db, settings, clock, f"Edition {edition_id} sent", body)
