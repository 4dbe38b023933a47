"""Benchmark: what one /metrics scrape (or /healthz, or 'carnews status') costs on a big ledger.

Run: .venv/bin/python bench/scrape.py [--rows 1000000] [--database-url URL]

Fills a fresh database (a temporary SQLite file unless ``--database-url`` names an empty
PostgreSQL database) with one sent edition and ``--rows`` ledger rows, nine in ten sent and
the rest queued, then times ``take_snapshot`` plus the Prometheus text, the work of a scrape.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from carnews.monitor.metrics import exposition
from carnews.monitor.snapshot import take_snapshot
from carnews.settings import OpsSettings
from carnews.storage import Database, open_database
from carnews.storage.models import Delivery, Edition, EditionState, Subscriber

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CHUNK = 20_000


async def fill(db: Database, rows: int) -> None:
    async with db.session() as session:
        session.add(Edition(title="bench", state=EditionState.SENT, period_start=NOW,
                            period_end=NOW, created_at=NOW, sent_at=NOW))  # fmt: skip
    for start in range(0, rows, CHUNK):
        numbers = range(start, min(start + CHUNK, rows))
        async with db.session() as session:
            await session.execute(insert(Subscriber), [
                {"id": n + 1, "email": f"reader{n}@example.org", "created_at": NOW,
                 "unsubscribe_token": f"token-{n}"} for n in numbers
            ])  # fmt: skip
            await session.execute(insert(Delivery), [
                {"edition_id": 1, "subscriber_id": n + 1, "queued_at": NOW,
                 "state": "queued" if n % 10 == 0 else "sent",
                 "sent_at": None if n % 10 == 0 else NOW} for n in numbers
            ])  # fmt: skip


async def main(rows: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await open_database(url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            await fill(db, rows)
            await take_snapshot(db, NOW)  # warm the cache, as a server scraped every 15 s is
            runs, started = 5, time.perf_counter()
            for _ in range(runs):
                body = exposition(await take_snapshot(db, NOW), OpsSettings())
            took = (time.perf_counter() - started) / runs
        finally:
            await db.close()
    print(f"{db.dialect}, {rows:,} ledger rows: one scrape {took * 1000:.0f} ms, "
          f"{len(body):,} bytes")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rows, arguments.database_url))
