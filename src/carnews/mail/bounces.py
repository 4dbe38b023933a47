"""Bounces: reports that a newsletter did not arrive, or that a reader called it spam.

Three ways in: the relay's 5xx answer during a send (``deliver``), a provider's
authenticated webhook (``POST /webhooks/bounces``, read by ``carnews.mail.webhook``) and
delivery status notifications an operator collects in a maildir (``carnews bounces
import``): RFC 3464 bounces and RFC 5965 feedback (complaint) reports. Parsing is pure
and never raises on bad mail; ``record_bounces`` stores one event per notice and moves a
subscriber when a threshold is reached — one hard bounce or three soft ones within 30
days make the address bounced, one complaint makes it complained. Feeding a report twice
is harmless.
"""

from __future__ import annotations

import email
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.subscriptions import normalise_address
from carnews.clock import Clock
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import (
    BounceEvent,
    BounceKind,
    BounceSource,
    Subscriber,
    SubscriberStatus,
)

SOFT_LIMIT = 3
SOFT_WINDOW = timedelta(days=30)
MAX_MESSAGE_BYTES = 10_000_000
STORED_TEXT_CHARS = 2000  # a diagnostic is for a person to read; a relay's essay is cut
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # refused by SQLite's codec or PostgreSQL
COMPLAINT_TYPES = {"abuse", "fraud"}  # not "not-spam", "auth-failure" or "virus"
_KEPT = ("Action", "Status", "Final-Recipient", "Original-Recipient", "Remote-MTA")
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
_SMTP_REPLY = re.compile(r"^\s*smtp\s*;\s*([245])\d\d\b", re.IGNORECASE)


@dataclass(frozen=True)
class BounceNotice:
    """One recipient's bounce or complaint, as read from a report or a webhook."""

    address: str
    kind: BounceKind
    diagnostic: str = ""
    reference: str | None = None  # tells a repeat of the same report apart from a new one
    at: datetime | None = None  # when it happened, if the report says
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusChange:
    subscriber_id: int
    address: str
    before: SubscriberStatus
    after: SubscriberStatus
    reason: str


@dataclass
class BounceReport:
    recorded: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)  # recorded, but nobody subscribed them
    outcomes: list[str] = field(default_factory=list)  # one per notice, in order
    status_changes: list[StatusChange] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded, "duplicates": self.duplicates, "unknown": self.unknown,
            "status_changes": [
                {"subscriber_id": c.subscriber_id, "address": c.address,
                 "from": c.before.value, "to": c.after.value, "reason": c.reason}
                for c in self.status_changes
            ],
        }  # fmt: skip


