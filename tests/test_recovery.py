"""Claims and recovery: a dead sender is seen at once, and no run leaves its claims behind."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carnews.clock import Clock, fixed_clock, utc_now
from carnews.demo.servers import MaildirHandler
from carnews.errors import ConfigError, TemplateError
from carnews.mail.claims import Holder, claim_batch, this_process
from carnews.mail.deliver import send_edition, start_sending
from carnews.mail.recovery import mark_abandoned, resolve_unknown, unknown_rows
from carnews.settings import Settings, SmtpSettings, TemplateSettings, replace
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState, Edition, EditionState
from tests.helpers import inbox, smtp_server, subscribe
from tests.test_deliver import approved_edition, with_smtp

pytestmark = pytest.mark.both_databases


def dead_pid() -> int:
    """The pid of a process that has run and been reaped: nothing answers to it now."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def states(db: Database) -> dict[str, tuple[DeliveryState, int, str | None]]:
    """Each reader's ledger row: state, attempts, Message-ID."""
    from carnews.storage.models import Subscriber

    async with db.session() as session:
        rows = await session.execute(
            select(Subscriber.email, Delivery.state, Delivery.attempts, Delivery.message_id).join(
                Subscriber, Subscriber.id == Delivery.subscriber_id
            )
        )
        return {email: (state, attempts, mid) for email, state, attempts, mid in rows}


async def claimed_by(db: Database, clock: Clock, holder: Holder, readers: int) -> int:
    """An approved edition whose first batch ``holder`` has claimed (and then stopped)."""
    edition_id = await approved_edition(db, clock)
    for number in range(readers):
        await subscribe(db, clock, f"reader{number}@example.org")
    await start_sending(db, clock, edition_id, "t")
    await claim_batch(db, edition_id, clock(), "carnews.test", holder)
    return edition_id


