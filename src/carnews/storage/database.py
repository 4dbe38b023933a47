"""One async database handle for SQLite (default) and PostgreSQL.

``open_database`` connects, applies every pending Alembic migration and hands
back a ``Database``: ``session()`` for work that writes, ``read()`` for work that
only reads. On SQLite (one writer at a time) the difference matters: a write session
waits for the write lock, a read session never does, so pages and reports stay quick
while a long job writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from carnews.errors import StorageError
from carnews.settings import redact
from carnews.storage.migrate import upgrade_to_head
from carnews.storage.optouts import OptoutJournal, journal_path
from carnews.storage.private import FILE_MODE, private_file, private_folder, tighten


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # carnews issues BEGIN itself (below), so the driver must not start transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a send writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives any crash of carnews itself (a killed send included);
    # only a power cut may undo the very last commits. FULL costs an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


# An execution option on the read sessions' engine: their connections begin deferred.
_READ_ONLY = "carnews_read_only"
# One on ``session_unless_busy``'s engine: its BEGIN IMMEDIATE fails at once when taken.
_NO_WAIT = "carnews_no_wait"
BUSY_TIMEOUT_MS = 10000


class WriteLockBusy(Exception):
    """SQLite's write lock is held right now (``Database.session_unless_busy``)."""


def _begin(connection: Connection) -> None:
    """SQLite has one writer: a write session takes the write lock at BEGIN, where
    busy_timeout waits for it; a read session takes none.

    A deferred transaction that reads and then writes fails at once with "database is
    locked" when another writer committed in between; IMMEDIATE waits its turn instead.
    A read session never writes, so a deferred BEGIN suits it: in WAL mode it reads a
    snapshot beside the writer and waits for nobody.
    """
    options = connection.get_execution_options()
    if options.get(_READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    elif options.get(_NO_WAIT):
        connection.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        finally:  # the pooled connection waits as usual for its next user
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str) -> AsyncEngine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"database.url = {redact(url)!r} is not a database URL",
            hint="Use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB.",
            context={"url": redact(url)},
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite(Path(parsed.database), url)
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return create_async_engine(parsed, pool_pre_ping=True)
    raise StorageError(
        f"database.url uses {backend!r}, which carnews does not support",
        hint="Use SQLite (the default) or PostgreSQL.",
        context={"url": redact(url)},
    )


def _private_sqlite(path: Path, url: str) -> None:
    """The database holds addresses and diseases: folder 0700, file 0600 before SQLite
    opens it (its -wal and -shm files take the file's mode), older ones tightened."""
    try:
        private_folder(path.parent)
        private_file(path)
    except OSError as exc:
        raise StorageError(
            f"cannot open the database at {path}: {exc.strerror}",
            hint="Point database.url at a folder carnews may write to.",
            context={"url": redact(url)},
        ) from None
    for companion in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + companion), FILE_MODE)


_in_session: ContextVar[bool] = ContextVar("carnews_in_session", default=False)


class ReadOnlySession(Session):
    """The session behind ``Database.read()``: any attempt to write raises.

    Its transaction is never committed either, so a write the checks below cannot see
    (raw SQL) is rolled back when the session closes.
    """


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    raise RuntimeError("a read session (Database.read) tried to write: use Database.session")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("a read session (Database.read) tried to write: use Database.session")


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # PostgreSQL is told too, so a write slipped past the checks fails there as well.
        read_only = "postgresql_readonly" if engine.dialect.name == "postgresql" else _READ_ONLY
        self._readers = async_sessionmaker(
            engine.execution_options(**{read_only: True}), sync_session_class=ReadOnlySession
        )
        # SQLite has one writer. Taking turns here, in asyncio, is fair and has no time
        # limit; taking turns inside SQLite ends in "database is locked" under load.
        self._turn = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._optouts: OptoutJournal | None = None
        self._no_wait = async_sessionmaker(
            engine.execution_options(**{_NO_WAIT: True}), expire_on_commit=False
        )

    @property
    def optouts(self) -> OptoutJournal | None:
        """The opt-out journal beside a SQLite file (``storage.optouts``); None on
        PostgreSQL and in-memory SQLite, where an unsubscribe is written directly."""
        name = self.engine.url.database
        if self._turn is None or not name or name == ":memory:":
            return None
        if self._optouts is None:
            self._optouts = OptoutJournal(journal_path(Path(name)))
        return self._optouts

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on any error."""
        if self._turn is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        if _in_session.get():
            raise RuntimeError("a SQLite session was opened inside another: it would deadlock")
        async with self._turn, self._sessions() as session, session.begin():
            token = _in_session.set(True)
            try:
                yield session
            finally:
                _in_session.reset(token)

    @asynccontextmanager
    async def session_unless_busy(self) -> AsyncIterator[AsyncSession]:
        """Like ``session``, but raises ``WriteLockBusy`` at once where ``session`` would
        wait for SQLite's write lock (another process's or this one's). PostgreSQL has
        no such lock: there it is ``session``."""
        if self._turn is None:
            async with self.session() as session:
                yield session
            return
        if self._turn.locked() or _in_session.get():
            raise WriteLockBusy
        async with self._turn, self._no_wait() as session, session.begin():
            try:
                await session.connection()  # BEGIN IMMEDIATE, here and now
            except OperationalError as exc:
                raise WriteLockBusy from exc
            token = _in_session.set(True)
            try:
                yield session
            finally:
                _in_session.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads: it takes no write lock and never waits for a writer.

        It sees one snapshot of the data, taken at its first query. Anything it tries
        to write raises ``RuntimeError``. Objects it loaded stay readable after it closes.
        """
        async with self._readers() as session:
            yield session
        # Closing (not committing) ends the transaction with a rollback and leaves the
        # loaded objects as they were, detached but not expired.

    async def close(self) -> None:
        if self._optouts is not None:
            self._optouts.close()
            self._optouts = None
        await self.engine.dispose()


async def open_database(url: str) -> Database:
    """Connect and bring the schema up to date (migrations run on every start)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    except (OperationalError, DBAPIError, OSError) as exc:
        await engine.dispose()
        raise StorageError(
            f"cannot open the database at {make_url(url).render_as_string(hide_password=True)}: "
            f"{redact(_first_line(exc))}",
            context={"url": redact(url)},
        ) from exc
    return Database(engine)


def _upgrade(connection: Connection) -> None:
    upgrade_to_head(connection)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
