"""Sending through a real SMTP server on loopback: ledger, bounces, dead relay, resume."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carnews.audience.subscriptions import add_subscriber, import_csv
from carnews.clock import Clock, ManualClock
from carnews.curate.lexicon import load_lexicon
from carnews.demo.servers import MaildirHandler
from carnews.editions.render import RenderedEmail
from carnews.editions.review import approve, draft_edition
from carnews.errors import DeliveryError, EditionStateError
from carnews.mail.deliver import SendProgress, finish_if_done, send_edition
from carnews.mail.message import build_message
from carnews.settings import Secret, Settings, SiteSettings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState, Edition, EditionState, Subscriber
from carnews.storage.models import SubscriberStatus as Status
from tests.helpers import RefusingHandler, add_stories, inbox, smtp_server, subscribe

pytestmark = pytest.mark.both_databases


async def approved_edition(db: Database, clock: Clock) -> int:
    await add_stories(db, clock(), [("Lupus news", ["lupus"]), ("Myositis news", ["myositis"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    await approve(db, clock, result.edition_id, "Dr Jane")
    return result.edition_id


def with_smtp(settings: Settings, port: int) -> Settings:
    return replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5))


async def test_sends_once_to_each_active_subscriber(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    for address in ("a@example.org", "b@example.org", "c@example.org"):
        await subscribe(db, clock, address)
    await add_subscriber(
        db,
        clock,
        load_lexicon(),
        email="pending@example.org",
        confirmed=False,
        consent_source="test",
        actor="test",
    )
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
        again = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert (report.sent, report.finished) == (3, True)
    assert again.sent == 3, "a second send is a no-op, not a second copy"
    received = inbox(tmp_path / "mail")
    assert sorted(str(m["To"]) for m in received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    async with db.session() as session:
        edition = await session.get_one(Edition, edition_id)
        assert edition.state == EditionState.SENT and edition.sent_at == clock()
        ids = (await session.scalars(select(Delivery.message_id))).all()
    assert sorted(ids) == sorted(str(m["Message-ID"]) for m in received)


async def test_550_bounces_the_address_and_is_not_retried(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "good@example.org")
    await subscribe(db, clock, "bounce@example.org")
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
        await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert (report.sent, report.failed_permanent, report.finished) == (1, 1, True)
    async with db.session() as session:
        bounced = await session.scalar(select(Subscriber).where(Subscriber.email.like("bounce%")))
        delivery = await session.scalar(
            select(Delivery).where(Delivery.state == DeliveryState.FAILED_PERMANENT)
        )
    assert bounced is not None and bounced.status == Status.BOUNCED
    assert delivery is not None and delivery.attempts == 1 and "550" in (delivery.last_error or "")
    assert [str(m["To"]) for m in inbox(tmp_path / "mail")] == ["good@example.org"]


async def test_4xx_is_retried_with_back_off_until_attempts_run_out(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "busy@example.org")
    manual = ManualClock(clock())
    with smtp_server(tmp_path / "mail") as port:
        configured = with_smtp(settings, port)
        report = await send_edition(db, configured, manual, edition_id, actor="t",
                                    sleep=manual.sleep)  # fmt: skip
        again = await send_edition(db, configured, manual, edition_id, actor="t")
    assert manual.slept == [30, 60, 120, 240], "the wait doubles after each try"
    assert (report.failed_temporary, report.finished) == (1, True)
    async with db.session() as session:
        row = await session.scalar(select(Delivery))
        edition = await session.get_one(Edition, edition_id)
    assert row is not None and row.attempts == 5 and "451" in (row.last_error or "")
    assert row.retry_at is None, "out of attempts: final, reported as failed"
    assert edition.state == EditionState.SENT and again.failed_temporary == 1


class BusyOnce(MaildirHandler):
    """A relay that answers 451 to the first try for each address, then takes the mail."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.seen: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address not in self.seen:
            self.seen.add(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_greylisting_is_retried_in_the_same_run(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    for address in ("a@example.org", "b@example.org"):
        await subscribe(db, clock, address)
    manual = ManualClock(clock())
    with smtp_server(tmp_path / "mail", BusyOnce(tmp_path / "mail")) as port:
        report = await send_edition(db, with_smtp(settings, port), manual, edition_id,
                                    actor="t", sleep=manual.sleep)  # fmt: skip
    assert (report.sent, report.failed_temporary, report.finished) == (2, 0, True)
    assert manual.slept == [30]
    assert sorted(str(m["To"]) for m in inbox(tmp_path / "mail")) == [
        "a@example.org", "b@example.org"]  # fmt: skip


async def test_a_clock_that_stands_still_leaves_retries_for_the_next_run(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "busy@example.org")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id,
                                    actor="t", sleep=sleep)  # fmt: skip
    assert slept == [30] and (report.failed_temporary, report.finished) == (1, False)


async def test_dead_relay_sends_nothing_and_loses_nothing(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    from carnews.demo.servers import free_port

    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "a@example.org")
    await subscribe(db, clock, "b@example.org")
    dead_port = free_port()
    with pytest.raises(DeliveryError, match="cannot reach the SMTP relay"):
        await send_edition(db, with_smtp(settings, dead_port), clock, edition_id, actor="t")
    async with db.session() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert {(r.state, r.attempts) for r in rows} == {(DeliveryState.QUEUED, 0)}
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert report.sent == 2 and len(inbox(tmp_path / "mail")) == 2


async def test_each_subscriber_gets_only_their_diseases(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "lupus@example.org", ["SLE"])
    await subscribe(db, clock, "all@example.org")
    await subscribe(db, clock, "ms@example.org", ["multiple sclerosis"])
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert report.skipped_no_matching_story == 1
    texts = {
        str(m["To"]): str(m.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        for m in inbox(tmp_path / "mail")
    }
    assert set(texts) == {"lupus@example.org", "all@example.org"}
    assert "Lupus news" in texts["lupus@example.org"]
    assert "Myositis news" not in texts["lupus@example.org"]
    assert "Myositis news" in texts["all@example.org"]


async def test_a_story_tagged_with_no_disease_reaches_every_reader(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """Class-wide CAR-T safety news is curated with no disease tag: it is for everyone."""
    safety, myositis = "FDA warns of T-cell cancers after all CAR-T", "Myositis news"
    await add_stories(db, clock(), [(safety, []), (myositis, ["myositis"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    await approve(db, clock, result.edition_id, "Dr Jane")
    await subscribe(db, clock, "lupus@example.org", ["SLE"])
    await subscribe(db, clock, "myositis@example.org", ["myositis"])
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, result.edition_id,
                                    actor="t")  # fmt: skip
    assert report.skipped_no_matching_story == 0
    texts = {
        str(m["To"]): str(m.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        for m in inbox(tmp_path / "mail")
    }
    assert safety in texts["lupus@example.org"] and myositis not in texts["lupus@example.org"]
    assert safety in texts["myositis@example.org"] and myositis in texts["myositis@example.org"]


async def test_sending_needs_approval(db: Database, clock: Clock, settings: Settings) -> None:
    """No signing key is needed any more: each reader's link carries their own token."""
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    keyless = replace(settings, site=SiteSettings(secret_key=Secret("")))
    with pytest.raises(EditionStateError):
        await send_edition(db, keyless, clock, result.edition_id, actor="t")


def test_no_header_injection_from_titles(settings: Settings, clock: Clock) -> None:
    rendered = RenderedEmail("News\r\nBcc: victim@example.org", "<p>x</p>", "x")
    message = build_message(
        rendered,
        to="a@example.org",
        mail=settings.mail,
        site_title=settings.site.title,
        unsubscribe_url="http://news.test/u/t",
        now=clock(),
    )
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw and message["Bcc"] is None
    assert str(message["Subject"]) == "News Bcc: victim@example.org"


async def test_progress_is_reported_after_each_batch(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    for address in ("reader0@example.org", "reader1@example.org", "reader2@example.org",
                    "bounce@example.org"):  # fmt: skip
        await subscribe(db, clock, address)
    seen: list[SendProgress] = []
    with smtp_server(tmp_path / "mail") as port:
        await send_edition(
            db,
            with_smtp(settings, port),
            clock,
            edition_id,
            actor="t",
            on_progress=seen.append,
        )
    assert seen == [SendProgress(settled=4, total=4, sent=3, failed=1)]


async def test_too_many_failures_in_a_row_pause_the_send_until_resumed(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    from carnews.demo.servers import MaildirHandler

    edition_id = await approved_edition(db, clock)
    for number in range(4):
        await subscribe(db, clock, f"busy{number}@example.org")
    strict = with_smtp(settings, 0)
    with smtp_server(tmp_path / "refusing") as port:
        configured = replace(strict, smtp=replace(strict.smtp, port=port, pause_after_errors=3))
        report = await send_edition(db, configured, clock, edition_id, actor="t")
        assert report.paused and not report.finished and report.failed_temporary == 4
        with pytest.raises(EditionStateError, match="paused"):
            await send_edition(db, configured, clock, edition_id, actor="t")
    async with db.session() as session:
        assert (await session.get_one(Edition, edition_id)).state == EditionState.PAUSED
    with smtp_server(tmp_path / "mail", MaildirHandler(tmp_path / "mail")) as port:
        healthy = replace(strict, smtp=replace(strict.smtp, port=port))
        resumed = await send_edition(db, healthy, clock, edition_id, actor="t", resume=True)
    assert (resumed.sent, resumed.finished, resumed.paused) == (4, True, False)
    assert len(inbox(tmp_path / "mail")) == 4


async def test_rate_limit_paces_a_real_send(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    import time

    edition_id = await approved_edition(db, clock)
    for number in range(6):
        await subscribe(db, clock, f"reader{number}@example.org")
    with smtp_server(tmp_path / "mail") as port:
        base = with_smtp(settings, port)
        paced = replace(base, smtp=replace(base.smtp, max_per_second=4.0))
        started = time.perf_counter()
        report = await send_edition(db, paced, clock, edition_id, actor="t")
        elapsed = time.perf_counter() - started
    assert report.sent == 6
    assert elapsed >= 0.95, "6 messages at 4 a second take at least one second"


async def test_rows_a_dead_sender_left_are_unknown_never_resent_blindly(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """A sender killed after claiming a batch: its rows may have reached the relay."""
    from datetime import timedelta

    from carnews.clock import fixed_clock
    from carnews.mail.claims import claim_batch, this_process
    from carnews.mail.deliver import start_sending
    from carnews.mail.recovery import resolve_unknown, unknown_rows

    edition_id = await approved_edition(db, clock)
    for number in range(3):
        await subscribe(db, clock, f"reader{number}@example.org")
    await start_sending(db, clock, edition_id, "t")
    claimed = await claim_batch(db, edition_id, clock(), "carnews.test", this_process())
    assert {row.message_id for row in claimed} and all(row.message_id for row in claimed)

    later = fixed_clock(clock() + timedelta(hours=1))
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), later, edition_id, actor="t")
        assert (report.sent, report.unknown, report.finished) == (0, 3, False)
        assert inbox(tmp_path / "mail") == [], "nothing is sent twice on a guess"
        listed = await unknown_rows(db, edition_id)
        assert sorted(m for _, m in listed) == sorted(str(r.message_id) for r in claimed)
        assert await resolve_unknown(db, later, edition_id, as_sent=False, actor="op") == 3
        again = await send_edition(db, with_smtp(settings, port), later, edition_id, actor="t")
    assert (again.sent, again.unknown, again.finished) == (3, 0, True)
    assert len(inbox(tmp_path / "mail")) == 3


async def test_a_live_claim_is_not_taken_for_a_dead_one(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    from carnews.mail.claims import claim_batch, this_process
    from carnews.mail.deliver import start_sending

    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "reader@example.org")
    await start_sending(db, clock, edition_id, "t")
    # Another sender, still busy: a live process on this host, its heartbeat fresh.
    await claim_batch(db, edition_id, clock(), "carnews.test", this_process())
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert (report.sent, report.unknown, report.finished) == (0, 1, False)
    async with db.session() as session:
        (row,) = (await session.scalars(select(Delivery))).all()
    assert row.state == DeliveryState.SENDING, "inside its lease it is still someone's work"


class FlakyRelay(MaildirHandler):
    """Every fifth message: 421 (busy); every seventh: the connection drops before the
    relay's answer, so the message was not taken; addresses with 'bounce' get 550."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.attempts = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if "bounce" in address:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts % 7 == 0:
            server.transport.close()  # gone before the final answer: nothing was accepted
            return "421 closing"
        if self.attempts % 5 == 0:
            return "421 4.3.2 Busy, try again later"
        return await super().handle_DATA(server, session, envelope)


async def test_faulty_relay_every_good_address_gets_exactly_one_copy(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    good = [f"reader{n}@example.org" for n in range(20)]
    for address in [*good, "bounce1@example.org", "bounce2@example.org"]:
        await subscribe(db, clock, address)
    relay = FlakyRelay(tmp_path / "mail")
    manual = ManualClock(clock())
    with smtp_server(tmp_path / "mail", relay) as port:
        report = await send_edition(db, with_smtp(settings, port), manual, edition_id,
                                    actor="t", sleep=manual.sleep)  # fmt: skip
    assert manual.slept, "the busy answers and dropped connections were retried after a wait"
    assert report.finished and (report.sent, report.failed_permanent) == (20, 2)
    received = [str(message["To"]) for message in inbox(tmp_path / "mail")]
    assert sorted(received) == sorted(good), "each good address exactly once"
    async with db.session() as session:
        failed = select(Delivery).where(Delivery.state == DeliveryState.FAILED_PERMANENT)
        bounced = (await session.scalars(failed)).all()
    assert all(row.attempts == 1 for row in bounced), "a 550 is never retried"


class SenderRefusingRelay(MaildirHandler):
    """A relay that will not take mail from carnews's address (say, a wrong From domain)."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "553 5.7.1 Sender address rejected: not owned by user"


async def test_a_refused_sender_address_stops_the_run_and_bounces_nobody(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    for number in range(3):
        await subscribe(db, clock, f"reader{number}@example.org")
    relay = SenderRefusingRelay(tmp_path / "mail")
    refused = pytest.raises(DeliveryError, match=r"refuses the sender .*553")
    with smtp_server(tmp_path / "mail", relay) as port, refused:
        await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    async with db.session() as session:
        rows = (await session.scalars(select(Delivery))).all()
        readers = (await session.scalars(select(Subscriber))).all()
    assert {(row.state, row.attempts) for row in rows} == {(DeliveryState.QUEUED, 0)}
    assert {reader.status for reader in readers} == {Status.ACTIVE}, "a 5xx to MAIL is ours"


async def test_two_senders_started_together_send_each_message_once(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    good = [f"reader{n}@example.org" for n in range(450)]  # more than two batches
    await import_csv(db, clock, load_lexicon(), "email\n" + "\n".join(good), confirmed=True,
                     actor="t")  # fmt: skip
    with smtp_server(tmp_path / "mail") as port:
        configured = with_smtp(settings, port)
        await asyncio.gather(
            *(send_edition(db, configured, clock, edition_id, actor=f"w{n}") for n in range(2))
        )
    assert sorted(str(m["To"]) for m in inbox(tmp_path / "mail")) == sorted(good)
    report = await finish_if_done(db, clock, edition_id, "t")
    assert (report.queued, report.sent, report.finished) == (len(good), len(good), True)


@pytest.mark.parametrize("smtputf8", [True, False])
async def test_international_addresses(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path, smtputf8: bool
) -> None:
    edition_id = await approved_edition(db, clock)
    for address in ("jörg@exämple.org", "ann@exämple.org", "ascii@example.org"):
        await subscribe(db, clock, address)
    handler = RefusingHandler(tmp_path / "mail")
    with smtp_server(tmp_path / "mail", handler, enable_SMTPUTF8=smtputf8) as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    received = sorted(str(m["To"]) for m in inbox(tmp_path / "mail"))
    # A domain alone goes in its ASCII form, which every relay takes.
    plain = ["ann@xn--exmple-cua.org", "ascii@example.org"]
    if smtputf8:
        assert (report.sent, report.finished) == (3, True) and received == [
            *plain,
            "jörg@exämple.org",
        ]
        return
    assert (report.sent, report.failed_permanent, received) == (2, 1, plain)
    async with db.session() as session:
        failed = await session.scalar(
            select(Delivery).where(Delivery.state == DeliveryState.FAILED_PERMANENT)
        )
    assert failed is not None and "SMTPUTF8" in (failed.last_error or "")