async def test_a_dead_holder_on_this_host_is_seen_at_once(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """No lease to wait for: the restart sees the pid is gone and reports the rows."""
    edition_id = await claimed_by(db, clock, Holder(this_process().host, dead_pid()), 3)
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert (report.sent, report.unknown, report.finished) == (0, 3, False)
    assert inbox(tmp_path / "mail") == [], "maybe sent: never sent again on a guess"
    listed = await unknown_rows(db, edition_id)
    assert len(listed) == 3 and all(message_id for _, message_id in listed)


async def test_a_holder_elsewhere_is_dead_only_when_its_heartbeat_is_older_than_the_lease(
    db: Database, clock: Clock
) -> None:
    edition_id = await claimed_by(db, clock, Holder("another-host", 1), 2)
    inside = fixed_clock(clock() + timedelta(seconds=899))
    after = fixed_clock(clock() + timedelta(seconds=901))
    assert await mark_abandoned(db, inside, edition_id, 900, "t") == 0, "its pid is not ours"
    assert await mark_abandoned(db, after, edition_id, 900, "t") == 2


async def test_a_retried_message_keeps_its_message_id(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """Sent again after an operator's 'retry', it is the same message to the reader's
    mail system and in the relay's log."""
    edition_id = await claimed_by(db, clock, Holder(this_process().host, dead_pid()), 2)
    assert await mark_abandoned(db, clock, edition_id, 900, "t") == 2
    first = {address: message_id for address, message_id in await unknown_rows(db, edition_id)}
    await resolve_unknown(db, clock, edition_id, as_sent=False, actor="op")
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert (report.sent, report.finished) == (2, True)
    received = {str(m["To"]): str(m["Message-ID"]) for m in inbox(tmp_path / "mail")}
    assert received == first


@pytest.mark.parametrize(
    ("smtp", "mail", "key"),
    [
        ({"port": 70000}, {}, "smtp.port"),
        ({}, {"reply_to": "desk@example.org\r\nBcc: everyone@example.org"}, "mail.reply_to"),
        ({"username": "news", "host": "relay.example.org"}, {}, "smtp.security"),
    ],
)
async def test_bad_settings_stop_a_send_before_anything_is_claimed(
    db: Database,
    clock: Clock,
    settings: Settings,
    smtp: dict[str, Any],
    mail: dict[str, Any],
    key: str,
) -> None:
    """Settings built in code are checked like a file's, before the ledger moves."""
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "reader@example.org")
    bad = replace(settings, smtp=replace(settings.smtp, **smtp),
                  mail=replace(settings.mail, **mail))  # fmt: skip
    with pytest.raises(ConfigError, match=key):
        await send_edition(db, bad, clock, edition_id, actor="t")
    assert await states(db) == {}, "no ledger, no claim"
    async with db.session() as session:
        assert (await session.get_one(Edition, edition_id)).state == EditionState.APPROVED


async def test_an_error_mid_batch_records_what_went_and_requeues_the_rest(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """A template that fails only for a one-story issue stops the run after the first
    reader's message went out: that one is recorded, the others wait in the queue."""
    override = tmp_path / "templates" / "email"
    override.mkdir(parents=True)
    builtin = Path(__file__).parents[1] / "templates" / "email" / "newsletter.txt"
    broken = "{% if edition.stories | length == 1 %}{{ no_such_name }}{% endif %}"
    (override / "newsletter.txt").write_text(broken + builtin.read_text())
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "everything@example.org")
    await subscribe(db, clock, "lupus@example.org", ["SLE"])
    await subscribe(db, clock, "later@example.org")
    with smtp_server(tmp_path / "mail") as port:
        good = with_smtp(settings, port)
        one_line = replace(good, smtp=replace(good.smtp, concurrency=1),
                           templates=TemplateSettings(dir=str(tmp_path / "templates")))  # fmt: skip
        with pytest.raises(TemplateError, match="no_such_name"):
            await send_edition(db, one_line, clock, edition_id, actor="t")
        after_error = await states(db)
        report = await send_edition(db, good, clock, edition_id, actor="t")
    assert {a: s[:2] for a, s in after_error.items()} == {
        "everything@example.org": (DeliveryState.SENT, 1),
        "lupus@example.org": (DeliveryState.QUEUED, 0),
        "later@example.org": (DeliveryState.QUEUED, 0),
    }
    assert (report.sent, report.unknown, report.finished) == (3, 0, True)
    received = sorted(str(m["To"]) for m in inbox(tmp_path / "mail"))
    assert received == ["everything@example.org", "later@example.org", "lupus@example.org"]


class HeldRelay(MaildirHandler):
    """Keeps every message waiting for its answer until the test lets it through."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.open = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.to_thread(self.open.wait)
        return await super().handle_DATA(server, session, envelope)


async def heartbeat_past_lease(db: Database, lease: timedelta) -> Delivery:
    """The claimed row, once its heartbeat is more than ``lease`` younger than its claim."""
    for _ in range(1200):  # a hang bound of about a minute, not a timing assertion
        async with db.session() as session:
            row = await session.scalar(select(Delivery))
        beat, claimed = (row.heartbeat_at, row.claimed_at) if row else (None, None)
        if beat and claimed and beat - claimed > lease:
            assert row is not None
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the sender never renewed its heartbeat")


async def test_a_batch_slower_than_the_lease_is_kept_alive_by_its_heartbeat(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """At a low rate limit a batch outlasts the lease: a sender elsewhere must not
    take it for abandoned while its holder still sends."""
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "slow@example.org")
    relay = HeldRelay(tmp_path / "mail")
    with smtp_server(tmp_path / "mail", relay) as port:
        smtp = SmtpSettings(host="127.0.0.1", port=port, claim_lease_seconds=1)
        sending = asyncio.create_task(
            send_edition(db, replace(settings, smtp=smtp), utc_now, edition_id, actor="t")
        )
        try:
            row = await heartbeat_past_lease(db, timedelta(seconds=1))
            seen_elsewhere = fixed_clock(row.heartbeat_at)  # type: ignore[arg-type]
            assert await mark_abandoned(db, seen_elsewhere, edition_id, 1, "w2",
                                        here="another-host") == 0  # fmt: skip
        finally:
            relay.open.set()
        report = await sending
    assert (report.sent, report.unknown, report.finished) == (1, 0, True)


async def test_the_relays_log_decides_row_by_row_whatever_the_operator_chose(
    db: Database, clock: Clock
) -> None:
    """'--resolve-unknown sent --relay-log LOG': a message the relay never took was not
    sent, so it is queued again rather than taken for sent."""
    edition_id = await claimed_by(db, clock, Holder(this_process().host, dead_pid()), 2)
    await mark_abandoned(db, clock, edition_id, 900, "t")
    (taken, _), (missing, _) = sorted(await unknown_rows(db, edition_id))
    ids = dict(await unknown_rows(db, edition_id))
    assert await resolve_unknown(db, clock, edition_id, as_sent=True,
                                 relay_accepted={str(ids[taken])}, actor="op") == 2  # fmt: skip
    after = await states(db)
    assert (after[taken][0], after[missing][0]) == (DeliveryState.SENT, DeliveryState.QUEUED)
