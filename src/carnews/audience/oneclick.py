"""One-click unsubscribe (RFC 8058) that answers at once and takes effect at once.

``unsubscribe_now`` is what the web's POST calls. On PostgreSQL it writes the reader's
status directly (row locks: a running send does not stand in its way). On SQLite it
does so too when the database's one write lock is free this instant; when it is taken
(a running send holds it batch after batch) it records the opt-out in the durable
journal (``storage.optouts``) instead of waiting, and wakes the ``OptoutApplier``,
which lands it in the database off the request path. Meanwhile every
send already honours it: the claim step applies the journal and the sender checks it
before each message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from sqlalchemy.exc import SQLAlchemyError

from carnews.audience.subscriptions import unsubscribe
from carnews.clock import Clock
from carnews.storage import Database
from carnews.storage.database import WriteLockBusy
from carnews.storage.optouts import Optout, OptoutJournal, apply_optouts

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MOST_SECONDS = 30.0


async def unsubscribe_now(
    db: Database, clock: Clock, subscriber_id: int, *, via: str, applier: OptoutApplier | None
) -> None:
    """Stop all mail to a subscriber; when this returns, it is durable and every send
    honours it. Doing it twice is harmless."""
    journal = db.optouts
    if journal is None:
        await unsubscribe(db, clock, subscriber_id, via=via)
        return
    try:
        async with db.session_unless_busy() as session:
            await apply_optouts(session, [Optout(subscriber_id, clock(), via)])
        return
    except WriteLockBusy:
        pass
    # A thread: the journal's commit waits for an fsync, which must not stall other requests.
    await asyncio.to_thread(journal.record, subscriber_id, clock(), via)
    if applier is not None:
        applier.wake()


async def apply_journal(db: Database, journal: OptoutJournal) -> int:
    """Land every journalled opt-out in the database; how many there were."""
    recorded = journal.pending()
    if not recorded:
        return 0
    async with db.session() as session:
        await apply_optouts(session, recorded)
    journal.forget(recorded)  # only once the database committed them
    return len(recorded)


class OptoutApplier:
    """A background task that lands journalled opt-outs, retrying while the database is busy.

    It runs once at start (opt-outs a killed process answered but never applied), then
    whenever ``wake`` is called. A failure (the write lock still taken after SQLite's
    busy timeout) is retried after a wait that doubles up to ``RETRY_MOST_SECONDS``; the
    entries stay in the journal, where sends honour them, until it succeeds.
    """

    def __init__(self, db: Database, journal: OptoutJournal) -> None:
        self._db, self._journal = db, journal
        self._wanted = asyncio.Event()
        self._wanted.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        self._wanted.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        wait = RETRY_FIRST_SECONDS
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await apply_journal(self._db, self._journal)
                wait = RETRY_FIRST_SECONDS
            except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
                log.warning("opt-outs kept in the journal, retrying in %.1f s: %s", wait, exc)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MOST_SECONDS)
                self._wanted.set()
