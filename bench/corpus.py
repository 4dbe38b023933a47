"""Benchmark: time per file of the robustness corpus through the real ingest path.

Run: make bench   (or .venv/bin/python bench/corpus.py)

Ingests every file of tests/corpora/feeds exactly as tests/test_corpus.py does — served
over loopback HTTP from this process (carnews.demo.servers.feed_server), one file at a
time, 5 s fetch timeout, SQLite — and prints each file's time (its fetch, parse, clean
and share of storing, as ingest reports it): max, p99, median, and how many files took
longer than 2 s (target: none). The test itself only bounds a hang (10 s per file), so
that a busy machine cannot fail it; this is where the 2 s figure is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from carnews.clock import fixed_clock
from carnews.demo.servers import feed_server
from carnews.gather.ingest import SourceReport, ingest
from carnews.settings import DatabaseSettings, FetchSettings, Settings, SourceSettings, replace
from carnews.storage import open_database

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpora" / "feeds"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
TARGET_SECONDS = 2.0


def corpus_files() -> list[Path]:
    """The same files as tests/test_corpus.py: all but the README and licences."""
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in
                  ("README.md", "LICENSE") and not p.name.startswith("."))  # fmt: skip


async def run(settings: Settings) -> list[SourceReport]:
    db = await open_database(settings.database.url)
    try:
        return await ingest(db, settings, fixed_clock(NOW))
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slowest", type=int, default=5, help="list this many slowest files")
    args = parser.parse_args()
    files = corpus_files()
    assert len(files) > 2000, f"the corpus at {CORPUS} is missing or incomplete"
    with tempfile.TemporaryDirectory() as folder, feed_server(CORPUS) as base_url:
        sources = tuple(
            SourceSettings(name=str(path.relative_to(CORPUS)),
                           url=f"{base_url}/{path.relative_to(CORPUS).as_posix()}")
            for path in files
        )  # fmt: skip
        settings = replace(
            Settings(),
            database=DatabaseSettings(url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"),
            # One at a time, so each file's time is its own, not its neighbours'.
            fetch=FetchSettings(concurrency=1, per_host=1, timeout_seconds=5.0),
            sources=sources,
        )
        started = time.perf_counter()
        reports = asyncio.run(run(settings))
        elapsed = time.perf_counter() - started
    assert len(reports) == len(files), "every file was polled"
    seconds = sorted(r.seconds for r in reports)
    slowest = sorted(reports, key=lambda r: r.seconds, reverse=True)
    over = [r for r in reports if r.seconds > TARGET_SECONDS]
    p99 = statistics.quantiles(seconds, n=100, method="inclusive")[98]
    median = statistics.median(seconds)
    errors = sum(r.outcome == "error" for r in reports)
    megabytes = sum(p.stat().st_size for p in files) / 1e6
    print(f"corpus: {len(files)} files, {megabytes:.1f} MB; {len(files) - errors} read, "
          f"{errors} recorded as the source's error; whole run {elapsed:.1f} s")  # fmt: skip
    print(f"per file: max {seconds[-1] * 1000:.0f} ms ({slowest[0].name}), "
          f"p99 {p99 * 1000:.1f} ms, median {median * 1000:.1f} ms")  # fmt: skip
    print(f"files over {TARGET_SECONDS:g} s: {len(over)} (target 0)")
    for report in slowest[: args.slowest]:
        print(f"  {report.seconds * 1000:8.1f} ms  {report.outcome:5}  {report.name}")


if __name__ == "__main__":
    main()
