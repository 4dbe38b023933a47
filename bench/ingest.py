"""Benchmark: ingest (fetch + parse + clean + store) against plain feedparser parsing.

Run: make bench   (or .venv/bin/python bench/ingest.py --feeds 200 --entries 50)

Generates N feeds × M entries (realistic abstracts with links, markup and a tracking
pixel), serves them from a loopback HTTP server, and in one run prints:
- carnews first poll: entries/s for fetch + parse + clean + identify + store (SQLite);
- plain feedparser.parse on the same bytes, in the same process: entries/s;
- their time ratio (target: carnews ≤ 1.5× plain feedparser);
- the second poll when nothing changed (all 304): its time as a share of the first
  (target: ≤ 5 %).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from carnews.clock import fixed_clock
from carnews.demo.servers import free_port
from carnews.gather.ingest import ingest
from carnews.settings import DatabaseSettings, FetchSettings, Settings, SourceSettings, replace
from carnews.storage import open_database

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
ABSTRACT = (
    "<p><b>BACKGROUND:</b> Autologous CD19-directed chimeric antigen receptor (CAR) T cells "
    "have induced drug-free remission in small series of systemic lupus erythematosus.</p>"
    "<p><b>METHODS:</b> We enrolled {n} adults with refractory disease in an open-label "
    'phase 1/2 trial (<a href="https://clinicaltrials.gov/study/NCT0{nct}">NCT0{nct}</a>). '
    "Patients received 1 × 10<sup>6</sup> CAR T cells per kg after lymphodepletion.</p>"
    "<p><b>RESULTS:</b> Cytokine release syndrome occurred in {crs} patients (grade 1). "
    "At week 24, {cr} of {n} patients had a complete response; anti-dsDNA antibodies "
    'became undetectable. <a href="https://doi.org/10.1000/bench.{feed}.{entry}?utm_source=rss">'
    "Full text</a></p><p><b>CONCLUSIONS:</b> A single infusion induced deep responses."
    '</p><img src="https://pixel.example/open.gif?u={entry}" width="1" height="1">'
)


def make_feed(feed: int, entries: int) -> bytes:
    items = []
    for entry in range(entries):
        published = NOW - timedelta(hours=entry + feed % 24)
        body = ABSTRACT.format(n=12 + entry % 30, nct=7000000 + feed * 100 + entry,
                               crs=entry % 12, cr=entry % 12, feed=feed, entry=entry)  # fmt: skip
        items.append(
            f"<item><title>CD19 CAR T cells in refractory lupus: cohort {feed}-{entry}</title>"
            f"<link>https://journal.example/articles/{feed}/{entry}?utm_medium=rss</link>"
            f'<guid isPermaLink="false">bench-{feed}-{entry}</guid>'
            f"<pubDate>{published:%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://journal.example/</link>"
        f"<description>bench</description>{''.join(items)}</channel></rss>"
    ).encode()


@contextmanager
def separate_feed_server(directory: Path) -> Iterator[str]:
    """The feeds come from another process, as real feeds come from other machines:
    the server's own CPU time must not count as carnews's (see feedhost.py)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "feedhost.py"), str(directory), str(port)]
    )
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def poll(settings: Settings) -> float:
    db = await open_database(settings.database.url)
    try:
        started = time.perf_counter()
        reports = await ingest(db, settings, fixed_clock(NOW), force=True)
        elapsed = time.perf_counter() - started
    finally:
        await db.close()
    errors = [r for r in reports if r.outcome == "error"]
    assert not errors, errors[:3]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    total = args.feeds * args.entries
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "feeds").mkdir()
        bodies = [make_feed(i, args.entries) for i in range(args.feeds)]
        for i, body in enumerate(bodies):
            (root / "feeds" / f"{i}.xml").write_bytes(body)
        started = time.perf_counter()
        for body in bodies:
            feedparser.parse(body)
        plain = time.perf_counter() - started
        with separate_feed_server(root / "feeds") as base_url:
            sources = tuple(SourceSettings(name=f"feed-{i}", url=f"{base_url}/{i}.xml")
                            for i in range(args.feeds))  # fmt: skip
            settings = replace(
                Settings(),
                database=DatabaseSettings(url=f"sqlite+aiosqlite:///{root / 'bench.db'}"),
                fetch=FetchSettings(concurrency=8, per_host=8),
                sources=sources,
            )
            first = asyncio.run(poll(settings))
            second = asyncio.run(poll(settings))
    print(f"feeds × entries: {args.feeds} × {args.entries} = {total} entries, "
          f"{sum(map(len, bodies)) / 1e6:.1f} MB")  # fmt: skip
    print(f"plain feedparser.parse: {plain:.2f} s, {total / plain:,.0f} entries/s")
    print(f"carnews first poll (fetch+parse+clean+store): {first:.2f} s, "
          f"{total / first:,.0f} entries/s")  # fmt: skip
    print(f"ratio carnews / plain feedparser: {first / plain:.2f}x (target ≤ 1.5x)")
    print(f"second poll, nothing changed (304): {second:.3f} s = "
          f"{100 * second / first:.1f} % of the first (target ≤ 5 %)")  # fmt: skip


if __name__ == "__main__":
    main()
