"""The monthly digest: a month's sent stories again, for readers who chose one mail a month.

A digest is an edition of kind ``digest`` (``Edition.digest_month`` = 'YYYY-MM', unique),
so it has the one review gate and the one delivery ledger every edition has: an editor
approves it (any later edit withdraws the approval), ``jobs.send_due`` sends it, and the
ledger's (edition, subscriber) rows make each reader's copy go out exactly once, across
crashes. Its items are copies of the sent editions' items, with the wording the editor
approved there. Who gets which edition is ``audience``: an edition goes to readers of
every edition, a digest to readers of the monthly digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.errors import EditionStateError
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import (
    Edition,
    EditionKind,
    EditionState,
    EditionStory,
    Subscriber,
    SubscriberStatus,
)

MONTHLY = "monthly"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def audience(kind: EditionKind) -> ColumnElement[bool]:
    """The subscribers an edition of ``kind`` is for: the one rule every send path uses."""
    if kind == EditionKind.DIGEST:
        return Subscriber.frequency == MONTHLY
    return Subscriber.frequency != MONTHLY


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.fullmatch(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
            raise EditionStateError(
                f"{text!r} is not a month", hint="Write a month as YYYY-MM, e.g. 2026-11."
            )
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The month before the one ``moment`` (UTC) falls in: the last one that is over."""
        at = moment.astimezone(UTC)
        return cls(at.year - 1, 12) if at.month == 1 else cls(at.year, at.month - 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        following = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(*following, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def spelled(self) -> str:
        return f"{self.start:%B %Y}"


@dataclass(frozen=True)
class DigestResult:
    month: str
    edition_id: int | None
    story_count: int
    reason: str
    created: bool = False


async def draft_digest(
    db: Database, clock: Clock, month: Month, *, title: str, actor: str
) -> DigestResult:
    """The digest of ``month``, in review for an editor: made once, found after that.

    Only a month that is over gets a digest, so no edition sent later in it is missed.
    """
    now = clock()
    if month.end > now:
        raise EditionStateError(
            f"{month.spelled()} is not over yet",
            hint=f"Its digest can be drafted from {month.end:%-d %B %Y}.",
            context={"month": str(month)},
        )
    found = await _existing(db, month)
    if found is not None:
        return DigestResult(str(month), found[0], found[1], "already drafted")
    try:
        async with db.session() as session:
            items = await _sent_items(session, month)
            if not items:
                return DigestResult(
                    str(month), None, 0, f"no edition was sent in {month.spelled()}"
                )
            digest = Edition(
                kind=EditionKind.DIGEST, digest_month=str(month),
                title=f"{title} — {month.spelled()} digest",
                intro=f"The stories we sent in {month.spelled()}, in one mail.",
                period_start=month.start, period_end=month.end, created_at=now,
                state=EditionState.IN_REVIEW,
                items=[EditionStory(story_id=item.story_id, position=position,
                                    headline=item.headline, summary=item.summary,
                                    what_it_means=item.what_it_means, card=item.card)
                       for position, item in enumerate(items, start=1)],
            )  # fmt: skip
            session.add(digest)
            await session.flush()
            audit(session, now, actor, "digest_draft", ("edition", digest.id),
                  month=str(month), stories=len(items))  # fmt: skip
            return DigestResult(str(month), digest.id, len(items), "drafted", created=True)
    except IntegrityError:  # another process drafted the same month a moment ago
        found = await _existing(db, month)
        assert found is not None
        return DigestResult(str(month), found[0], found[1], "already drafted")


async def _existing(db: Database, month: Month) -> tuple[int, int] | None:
    async with db.read() as session:
        digest = await session.scalar(select(Edition.id).where(Edition.digest_month == str(month)))
        if digest is None:
            return None
        count = await session.scalar(select(func.count()).where(EditionStory.edition_id == digest))
        return digest, int(count or 0)


async def _sent_items(session: AsyncSession, month: Month) -> list[EditionStory]:
    """Each story sent in ``month`` once, in the order readers got them."""
    rows = await session.scalars(
        select(EditionStory)
        .join(Edition, Edition.id == EditionStory.edition_id)
        .where(Edition.kind == EditionKind.EDITION, Edition.state == EditionState.SENT,
               Edition.sent_at >= month.start, Edition.sent_at < month.end)
        .order_by(Edition.sent_at, Edition.id, EditionStory.position)
    )  # fmt: skip
    seen: dict[int, EditionStory] = {}
    for item in rows.all():
        seen.setdefault(item.story_id, item)
    return list(seen.values())


async def wants_digest(db: Database) -> bool:
    """Whether any active reader chose the monthly digest (the scheduler drafts only then)."""
    async with db.read() as session:
        found = await session.scalar(
            select(Subscriber.id)
            .where(Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.frequency == MONTHLY)
            .limit(1)
        )
    return found is not None
