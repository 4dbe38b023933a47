"""A delivery worker killed with SIGKILL at random moments, restarted each time.

Afterwards every subscriber has exactly one message at the SMTP server and the
ledger agrees. Rows a killed worker left mid-batch become "unknown"; the relay's
answer (the Message-IDs it accepted, from its log) decides them, as an operator would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from carnews.audience.subscriptions import import_csv
from carnews.clock import utc_now
from carnews.curate.lexicon import load_lexicon
from carnews.demo.servers import MaildirHandler
from carnews.editions.review import approve, draft_edition
from carnews.storage import open_database
from tests.helpers import add_stories, smtp_server

SUBSCRIBERS = 2000
KILLS = 4
# Slow enough that the kills land mid-send: unthrottled, 2,000 go out in about a second.
RATE = 250


async def prepare(url: str, subscribers: int = SUBSCRIBERS) -> None:
    db = await open_database(url)
    try:
        await add_stories(db, utc_now(), [("Lupus news", ["lupus"]), ("SSc news", [])])
        result = await draft_edition(db, utc_now, lookback_days=14, max_stories=5, title="N",
                                     actor="t")  # fmt: skip
        assert result.edition_id == 1
        await approve(db, utc_now, 1, "Dr Jane")
        rows = "".join(f"reader{n}@example.org,,\n" for n in range(subscribers))
        await import_csv(db, utc_now, load_lexicon(), "email,name,diseases\n" + rows,
                         confirmed=True, actor="t")  # fmt: skip
    finally:
        await db.close()


def write_config(folder: Path, url: str, port: int, lease: float = 1) -> None:
    """A 1 s lease lets a worker on another host (or a reused pid) be seen gone soon."""
    (folder / "carnews.toml").write_text(
        f"[database]\nurl = '{url}'\n[smtp]\nhost = '127.0.0.1'\nport = {port}\n"
        f"claim_lease_seconds = {lease}\nmax_per_second = {RATE}\n"
    )


def carnews(folder: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    env["CARNEWS_SITE_SECRET_KEY"] = "crash-test"
    return subprocess.Popen([sys.executable, "-m", "carnews", *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def received(mail: Path) -> dict[str, list[str]]:
    """Message-IDs per recipient, as the server holds them."""
    found: dict[str, list[str]] = {}
    for path in mail.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.setdefault(str(message["To"]), []).append(str(message["Message-ID"]))
    return found


def test_sigkill_at_random_moments_sends_each_subscriber_exactly_one(tmp_path: Path) -> None:
    asyncio.run(prepare(f"sqlite+aiosqlite:///{tmp_path / 'carnews.db'}"))
    rng = random.Random(20261122)
    with smtp_server(tmp_path / "mail") as port:
        write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'carnews.db'}", port)
        kills = 0
        while kills < KILLS:
            worker = carnews(tmp_path, "worker", "--once")
            time.sleep(rng.uniform(1.5, 4.0))  # start-up takes about a second
            if worker.poll() is not None:
                break  # it finished before this kill: nothing left to interrupt
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
            time.sleep(1.1)  # the dead worker's claims outlive their lease
        assert kills >= 2, "the worker was killed mid-send at least twice"
        finish = carnews(tmp_path, "worker", "--once")
        assert finish.wait(timeout=300) == 0, finish.stderr.read() if finish.stderr else ""

        before = carnews(tmp_path, "send", "1", "--status", "--json").communicate(timeout=120)[0]
        print(f"\nafter {kills} kills: {before}")
        log = tmp_path / "relay.log"
        log.write_text("\n".join(mid for ids in received(tmp_path / "mail").values()
                                 for mid in ids))  # fmt: skip
        resolve = carnews(tmp_path, "send", "1", "--resolve-unknown", "retry",
                          "--relay-log", str(log), "--json")  # fmt: skip
        assert resolve.wait(timeout=120) == 0, resolve.stderr.read() if resolve.stderr else ""
        last = carnews(tmp_path, "worker", "--once")
        assert last.wait(timeout=300) == 0

    copies = received(tmp_path / "mail")
    assert len(copies) == SUBSCRIBERS
    assert all(len(ids) == 1 for ids in copies.values()), "nobody got a second copy"
    status = carnews(tmp_path, "send", "1", "--status", "--json")
    out, _ = status.communicate(timeout=120)

    report = json.loads(out)
    assert (report["sent"], report["unknown"], report["finished"]) == (SUBSCRIBERS, 0, True)
    import sqlite3

    with sqlite3.connect(tmp_path / "carnews.db") as connection:
        ledger = dict(connection.execute(
            "SELECT s.email, d.message_id FROM deliveries d JOIN subscribers s "
            "ON s.id = d.subscriber_id WHERE d.state = 'sent'"
        ).fetchall())  # fmt: skip
    assert ledger == {address: ids[0] for address, ids in copies.items()}, "the ledger agrees"


def test_two_workers_on_postgresql_killed_and_restarted_send_each_once(
    tmp_path: Path, postgres_server: str
) -> None:
    """Two workers share one PostgreSQL; SKIP LOCKED keeps their batches apart."""
    from tests.conftest import _create_postgres_database

    url = asyncio.run(_create_postgres_database(postgres_server))
    asyncio.run(prepare(url))
    rng = random.Random(7)
    with smtp_server(tmp_path / "mail") as port:
        write_config(tmp_path, url, port)
        for _ in range(2):
            pair = [carnews(tmp_path, "worker", "--once") for _ in range(2)]
            time.sleep(rng.uniform(1.5, 3.0))
            victim = pair[rng.randrange(2)]
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
            for worker in pair:
                worker.wait(timeout=300)
            time.sleep(1.1)
        for worker in [carnews(tmp_path, "worker", "--once") for _ in range(2)]:
            assert worker.wait(timeout=300) == 0
        log = tmp_path / "relay.log"
        log.write_text("\n".join(mid for ids in received(tmp_path / "mail").values()
                                 for mid in ids))  # fmt: skip
        resolve = carnews(tmp_path, "send", "1", "--resolve-unknown", "retry",
                          "--relay-log", str(log), "--json")  # fmt: skip
        assert resolve.wait(timeout=120) == 0
        assert carnews(tmp_path, "worker", "--once").wait(timeout=300) == 0
    copies = received(tmp_path / "mail")
    assert len(copies) == SUBSCRIBERS
    assert all(len(ids) == 1 for ids in copies.values()), "no delivery was sent twice"


class StallingRelay(MaildirHandler):
    """Takes the first few messages, then never answers again: a sender killed while it
    waits is certainly mid-batch, with messages taken, in flight and not yet handed over."""

    def __init__(self, directory: Path, take: int) -> None:
        super().__init__(directory)
        self.take, self.seen = take, 0
        self.stalled = asyncio.Event()  # never set: the answer that never comes

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen > self.take:
            await self.stalled.wait()
        return await super().handle_DATA(server, session, envelope)


def test_a_killed_sender_is_recovered_at_once_without_waiting_for_the_lease(
    tmp_path: Path,
) -> None:
    """SIGKILL mid-batch, then at once: --status lists the rows with their Message-IDs,
    the relay's log resolves them, and the next send reaches everyone else exactly once,
    each retried message under the Message-ID it had."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'carnews.db'}"
    asyncio.run(prepare(url, subscribers=300))  # a batch of 200 in flight, 100 still queued
    mail = tmp_path / "mail"
    with smtp_server(mail, StallingRelay(mail, take=5)) as port:
        write_config(tmp_path, url, port, lease=900)  # the default: nobody waits for it
        sender = carnews(tmp_path, "send", "1", "--json")
        for _ in range(1200):  # a hang bound of about two minutes, not a timing assertion
            if len(list(mail.glob("*.eml"))) == 5 or sender.poll() is not None:
                break
            time.sleep(0.1)
        assert sender.poll() is None, sender.stderr.read() if sender.stderr else ""
        sender.send_signal(signal.SIGKILL)
        sender.wait()

        status = carnews(tmp_path, "send", "1", "--status", "--json").communicate(timeout=120)
        report = json.loads(status[0])
        listed = {row["address"]: row["message_id"] for row in report["unknown_deliveries"]}
        taken = received(mail)
        assert (report["unknown"], len(listed)) == (200, 200), "the whole claimed batch"
        assert all(listed.values()), "each with the Message-ID to look for in the relay's log"
        assert {address: ids[0] for address, ids in taken.items()} == {
            address: listed[address] for address in taken
        }
        log = tmp_path / "relay.log"
        log.write_text("\n".join(ids[0] for ids in taken.values()))
        resolve = carnews(tmp_path, "send", "1", "--resolve-unknown", "sent",
                          "--relay-log", str(log), "--json").communicate(timeout=120)  # fmt: skip
        resolved = json.loads(resolve[0])
        assert (resolved["sent"], resolved["unknown"]) == (5, 0), resolve[1]

    with smtp_server(mail) as port:
        write_config(tmp_path, url, port, lease=900)
        finish = carnews(tmp_path, "send", "1", "--json").communicate(timeout=300)
    assert json.loads(finish[0])["finished"] is True, finish[1]
    copies = received(mail)
    assert len(copies) == 300 and all(len(ids) == 1 for ids in copies.values())
    assert all(copies[address] == [mid] for address, mid in listed.items()), "same Message-ID"
