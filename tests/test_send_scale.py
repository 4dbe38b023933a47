"""A send's cost per message stays flat as the list grows: each claim reads about one
batch of the ledger, whatever its length, and readers who left are settled as reached."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, update

from carnews.clock import Clock
from carnews.mail.claims import BATCH_SIZE, NOT_ACTIVE, claim_batch, this_process
from carnews.mail.deliver import start_sending
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState, Subscriber, SubscriberStatus
from tests.test_deliver import approved_edition

READERS = 3 * BATCH_SIZE


async def many_readers(db: Database, clock: Clock, count: int) -> None:
    async with db.session() as session:
        await session.execute(insert(Subscriber), [
            {"email": f"reader{n}@example.org", "status": SubscriberStatus.ACTIVE,
             "created_at": clock(), "diseases": []}
            for n in range(count)
        ])  # fmt: skip


def plans(path: Path, statements: list[tuple[str, Any]]) -> list[str]:
    """SQLite's plan for each statement, one line per step."""
    lines = []
    with sqlite3.connect(path) as connection:
        for sql, parameters in statements:
            first = parameters[0] if isinstance(parameters, list) else parameters
            found = connection.execute(f"EXPLAIN QUERY PLAN {sql}", first).fetchall()
            lines += [f"{sql.split()[0]}: {row[-1]}" for row in found]
    return lines


async def test_a_claim_reads_one_batch_of_the_ledger_not_all_of_it(
    db: Database, clock: Clock, database_url: str
) -> None:
    """On SQLite, whose plans are stable enough to hold a test to."""
    edition_id = await approved_edition(db, clock)
    await many_readers(db, clock, READERS)
    await start_sending(db, clock, edition_id, "t")
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        statements.append((sql, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        claimed = await claim_batch(db, edition_id, clock(), "carnews.test", this_process())
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert len(claimed) == BATCH_SIZE
    steps = plans(Path(database_url.split("///", 1)[1]), statements)
    # A SCAN reads a whole table (or index) and a temporary B-tree sorts all it found.
    assert not [step for step in steps if " SCAN " in f" {step.split(': ', 1)[1]}"], steps
    assert not [step for step in steps if "TEMP B-TREE" in step], steps


@pytest.mark.both_databases
async def test_readers_who_left_are_settled_as_the_claims_reach_them(
    db: Database, clock: Clock
) -> None:
    """Every reader in the first batch left: the claim goes on to the next readers, and
    those who left are never claimed, each row saying why."""
    edition_id = await approved_edition(db, clock)
    await many_readers(db, clock, READERS)
    await start_sending(db, clock, edition_id, "t")
    async with db.session() as session:
        await session.execute(
            update(Subscriber)
            .where(Subscriber.id <= BATCH_SIZE + 5)
            .values(status=SubscriberStatus.UNSUBSCRIBED)
        )
    claimed = await claim_batch(db, edition_id, clock(), "carnews.test", this_process())
    assert 0 < len(claimed) <= BATCH_SIZE
    assert min(claim.subscriber_id for claim in claimed) == BATCH_SIZE + 6
    async with db.read() as session:
        left = (
            await session.execute(
                select(Delivery.state, Delivery.last_error).where(
                    Delivery.subscriber_id <= BATCH_SIZE + 5
                )
            )
        ).all()
    assert len(left) == BATCH_SIZE + 5
    assert set(left) == {(DeliveryState.FAILED_PERMANENT, NOT_ACTIVE)}