def parse_dsn(raw: bytes) -> list[BounceNotice]:
    """The bounces (RFC 3464) or complaint (RFC 5965) in one mail; [] for any other mail."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return []
    try:
        message = email.message_from_bytes(raw)
        if message.get_content_type() != "multipart/report":
            return []
        reference = _reference(message, raw)
        sent = _date(_field(message, "Date"))
        if (status := _part(message, "message/delivery-status")) is not None:
            return _delivery_status(message, status, reference, sent)
        if (feedback := _part(message, "message/feedback-report")) is not None:
            return _feedback_report(message, feedback, reference, sent)
    except Exception:  # mail from strangers: a report we cannot read is no report
        return []
    return []


def _delivery_status(
    message: Message, part: Message, reference: str, sent: datetime | None
) -> list[BounceNotice]:
    blocks = [b for b in part.get_payload() if isinstance(b, Message)]
    if not blocks:
        return []
    per_message = blocks[0]
    original = _original_fields(message)
    notices = []
    for block in blocks:
        kind = _kind(_field(block, "Action").lower(), _field(block, "Status"),
                     _field(block, "Diagnostic-Code"))  # fmt: skip
        address = _address(_field(block, "Original-Recipient")) or _address(
            _field(block, "Final-Recipient")
        )
        if kind is None or not address:
            continue
        at = _date(_field(block, "Last-Attempt-Date")) or _date(_field(per_message, "Arrival-Date"))
        detail = _fields(block, *_KEPT) | _fields(per_message, "Reporting-MTA") | original
        diagnostic = _field(block, "Diagnostic-Code")
        notices.append(BounceNotice(address, kind, diagnostic, reference, at or sent, detail))
    return notices


def _kind(action: str, status: str, diagnostic: str) -> BounceKind | None:
    """Action: failed with 5.x.x is hard; 4.x.x or Action: delayed is soft."""
    if action in ("delivered", "relayed", "expanded"):
        return None
    if action == "delayed":
        return BounceKind.SOFT
    found = _STATUS.match(status) or _SMTP_REPLY.match(diagnostic)
    code = found.group(1) if found else ""
    if code == "5" or (action == "failed" and not code):
        return BounceKind.HARD
    return BounceKind.SOFT if code == "4" else None


def _feedback_report(
    message: Message, part: Message, reference: str, sent: datetime | None
) -> list[BounceNotice]:
    report = _inner(part)
    feedback_type = _field(report, "Feedback-Type").lower()
    if feedback_type not in COMPLAINT_TYPES:
        return []
    headers = _original_headers(message)
    recipients = report.get_all("Original-Rcpt-To") or (
        headers.get_all("To") if headers is not None else None
    )
    addresses = [a for _, a in getaddresses([str(r) for r in recipients or []]) if "@" in a]
    detail = _fields(report, "Feedback-Type", "User-Agent", "Reported-Domain", "Source-IP")
    detail |= _original_fields(message)
    at = _date(_field(report, "Arrival-Date")) or sent
    diagnostic = f"feedback report ({feedback_type})"
    return [
        BounceNotice(a, BounceKind.COMPLAINT, diagnostic, reference, at, detail)
        for a in dict.fromkeys(addresses)
    ]


def _part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _inner(part: Message) -> Message:
    """The headers inside a message/* part, which the parser gives as one nested message."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return HeaderParser().parsestr(str(payload or ""))


def _original_headers(message: Message) -> Message | None:
    for content_type in ("message/rfc822", "text/rfc822-headers"):
        if (part := _part(message, content_type)) is not None:
            return _inner(part)
    return None


def _original_fields(message: Message) -> dict[str, str]:
    """The Message-ID of the newsletter that bounced, to trace it to its delivery."""
    headers = _original_headers(message)
    found = _field(headers, "Message-ID") if headers is not None else ""
    return {"original-message-id": found} if found else {}


def _reference(message: Message, raw: bytes) -> str:
    message_id = _field(message, "Message-ID")
    if message_id and len(message_id) <= 300:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _field(message: Message, name: str) -> str:
    """A header unfolded onto one line; '' when it is missing."""
    return " ".join(str(message.get(name, "")).split())


def _fields(message: Message, *names: str) -> dict[str, str]:
    return {name.lower(): value for name in names if (value := _field(message, name))}


def _address(value: str) -> str:
    """``rfc822; <Ana@example.org>`` → ``Ana@example.org``; '' when there is none."""
    address = value.rpartition(";")[2].strip().strip("<>").strip()
    return address if "@" in address else ""


def _date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_maildir(path: Path) -> Iterator[tuple[Path, list[BounceNotice]]]:
    """Every mail in a maildir's new/ and cur/, with the notices it holds (often none)."""
    folders = [path / "new", path / "cur"]
    if not any(folder.is_dir() for folder in folders):
        raise NotFoundError(
            f"{path} is not a maildir: it has no new/ or cur/ folder",
            hint="Give the folder your bounce address delivers to (the one holding new/ and cur/).",
            context={"path": str(path)},
        )
    files = [f for d in folders if d.is_dir() for f in sorted(d.iterdir()) if f.is_file()]
    return ((f, parse_dsn(_read(f))) for f in files if not f.name.startswith("."))


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError:  # gone or unreadable since listed: nothing to learn from it
        return b""


async def record_bounces(
    db: Database, clock: Clock, notices: Iterable[BounceNotice], *, source: BounceSource
) -> BounceReport:
    """Store each notice once, then move every subscriber who reached a threshold."""
    now = clock()
    report = BounceReport()
    async with db.session() as session:
        touched: dict[int, Subscriber] = {}
        for notice in notices:
            outcome, address, subscriber = await _record_one(session, notice, source, now)
            report.outcomes.append(outcome)
            if outcome == "duplicate":
                report.duplicates += 1
            elif outcome.startswith("recorded"):
                report.recorded += 1
                if subscriber is None:
                    report.unknown.append(address)
                else:
                    touched[subscriber.id] = subscriber
        for subscriber in touched.values():
            change = await _apply_thresholds(session, subscriber, now, source)
            if change is not None:
                report.status_changes.append(change)
    return report


async def _record_one(
    session: AsyncSession, notice: BounceNotice, source: BounceSource, now: datetime
) -> tuple[str, str, Subscriber | None]:
    try:
        address = normalise_address(notice.address)
    except SubscriberError:
        return "skipped: not an email address", notice.address, None
    reference = _storable(notice.reference, 300) if notice.reference is not None else None
    if reference is not None and await session.scalar(
        select(BounceEvent.id).where(BounceEvent.address == address,
            BounceEvent.kind == notice.kind, BounceEvent.reference == reference)
    ):  # fmt: skip
        return "duplicate", address, None
    subscriber = await session.scalar(select(Subscriber).where(Subscriber.email == address))
    session.add(
        BounceEvent(
            subscriber_id=subscriber.id if subscriber is not None else None,
            address=address, kind=notice.kind, at=min(notice.at or now, now), source=source,
            reference=reference,
            diagnostic=_storable(notice.diagnostic), detail=_storable_detail(notice.detail),
        )
    )  # fmt: skip
    await session.flush()
    outcome = "recorded" if subscriber is not None else "recorded (no subscriber)"
    return outcome, address, subscriber


def _storable(text: str, limit: int = STORED_TEXT_CHARS) -> str:
    """Text as stored, whichever way it came in: no NUL or lone surrogate, and not too long."""
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    return UNSTORABLE.sub("\ufffd", clipped)


def _storable_detail(detail: dict[str, str]) -> dict[str, str]:
    return {_storable(key, 100): _storable(value) for key, value in detail.items()}


async def _apply_thresholds(
    session: AsyncSession, subscriber: Subscriber, now: datetime, source: BounceSource
) -> StatusChange | None:
    rows = await session.execute(
        select(BounceEvent.kind, func.count())
        .where(BounceEvent.subscriber_id == subscriber.id,
               or_(BounceEvent.kind != BounceKind.SOFT, BounceEvent.at >= now - SOFT_WINDOW))
        .group_by(BounceEvent.kind)
    )  # fmt: skip
    target, reason = verdict({kind: count for kind, count in rows})
    before = subscriber.status
    if target is None or not _may_move(before, target):
        return None
    subscriber.status = target
    audit(session, now, f"bounces:{source.value}", f"subscriber_{target.value}",
          ("subscriber", subscriber.id), before=before.value, reason=reason)  # fmt: skip
    return StatusChange(subscriber.id, subscriber.email, before, target, reason)


def verdict(counts: dict[BounceKind, int]) -> tuple[SubscriberStatus | None, str]:
    """The status the counted events call for: complaints first, then hard, then soft."""
    if complaints := counts.get(BounceKind.COMPLAINT, 0):
        return SubscriberStatus.COMPLAINED, f"{complaints} complaint(s)"
    if hard := counts.get(BounceKind.HARD, 0):
        return SubscriberStatus.BOUNCED, f"{hard} hard bounce(s)"
    if (soft := counts.get(BounceKind.SOFT, 0)) >= SOFT_LIMIT:
        return SubscriberStatus.BOUNCED, f"{soft} soft bounces within {SOFT_WINDOW.days} days"
    return None, ""


def _may_move(before: SubscriberStatus, after: SubscriberStatus) -> bool:
    """Only people still receiving mail move; a complaint also overrides a bounce."""
    if before in (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE):
        return True
    return before == SubscriberStatus.BOUNCED and after == SubscriberStatus.COMPLAINED
