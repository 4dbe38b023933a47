"""Migrations and the data model, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from carnews.clock import Clock
from carnews.errors import StorageError
from carnews.storage import Database, open_database
from carnews.storage.migrate import current_revision, head_revision
from carnews.storage.models import (
    Base,
    Delivery,
    Edition,
    Source,
    Subscriber,
    SubscriberStatus,
)

pytestmark = pytest.mark.both_databases

TABLES = {"sources", "entries", "stories", "editions", "edition_stories", "subscribers",
          "deliveries", "audit_log", "alembic_version"}  # fmt: skip


async def test_migrations_create_every_table_and_reach_head(db: Database) -> None:
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        revision = await connection.run_sync(current_revision)
    assert tables >= TABLES
    assert revision == head_revision()


async def test_migrations_match_the_models(db: Database) -> None:
    """A model change without a migration fails here, not in production."""

    def differences(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_opening_twice_migrates_once_and_keeps_data(database_url: str, clock: Clock) -> None:
    first = await open_database(database_url)
    async with first.session() as session:
        session.add(Source(name="pubmed", url="http://x.test/feed", created_at=clock()))
    await first.close()
    second = await open_database(database_url)
    async with second.session() as session:
        names = (await session.scalars(select(Source.name))).all()
    await second.close()
    assert names == ["pubmed"]


async def test_datetimes_come_back_aware_utc(db: Database, clock: Clock) -> None:
    async with db.session() as session:
        session.add(Source(name="s", url="http://x.test/", created_at=clock()))
    async with db.session() as session:
        source = await session.scalar(select(Source))
    assert source is not None
    assert source.created_at == clock()
    assert source.created_at.utcoffset() == timedelta(0)


async def test_one_delivery_per_edition_and_subscriber(db: Database, clock: Clock) -> None:
    now = clock()
    async with db.session() as session:
        edition = Edition(title="t", period_start=now, period_end=now, created_at=now)
        subscriber = Subscriber(email="a@example.org", status=SubscriberStatus.ACTIVE,
                                created_at=now)  # fmt: skip
        session.add_all([edition, subscriber])
        await session.flush()
        ids = edition.id, subscriber.id
        session.add(Delivery(edition_id=ids[0], subscriber_id=ids[1], queued_at=now))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Delivery(edition_id=ids[0], subscriber_id=ids[1], queued_at=now))


async def test_unreachable_database_is_a_storage_error(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        url = "sqlite+aiosqlite:////proc/no-such-dir/carnews.db"
    else:
        url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    with pytest.raises(StorageError) as caught:
        await open_database(url)
    assert "cannot open the database" in caught.value.message


async def test_unknown_database_kind_is_refused() -> None:
    with pytest.raises(StorageError, match="does not support"):
        await open_database("mysql://root@localhost/carnews")


async def test_the_token_migration_gives_each_existing_subscriber_their_own(
    database_url: str, clock: Clock
) -> None:
    """Subscribers from before 0010 get a random unsubscribe token each."""
    import sqlalchemy as sa
    from alembic import command

    from carnews.storage.database import create_engine
    from carnews.storage.migrate import alembic_config

    engine = create_engine(database_url)
    subscribers = sa.table("subscribers", *(sa.column(name) for name in (
        "email", "name", "status", "diseases", "consent_source", "created_at")))  # fmt: skip
    rows = [{"email": f"r{n}@example.org", "name": "", "status": "active", "diseases": "[]",
             "consent_source": "t", "created_at": clock()} for n in range(3)]  # fmt: skip
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0009"))
        await connection.execute(sa.insert(subscribers), rows)
    await engine.dispose()
    db = await open_database(database_url)
    async with db.session() as session:
        tokens = (await session.scalars(select(Subscriber.unsubscribe_token))).all()
    await db.close()
    assert len(set(tokens)) == 3 and all(len(token) >= 43 for token in tokens)


# A hang bound, not a benchmark: a read takes milliseconds; one that waited for the
# writer below would wait for ever (same Database) or busy_timeout, 10 s (another one).
HANG = 5.0


async def test_a_read_does_not_wait_for_a_writer(database_url: str, clock: Clock) -> None:
    """Pages and reports read while a job holds the write lock (WAL on SQLite)."""
    db, other = await open_database(database_url), await open_database(database_url)
    try:
        async with db.session() as session:
            session.add(Source(name="new", url="http://x.test/", created_at=clock()))
            await session.flush()  # SQLite's write lock is held from BEGIN IMMEDIATE on
            for reader in (db, other):  # this process's Database, and another's
                async with asyncio.timeout(HANG), reader.read() as read:
                    names = (await read.scalars(select(Source.name))).all()
                assert names == [], "a read sees committed data only"
        async with other.read() as read:
            assert (await read.scalars(select(Source.name))).all() == ["new"]
    finally:
        await db.close()
        await other.close()


async def test_a_read_session_refuses_to_write(db: Database, clock: Clock) -> None:
    async with db.session() as session:
        session.add(Source(name="kept", url="http://x.test/", created_at=clock()))
    with pytest.raises(RuntimeError, match="read session"):
        async with db.read() as read:
            loaded = await read.scalar(select(Source))
            assert loaded is not None
            loaded.name = "changed"
            await read.flush()
    with pytest.raises(RuntimeError, match="read session"):
        async with db.read() as read:
            await read.execute(update(Source).values(name="changed"))
    async with db.read() as read:
        source = await read.scalar(select(Source))
    assert source is not None and source.name == "kept", "readable after the read closed"
    async with db.session() as session:  # what a read used is writable again
        (await session.scalars(select(Source))).one().name = "written"
    async with db.read() as read:
        assert (await read.scalars(select(Source.name))).all() == ["written"]
