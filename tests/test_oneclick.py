"""One-click unsubscribe while SQLite's write lock is taken (issue #13, item 6).

A send holds the one write lock batch after batch; the POST must still answer at once,
never be lost once it answered (even if ``carnews serve`` is killed right after), stop
mail to that reader in the running send, and be harmless when repeated. Real processes:
``carnews serve`` and ``carnews send`` on one SQLite file, aiosmtpd on loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from carnews.audience.subscriptions import import_csv
from carnews.clock import Clock, utc_now
from carnews.curate.lexicon import load_lexicon
from carnews.demo.servers import MaildirHandler, free_port
from carnews.editions.review import approve, draft_edition
from carnews.mail.claims import NOT_ACTIVE
from carnews.mail.deliver import send_edition
from carnews.settings import Settings, SmtpSettings, replace
from carnews.storage import Database, open_database
from carnews.storage.models import Delivery, DeliveryState, Subscriber
from carnews.storage.optouts import OptoutJournal, journal_path
from tests.helpers import add_stories, inbox, smtp_server, subscribe

READERS = 2000
HANG = 60  # seconds: a bound on a hang only; a POST waiting on the lock would fail by far


async def prepare(url: str) -> None:
    db = await open_database(url)
    try:
        await add_stories(db, utc_now(), [("Lupus news", ["lupus"])])
        drafted = await draft_edition(db, utc_now, lookback_days=14, max_stories=5, title="N",
                                      actor="t")  # fmt: skip
        assert drafted.edition_id == 1
        await approve(db, utc_now, 1, "Dr Jane")
        rows = "".join(f"reader{n}@example.org,,\n" for n in range(READERS))
        await import_csv(db, utc_now, load_lexicon(), "email,name,diseases\n" + rows,
                         confirmed=True, actor="t")  # fmt: skip
    finally:
        await db.close()


def carnews(folder: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    env["CARNEWS_SITE_SECRET_KEY"] = "oneclick-test"
    return subprocess.Popen([sys.executable, "-m", "carnews", *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


@contextmanager
def serving(folder: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    server = carnews(folder, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(HANG * 10):
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(base + "/healthz", timeout=5).status_code < 600:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield server, base
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=HANG)


@contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """SQLite's write lock held by another process's connection, as a send holds it."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def setup(folder: Path, port: int, rate: int = 0) -> Path:
    database = folder / "carnews.db"
    asyncio.run(prepare(f"sqlite+aiosqlite:///{database}"))
    limit = f"max_per_second = {rate}\n" if rate else ""
    (folder / "carnews.toml").write_text(
        f"[database]\nurl = 'sqlite+aiosqlite:///{database}'\n"
        f"[site]\nbase_url = 'https://news.example.org'\n"
        f"[smtp]\nhost = '127.0.0.1'\nport = {port}\n{limit}"
    )
    return database


def tokens(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT email, unsubscribe_token FROM subscribers"))


def unsubscribe(base: str, token: str) -> None:
    answer = httpx.post(f"{base}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"},
                        timeout=HANG)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert "You are unsubscribed" in answer.text


def recipients(mail: Path) -> list[str]:
    return [str(message["To"]) for message in inbox(mail)]


def ledger(database: Path, address: str) -> tuple[str, str | None, str | None, int]:
    """The reader's status, their delivery's state and error, and their unsubscribe events."""
    with sqlite3.connect(database) as connection:
        status, subscriber_id = connection.execute(
            "SELECT status, id FROM subscribers WHERE email = ?", (address,)
        ).fetchone()
        state, error = connection.execute(
            "SELECT state, last_error FROM deliveries WHERE subscriber_id = ?", (subscriber_id,)
        ).fetchone() or (None, None)  # fmt: skip
        events = connection.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'unsubscribe' AND object_id = ?",
            (str(subscriber_id),),
        ).fetchone()[0]
    return status, state, error, events


