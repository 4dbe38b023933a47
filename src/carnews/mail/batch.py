"""One claimed batch out to the relay and its answers back into the ledger.

``smtp.concurrency`` connections are kept for the whole run and take a batch's
messages as they come free. A 5xx answer bounces the address; a 4xx or a
dropped connection is retried after a wait that doubles with each try. A batch
stopped by any error is settled at once: answers recorded, messages the relay
held ``unknown``, the rest back in the queue. As each message is taken from the batch
the sender asks whether its reader has just unsubscribed (``left``, the SQLite opt-out
journal): such a message is not sent, even from a batch claimed before the unsubscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import update

from carnews.clock import Clock
from carnews.errors import DeliveryError
from carnews.mail.claims import Claim, give_up, release, settle_left
from carnews.mail.message import Composer
from carnews.mail.ratelimit import RateLimiter
from carnews.mail.recovery import ABANDONED
from carnews.mail.relay import Connection, smtp_client, wire_address
from carnews.settings import Settings, SmtpSettings
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState, Subscriber, SubscriberStatus


@dataclass(frozen=True)
class SendProgress:
    """Where a run stands after a batch; ``settled`` counts rows with no retry to come."""

    settled: int
    total: int
    sent: int
    failed: int


Progress = Callable[[SendProgress], None]
Left = Callable[[int], bool]  # a subscriber id -> unsubscribed since the claim


@dataclass
class Outcome:
    claim: Claim
    state: DeliveryState
    error: str | None = None
    reached_relay: bool = True


class Sender:
    """``smtp.concurrency`` connections kept open for the whole run, shared by batches.

    While a batch goes out it knows which messages the relay has answered and which it
    holds right now, so a run that stops on any error can say what became of each.
    """

    def __init__(
        self, settings: Settings, composer: Composer, limiter: RateLimiter, left: Left | None = None
    ) -> None:
        self._settings, self._composer, self._limiter = settings, composer, limiter
        self._left = left
        self._connections = [Connection(smtp_client(settings.smtp))
                             for _ in range(settings.smtp.concurrency)]  # fmt: skip
        self.answered: list[Outcome] = []
        self.at_relay: dict[int, Claim] = {}
        self.left: list[Claim] = []  # the batch's readers who unsubscribed: not sent

    async def send(self, batch: Sequence[Claim], now: datetime) -> list[Outcome]:
        """Every claim gets an outcome; connections take messages as they come free."""
        queue = (claim for claim in batch if not self._has_left(claim))
        date = format_datetime(now)
        self.answered, self.at_relay, self.left = [], {}, []
        sender = self._settings.mail.from_address
        # Each message announces the next one's envelope (one round trip a message), but
        # not under a rate limit: the relay would hold an open DATA while the limit waits.
        ahead = not self._limiter.limited

        async def work(connection: Connection) -> None:
            claim = next(queue, None)
            try:
                while claim is not None:
                    following = next(queue, None)
                    address = wire_address(claim.email)
                    data = self._composer.compose(
                        unsubscribe_token=claim.unsubscribe_token, to=address,
                        diseases=claim.diseases, message_id=claim.message_id, date=date,
                    )  # fmt: skip
                    then = wire_address(following.email) if ahead and following else None
                    await self._limiter.acquire()
                    self.at_relay[claim.delivery_id] = claim
                    answer = await connection.send(sender, address, data, then=then)
                    del self.at_relay[claim.delivery_id]
                    self.answered.append(Outcome(claim, *answer))
                    claim = following
            finally:
                connection.pause()

        # One connection failing stops the others before the batch is settled, so no
        # message is still on its way while the ledger is written.
        workers = [asyncio.create_task(work(connection))
                   for connection in self._connections[: len(batch)]]  # fmt: skip
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.answered

    def _has_left(self, claim: Claim) -> bool:
        """Asked as each claim is taken, so an unsubscribe after the claim still counts."""
        if self._left is not None and self._left(claim.subscriber_id):
            self.left.append(claim)
            return True
        return False

    def close(self) -> None:
        for connection in self._connections:
            connection.close()


async def _record(
    db: Database, outcomes: Sequence[Outcome], now: datetime, smtp: SmtpSettings
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


def _retry_at(outcome: Outcome, now: datetime, smtp: SmtpSettings) -> datetime | None:
    """When a temporary failure is due again: the wait doubles after each attempt.

    None means never: a permanent failure, or a temporary one out of attempts.
    """
    attempts = outcome.claim.attempts
    if outcome.state != DeliveryState.FAILED_TEMPORARY or attempts >= smtp.max_attempts:
        return None
    return now + timedelta(seconds=smtp.retry_base_seconds * 2 ** (attempts - 1))


@dataclass
class BatchRun:
    """One run's batches: send, record, report progress, count failures in a row."""

    db: Database
    settings: Settings
    clock: Clock
    edition_id: int
    sender: Sender
    on_progress: Progress | None
    to_settle: int
    settled: int = 0
    sent: int = 0
    streak: int = 0

    async def batch(self, batch: Sequence[Claim]) -> bool:
        """Send one claimed batch and record it; True when the run should pause."""
        try:
            outcomes = await self.sender.send(batch, self.clock())
            reached = any(outcome.reached_relay for outcome in outcomes)
            if reached:
                self.settled += await _record(self.db, outcomes, self.clock(), self.settings.smtp)
            left = list(self.sender.left)
            await settle_left(self.db, left)
            self.settled += len(left)
        except BaseException:  # any error at all, a cancelled run included
            await self._settle_interrupted(batch)
            raise
        if outcomes and not reached:  # nothing was handed over: the batch goes back as it was
            await release(self.db, [claim for claim in batch if claim not in left])
            smtp = self.settings.smtp
            raise DeliveryError(
                f"cannot reach the SMTP relay at {smtp.host}:{smtp.port}: {outcomes[0].error}",
                context={"edition": self.edition_id},
            )
        self.sent += sum(1 for o in outcomes if o.state == DeliveryState.SENT)
        if self.on_progress is not None:
            self.on_progress(SendProgress(self.settled, self.to_settle, self.sent,
                                          self.settled - self.sent))  # fmt: skip
        for outcome in outcomes:
            self.streak = 0 if outcome.state == DeliveryState.SENT else self.streak + 1
        return self.streak >= self.settings.smtp.pause_after_errors

    async def _settle_interrupted(self, batch: Sequence[Claim]) -> None:
        """After an unexpected error: answers are recorded, messages the relay held are
        ``unknown``, and the rest go back to the queue, so no claim waits for a lease.

        Should the database itself be what failed, the rows stay claimed; they become
        ``unknown`` once this process has gone or its heartbeat is older than the lease.
        """
        answered = list(self.sender.answered)
        at_relay = dict(self.sender.at_relay)
        done = {outcome.claim.delivery_id for outcome in answered} | set(at_relay)
        with contextlib.suppress(Exception):  # the error that stopped the run is the news
            if answered:
                await _record(self.db, answered, self.clock(), self.settings.smtp)
            await give_up(self.db, at_relay.values(), ABANDONED)
            await release(self.db, [claim for claim in batch if claim.delivery_id not in done])
