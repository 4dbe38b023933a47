"""Backups of a live database: SQLite's online backup API, or ``pg_dump`` for PostgreSQL.

SQLite: the backup API copies the database page by page while carnews keeps writing
(a writer that changes a page already copied makes the copy start again from there), so
the copy is one consistent moment; it goes to a temporary file next to the target and
is renamed into place only when whole. PostgreSQL: ``pg_dump --format=custom``, itself a
consistent snapshot, restored with ``pg_restore``. A backup holds every address: it is
written readable by its owner only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from carnews.errors import StorageError
from carnews.storage.optouts import Optout, apply_optouts, journal_path, read_journal
from carnews.storage.private import FILE_MODE

PAGES_PER_STEP = 1024  # pages copied between chances for writers to go on


async def backup(url: str, target: Path) -> str:
    """Back up the database ``url`` names to ``target``; what was done, in one line."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StorageError("an in-memory database cannot be backed up",
                               hint="Point database.url at a SQLite file.")  # fmt: skip
        folded = await backup_sqlite(Path(parsed.database), target)
        also = f", with {folded} pending one-click unsubscribe(s) applied" if folded else ""
        return f"SQLite online backup of {parsed.database}{also}"
    await asyncio.to_thread(dump_postgres, url, target)
    return "pg_dump --format=custom (restore with pg_restore)"


async def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with the opt-out journal beside it applied to the copy.

    The opt-out journal (``storage.optouts``) holds unsubscribes answered while a send
    held the write lock; a backup without them would, once restored, mail readers who had
    left. They are applied to the copy before it takes the target's name, so a backup is
    whole on its own. Answers how many were applied.
    """
    partial = target.with_name(f".{target.name}.partial")
    try:
        await asyncio.to_thread(_copy_sqlite, source, partial)
        # Read after the copy: an entry the live database applied meanwhile is in both,
        # and applying it again changes nothing.
        folded = await _fold_optouts(read_journal(journal_path(source)), partial)
        os.replace(partial, target)
        return folded
    except (sqlite3.Error, SQLAlchemyError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(
            f"the backup of {source} to {target} failed: {exc}",
            hint="Check the target folder's free space and rights.",
        ) from None


def _copy_sqlite(source: Path, partial: Path) -> None:
    if not source.exists():
        raise StorageError(f"there is no database at {source}",
                           hint="Run carnews backup where the database is.")  # fmt: skip
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(descriptor)
    with sqlite3.connect(source) as live, sqlite3.connect(partial) as copy:
        live.execute("PRAGMA busy_timeout=10000")
        live.backup(copy, pages=PAGES_PER_STEP)
        # One file, not a file plus a write-ahead log: the copy is whole on its own.
        copy.execute("PRAGMA journal_mode=DELETE")


async def _fold_optouts(optouts: Sequence[Optout], copy: Path) -> int:
    """Unsubscribe the journal's readers in the copy, by the web app's own step."""
    if not optouts:
        return 0
    engine = create_async_engine(f"sqlite+aiosqlite:///{copy}")
    try:
        async with AsyncSession(engine) as session, session.begin():
            return await apply_optouts(session, optouts)
    finally:
        await engine.dispose()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump reads it: no ``+asyncpg`` driver part."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dump_postgres(url: str, target: Path, *, pg_dump: str | None = None) -> None:
    binary = pg_dump or shutil.which("pg_dump")
    if binary is None:
        raise StorageError(
            "pg_dump is not installed, so PostgreSQL cannot be backed up from here",
            hint="Install the PostgreSQL client (apt-get install postgresql-client) of the "
            "server's major version, or run pg_dump on the database host.",
        )
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    done = subprocess.run([binary, "--format=custom", "--no-owner", f"--file={partial}",
                           f"--dbname={libpq_url(url)}"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StorageError(f"pg_dump failed: {done.stderr.strip()[-500:]}",
                           hint="Check database.url and that pg_dump's version is at least "
                           "the server's.")  # fmt: skip
    os.replace(partial, target)
