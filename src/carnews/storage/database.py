"""One async database handle for SQLite (default) and PostgreSQL.

``open_database`` connects, applies every pending Alembic migration and hands
back a ``Database`` whose ``session()`` is the only way the stages touch data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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

from carnews.errors import StorageError
from carnews.storage.migrate import upgrade_to_head


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a send writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"database.url = {url!r} is not a database URL",
            hint="Use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB.",
            context={"url": url},
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot open the database at {parsed.database}: cannot create {folder} "
                    f"({exc.strerror})",
                    hint="Point database.url at a folder carnews may write to.",
                    context={"url": url},
                ) from None
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            parsed = parsed.set(drivername="postgresql+asyncpg")
        return create_async_engine(parsed, pool_pre_ping=True)
    raise StorageError(
        f"database.url uses {backend!r}, which carnews does not support",
        hint="Use SQLite (the default) or PostgreSQL.",
        context={"url": url},
    )


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed on success, rolled back on any error."""
        async with self._sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
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
            f"{_first_line(exc)}",
            context={"url": url},
        ) from exc
    return Database(engine)


def _upgrade(connection: Connection) -> None:
    upgrade_to_head(connection)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