def test_an_answered_unsubscribe_survives_kill_9_and_the_send_honours_it(tmp_path: Path) -> None:
    with smtp_server(tmp_path / "mail") as port:
        database = setup(tmp_path, port)
        leaving = "reader1500@example.org"
        token = tokens(database)[leaving]
        with serving(tmp_path) as (server, base), write_lock(database):
            unsubscribe(base, token)  # answered although the write lock is someone else's
            server.send_signal(signal.SIGKILL)  # right after the answer
            server.wait(timeout=HANG)
        assert ledger(database, leaving)[0] == "active", "only the journal has it so far"
        assert journal_path(database).exists()

        send = carnews(tmp_path, "send", "1")
        assert send.wait(timeout=600) == 0, send.stderr.read() if send.stderr else ""
        got = recipients(tmp_path / "mail")
        assert leaving not in got
        assert len(got) == READERS - 1 and len(set(got)) == READERS - 1
        assert ledger(database, leaving) == ("unsubscribed", "failed_permanent", NOT_ACTIVE, 1)

        with serving(tmp_path) as (_, base):  # the same link clicked again: same answer
            unsubscribe(base, token)
            unsubscribe(base, token)
    assert ledger(database, leaving)[3] == 1, "one unsubscribe, however often it was clicked"


def test_unsubscribes_during_a_running_send_stop_mail_to_those_readers(tmp_path: Path) -> None:
    with smtp_server(tmp_path / "mail") as port:
        # 250 messages a second: the send takes about 8 s, holding the write lock in turns.
        database = setup(tmp_path, port, rate=250)
        known = tokens(database)
        # The last readers in the send's order first: the furthest from where it is.
        leaving = [f"reader{n}@example.org" for n in range(READERS - 1, 999, -50)]
        mailed_first: set[str] = set()  # mailed by the time their unsubscribe answered: allowed
        with serving(tmp_path) as (_, base):
            send = carnews(tmp_path, "send", "1")
            for _ in range(HANG * 10):
                if len(list((tmp_path / "mail").glob("*.eml"))) >= 100 or send.poll() is not None:
                    break
                time.sleep(0.1)
            for address in leaving:
                unsubscribe(base, known[address])
                if address in recipients(tmp_path / "mail"):
                    mailed_first.add(address)
            assert send.wait(timeout=600) == 0, send.stderr.read() if send.stderr else ""
        got = recipients(tmp_path / "mail")
    spared = set(leaving) - mailed_first
    assert spared, "some unsubscribes answered before the send reached their readers"
    assert not spared & set(got), "nobody was mailed after their unsubscribe answered"
    assert len(got) == READERS - len(spared) and len(set(got)) == len(got)
    for address in spared:
        status, state, error, events = ledger(database, address)
        assert (status, state, error, events) == ("unsubscribed", "failed_permanent", NOT_ACTIVE, 1)


class UnsubscribingHandler(MaildirHandler):
    """Keeps messages; when the first one arrives, a reader later in the same batch
    clicks one-click unsubscribe while the send holds the write lock (the journal)."""

    def __init__(self, directory: Path, journal: OptoutJournal, subscriber_id: int) -> None:
        super().__init__(directory)
        self._journal, self._subscriber_id = journal, subscriber_id

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._journal.record(self._subscriber_id, utc_now(), "web")
        return str(await super().handle_DATA(server, session, envelope))


async def test_an_unsubscribe_after_the_claim_stops_that_message_in_the_claimed_batch(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    drafted = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N",
                                  actor="t")  # fmt: skip
    assert drafted.edition_id is not None
    await approve(db, clock, drafted.edition_id, "Dr Jane")
    for n in range(20):  # one batch: all claimed before the first message goes
        await subscribe(db, clock, f"reader{n}@example.org")
    async with db.read() as session:
        last = await session.scalar(
            select(Subscriber.id).where(Subscriber.email == "reader19@example.org")
        )
    assert db.optouts is not None and last is not None
    handler = UnsubscribingHandler(tmp_path / "mail", db.optouts, last)
    smtp = SmtpSettings(host="127.0.0.1", timeout_seconds=5, concurrency=1)
    with smtp_server(tmp_path / "mail", handler) as port:
        settings = replace(settings, smtp=replace(smtp, port=port))
        report = await send_edition(db, settings, clock, drafted.edition_id, actor="t")
    got = [str(message["To"]) for message in inbox(tmp_path / "mail")]
    assert "reader19@example.org" not in got and len(got) == 19
    assert (report.sent, report.finished) == (19, True)
    async with db.read() as session:
        state, error = (await session.execute(
            select(Delivery.state, Delivery.last_error).where(Delivery.subscriber_id == last)
        )).one()  # fmt: skip
    assert (state, error) == (DeliveryState.FAILED_PERMANENT, NOT_ACTIVE)
