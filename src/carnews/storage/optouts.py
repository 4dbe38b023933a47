"""The opt-out journal: one-click unsubscribes recorded beside a SQLite database.

SQLite has one writer, and a running send takes that write lock batch after batch, so
an unsubscribe written straight into the database can wait seconds for its turn. RFC
8058 asks for the opposite: the POST answers at once and takes effect. So on SQLite the
web app writes the opt-out durably into a small SQLite file of its own next to the
database (``NAME.optouts.db``, 0600) and answers; whoever holds the main write lock
next applies it:

* the web app right after answering, off the request path, retrying until it succeeds;
* a running send at each claim (``mail.claims``), inside its own write transaction;
* and every sender checks the journal before each message it hands to the relay
  (``left``), so nobody is mailed after their POST returned, even from a batch
  claimed before it.

An entry is forgotten only after the main database committed it; applying one twice
changes nothing (the reader is already unsubscribed), so a crash between the two steps
loses nothing. PostgreSQL has row locks and no such queue: there the web app writes
the unsubscribe directly, and ``journal_for`` answers None.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.storage.audit import audit
from carnews.storage.models import Subscriber, SubscriberStatus
from carnews.storage.private import FILE_MODE, private_file, tighten

SCHEMA = """CREATE TABLE IF NOT EXISTS optouts (
    subscriber_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    via TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Optout:
    """One recorded unsubscribe not yet applied to the main database."""

    subscriber_id: int
    at: datetime
    via: str


def journal_path(database: Path) -> Path:
    """``news.db`` keeps its journal in ``news.optouts.db`` beside it."""
    return database.with_name(f"{database.stem}.optouts{database.suffix or '.db'}")


class OptoutJournal:
    """The journal file, opened once per process; safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_file(path)
        for companion in ("-wal", "-shm"):
            tighten(path.with_name(path.name + companion), FILE_MODE)
        self._lock = threading.Lock()
        # isolation_level=None: each statement commits by itself, no hidden transaction.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            # FULL: an answered unsubscribe survives a power cut too, not only a crash;
            # one fsync per unsubscribe costs little at the rate people unsubscribe.
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.execute("PRAGMA busy_timeout=10000")
            self._connection.execute(SCHEMA)
        self._seen_version = -1
        self._pending_ids: frozenset[int] = frozenset()

    def record(self, subscriber_id: int, at: datetime, via: str) -> None:
        """Durably note an unsubscribe; a second one for the same reader keeps the first."""
        with self._lock:
            self._connection.execute(
                "INSERT OR IGNORE INTO optouts (subscriber_id, at, via) VALUES (?, ?, ?)",
                (subscriber_id, at.astimezone(UTC).isoformat(), via),
            )
            self._seen_version = -1  # data_version only counts other connections' commits

    def pending(self) -> list[Optout]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT subscriber_id, at, via FROM optouts ORDER BY at"
            ).fetchall()
        return [Optout(row[0], datetime.fromisoformat(row[1]), row[2]) for row in rows]

    def forget(self, optouts: Sequence[Optout]) -> None:
        """Drop entries the main database has committed (an entry recorded again
        meanwhile has the same reader and is equally applied)."""
        if not optouts:
            return
        with self._lock:
            self._connection.executemany(
                "DELETE FROM optouts WHERE subscriber_id = ?",
                [(optout.subscriber_id,) for optout in optouts],
            )
            self._seen_version = -1

    def left(self, subscriber_id: int) -> bool:
        """Whether this reader unsubscribed and the main database may not know yet.

        Asked before every message a send hands over, so it must be cheap: the set is
        reread only when ``PRAGMA data_version`` says another connection committed.
        """
        with self._lock:
            version = self._connection.execute("PRAGMA data_version").fetchone()[0]
            if version != self._seen_version:
                rows = self._connection.execute("SELECT subscriber_id FROM optouts")
                self._pending_ids = frozenset(row[0] for row in rows)
                self._seen_version = version
            return subscriber_id in self._pending_ids

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def read_journal(path: Path) -> list[Optout]:
    """The entries of a journal file, read only (a missing file has none and stays missing)."""
    if not path.exists():
        return []
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT subscriber_id, at, via FROM optouts ORDER BY at")
        return [Optout(row[0], datetime.fromisoformat(row[1]), row[2]) for row in rows]
    except sqlite3.OperationalError:  # created but its table not yet: nothing recorded
        return []
    finally:
        connection.close()


async def apply_optouts(session: AsyncSession, optouts: Sequence[Optout]) -> int:
    """Unsubscribe the journal's readers in the caller's write transaction, once each;
    how many it unsubscribed."""
    if not optouts:
        return 0
    ids = [optout.subscriber_id for optout in optouts]
    still = set(
        await session.scalars(
            select(Subscriber.id).where(
                Subscriber.id.in_(ids), Subscriber.status != SubscriberStatus.UNSUBSCRIBED
            )
        )
    )
    applied = 0
    for optout in optouts:
        if optout.subscriber_id not in still:
            continue  # already unsubscribed (applied before a crash) or erased: nothing to do
        await session.execute(
            update(Subscriber)
            .where(Subscriber.id == optout.subscriber_id)
            .values(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=optout.at)
            .execution_options(synchronize_session=False)
        )
        audit(session, optout.at, optout.via, "unsubscribe", ("subscriber", optout.subscriber_id))
        applied += 1
    return applied
