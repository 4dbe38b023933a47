"""Bounces and complaints fed back: DSNs from a maildir, the webhook, and the thresholds.

The fixtures are the mail a relay really sends back: a Postfix bounce (5.1.1 unknown
user), a mailbox that stayed full until Postfix gave up (4.2.2), a delay warning, an
ARF complaint from a mailbox provider's feedback loop, a reader's reply and garbage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carnews.audience.subscriptions import add_subscriber
from carnews.clock import Clock, fixed_clock
from carnews.curate.lexicon import load_lexicon
from carnews.errors import NotFoundError, SubscriberError, WebhookError
from carnews.mail.bounces import (
    BounceNotice,
    parse_dsn,
    read_maildir,
    record_bounces,
)
from carnews.mail.webhook import parse_webhook, webhook_token
from carnews.settings import Secret, Settings, SiteSettings, replace
from carnews.storage import Database
from carnews.storage.models import (
    AuditEvent,
    BounceEvent,
    BounceKind,
    BounceSource,
    Subscriber,
    SubscriberStatus,
)
from carnews.storage.sitekey import site_key
from carnews.web.app import create_app
from tests.conftest import NOW

HARD = b"""\
Return-Path: <>
Delivered-To: bounces@news.example.org
Date: Fri, 20 Nov 2026 10:15:02 +0000 (UTC)
From: MAILER-DAEMON@mail.news.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@news.example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F1A2B3C4D.1763633702/mail.news.example.org"
Message-Id: <20261120101502.4F1A2B3C4D@mail.news.example.org>

This is a MIME-encapsulated message.

--4F1A2B3C4D.1763633702/mail.news.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.news.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<gone@example.com>: host mx.example.com[192.0.2.25] said: 550 5.1.1
    <gone@example.com>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4F1A2B3C4D.1763633702/mail.news.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.news.example.org
X-Postfix-Queue-ID: 4F1A2B3C4D
X-Postfix-Sender: rfc822; bounces@news.example.org
Arrival-Date: Fri, 20 Nov 2026 10:15:00 +0000 (UTC)

Final-Recipient: rfc822; gone@example.com
Original-Recipient: rfc822;Gone@Example.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address
    rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; reader@example.com
Original-Recipient: rfc822;reader@example.com
Action: delivered
Status: 2.0.0
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 9A8B7C

--4F1A2B3C4D.1763633702/mail.news.example.org
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: CAR-T & Autoimmunity News <news@news.example.org>
To: gone@example.com
Subject: CAR-T & Autoimmunity News, November 2026
Message-ID: <edition-7.subscriber-12@news.example.org>

--4F1A2B3C4D.1763633702/mail.news.example.org--
"""

MAILBOX_FULL = b"""\
Date: Thu, 19 Nov 2026 06:00:11 +0000 (UTC)
From: MAILER-DAEMON@mail.news.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@news.example.org
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B2"
Message-Id: <20261119060011.77AA@mail.news.example.org>

--B2
Content-Type: text/plain; charset=us-ascii

<full@example.net>: host mx.example.net[198.51.100.7] said: 452 4.2.2
    Mailbox full (in reply to RCPT TO command)

--B2
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.news.example.org
Arrival-Date: Sat, 14 Nov 2026 06:00:00 +0000 (UTC)

Final-Recipient: rfc822; full@example.net
Original-Recipient: rfc822;full@example.net
Action: failed
Status: 4.2.2
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Last-Attempt-Date: Thu, 19 Nov 2026 06:00:10 +0000 (UTC)

--B2--
"""

DELAYED = b"""\
Date: Fri, 20 Nov 2026 14:00:00 +0000 (UTC)
From: MAILER-DAEMON@mail.news.example.org (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: bounces@news.example.org
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B3"
Message-Id: <20261120140000.88BB@mail.news.example.org>

--B3
Content-Type: text/plain; charset=us-ascii

This is a warning only. You do not need to resend your message.

--B3
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.news.example.org
Arrival-Date: Fri, 20 Nov 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; full@example.net
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.net[198.51.100.7]:25:
    Connection timed out
Will-Retry-Until: Fri, 25 Nov 2026 10:00:00 +0000 (UTC)

--B3--
"""

COMPLAINT = b"""\
From: <staff@feedback.example.net>
Date: Fri, 20 Nov 2026 18:30:00 +0000
Subject: FW: CAR-T & Autoimmunity News, November 2026
To: <abuse@news.example.org>
MIME-Version: 1.0
Message-ID: <arf-20261120-1830-55@feedback.example.net>
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
203.0.113.10 on Fri, 20 Nov 2026 08:12:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounces@news.example.org>
Original-Rcpt-To: <Annoyed@Example.net>
Arrival-Date: Fri, 20 Nov 2026 08:12:00 +0000
Reported-Domain: news.example.org
Source-IP: 203.0.113.10

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: CAR-T & Autoimmunity News <news@news.example.org>
To: annoyed@example.net
Subject: CAR-T & Autoimmunity News, November 2026
Message-ID: <edition-7.subscriber-31@news.example.org>
Date: Fri, 20 Nov 2026 08:11:58 +0000

What is new in CAR-T for lupus this month.

--part1_13d.2e68ed54_boundary--
"""

REPLY = b"""\
From: Ana <ana@example.org>
To: news@news.example.org
Subject: Re: CAR-T & Autoimmunity News, November 2026
Date: Fri, 20 Nov 2026 09:00:00 +0000
Message-ID: <reply-1@example.org>
Content-Type: text/plain; charset=utf-8

Thank you, the lupus story was very clear.
"""

TRUNCATED = HARD[: HARD.index(b"Final-Recipient: rfc822; gone") + 20]
GARBAGE = b"\x00\xff\xfe not mail at all \x1b[31m\r\n\r\n--\r\n"


def write_maildir(root: Path, mails: dict[str, bytes]) -> Path:
    """Half the mail in new/, half in cur/ (as a mail client leaves it), plus tmp/ noise."""
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for number, (name, raw) in enumerate(mails.items()):
        folder = "new" if number % 2 == 0 else "cur"
        suffix = "" if folder == "new" else ":2,S"
        (root / folder / f"1763633702.{name}.mail.news.example.org{suffix}").write_bytes(raw)
    (root / "tmp" / "1763633799.half-written").write_bytes(HARD)
    (root / "new" / ".hidden").write_bytes(HARD)
    return root


ALL_MAIL = {"hard": HARD, "full": MAILBOX_FULL, "delayed": DELAYED, "complaint": COMPLAINT,
            "reply": REPLY, "truncated": TRUNCATED, "garbage": GARBAGE}  # fmt: skip


# --- parsing: pure ------------------------------------------------------------------------


def test_postfix_hard_bounce_names_the_original_recipient_and_why() -> None:
    [notice] = parse_dsn(HARD)  # the delivered recipient in the same report is no bounce
    assert (notice.address, notice.kind) == ("Gone@Example.com", BounceKind.HARD)
    assert notice.diagnostic == (
        "smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected: "
        "User unknown in virtual mailbox table"
    )
    assert notice.reference == "<20261120101502.4F1A2B3C4D@mail.news.example.org>"
    assert notice.at is not None and notice.at.isoformat() == "2026-11-20T10:15:00+00:00"
    assert notice.detail["status"] == "5.1.1"
    assert notice.detail["original-message-id"] == "<edition-7.subscriber-12@news.example.org>"


def test_full_mailbox_and_delay_warning_are_soft() -> None:
    [full] = parse_dsn(MAILBOX_FULL)
    [delayed] = parse_dsn(DELAYED)
    assert (full.address, full.kind) == ("full@example.net", BounceKind.SOFT)
    assert full.diagnostic == "smtp; 452 4.2.2 Mailbox full"
    assert full.at is not None and full.at.isoformat() == "2026-11-19T06:00:10+00:00"
    assert (delayed.address, delayed.kind) == ("full@example.net", BounceKind.SOFT)
    assert "Connection timed out" in delayed.diagnostic


def test_arf_complaint_names_the_reader_who_complained() -> None:
    [notice] = parse_dsn(COMPLAINT)
    assert (notice.address, notice.kind) == ("Annoyed@Example.net", BounceKind.COMPLAINT)
    assert notice.reference == "<arf-20261120-1830-55@feedback.example.net>"
    assert notice.detail["feedback-type"] == "abuse"
    assert notice.detail["original-message-id"] == "<edition-7.subscriber-31@news.example.org>"
    # Without Original-Rcpt-To the address comes from the reported message's To.
    [from_to] = parse_dsn(COMPLAINT.replace(b"Original-Rcpt-To: <Annoyed@Example.net>\n", b""))
    assert from_to.address == "annoyed@example.net"
    assert parse_dsn(COMPLAINT.replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")) == []


def test_other_mail_and_broken_mail_are_no_bounces() -> None:
    for raw in (
        REPLY,
        TRUNCATED,
        GARBAGE,
        b"",
        HARD[:200],
        COMPLAINT[: COMPLAINT.index(b"Original-Rcpt-To")],
    ):
        assert parse_dsn(raw) == []


def test_a_report_without_message_id_is_known_by_its_hash() -> None:
    raw = HARD.replace(b"Message-Id: <20261120101502.4F1A2B3C4D@mail.news.example.org>\n", b"")
    [first], [again] = parse_dsn(raw), parse_dsn(raw)
    assert first.reference is not None and first.reference.startswith("sha256:")
    assert first.reference == again.reference


def test_read_maildir_reads_new_and_cur_only(tmp_path: Path) -> None:
    found = dict(read_maildir(write_maildir(tmp_path / "Maildir", ALL_MAIL)))
    assert len(found) == 7, "tmp/ and dot files are not mail yet"
    kinds = sorted(n.kind.value for notices in found.values() for n in notices)
    assert kinds == ["complaint", "hard", "soft", "soft"]
    with pytest.raises(NotFoundError, match="not a maildir"):
        read_maildir(tmp_path)


# --- recording and thresholds -------------------------------------------------------------


async def subscribe(db: Database, clock: Clock, *addresses: str) -> None:
    for address in addresses:
        await add_subscriber(db, clock, load_lexicon(), email=address, confirmed=True,
                             consent_source="test", actor="test")  # fmt: skip


async def statuses(db: Database) -> dict[str, SubscriberStatus]:
    async with db.session() as session:
        return {s.email: s.status for s in (await session.scalars(select(Subscriber))).all()}


async def count(db: Database, model: type[BounceEvent] | type[AuditEvent]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def on_day(day: int) -> Clock:
    return fixed_clock(NOW + timedelta(days=day))


@pytest.mark.both_databases
async def test_importing_a_maildir_moves_subscribers_once(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    await subscribe(db, clock, "gone@example.com", "full@example.net", "annoyed@example.net",
                    "reader@example.com")  # fmt: skip
    maildir = write_maildir(tmp_path / "Maildir", ALL_MAIL)
    notices = [n for _, found in read_maildir(maildir) for n in found]
    report = await record_bounces(db, clock, notices, source=BounceSource.DSN)
    assert report.recorded == 4 and report.duplicates == 0 and report.unknown == []
    assert await statuses(db) == {
        "gone@example.com": SubscriberStatus.BOUNCED,
        "full@example.net": SubscriberStatus.ACTIVE,  # two soft bounces are not yet three
        "annoyed@example.net": SubscriberStatus.COMPLAINED,
        "reader@example.com": SubscriberStatus.ACTIVE,
    }
    assert sorted((c.address, c.before, c.after) for c in report.status_changes) == [
        ("annoyed@example.net", SubscriberStatus.ACTIVE, SubscriberStatus.COMPLAINED),
        ("gone@example.com", SubscriberStatus.ACTIVE, SubscriberStatus.BOUNCED),
    ]
    audits = await count(db, AuditEvent)

    again = await record_bounces(db, clock, notices, source=BounceSource.DSN)
    assert (again.recorded, again.duplicates, again.status_changes) == (0, 4, [])
    assert await count(db, BounceEvent) == 4
    assert await count(db, AuditEvent) == audits, "nothing happened, so nothing is audited"


@pytest.mark.both_databases
async def test_status_changes_are_audited(db: Database, clock: Clock) -> None:
    await subscribe(db, clock, "gone@example.com")
    await record_bounces(db, clock, parse_dsn(HARD), source=BounceSource.DSN)
    async with db.session() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "subscriber_bounced")
        )
    assert event is not None and event.actor == "bounces:dsn"
    assert event.detail == {"before": "active", "reason": "1 hard bounce(s)"}


def soft(address: str = "ana@example.org") -> BounceNotice:
    return BounceNotice(address, BounceKind.SOFT, "452 4.2.2 Mailbox full")


@pytest.mark.both_databases
async def test_three_soft_bounces_within_30_days_bounce_the_address(
    db: Database, clock: Clock
) -> None:
    await subscribe(db, clock, "ana@example.org")
    for day in (0, 10):
        await record_bounces(db, on_day(day), [soft()], source=BounceSource.WEBHOOK)
    assert (await statuses(db))["ana@example.org"] == SubscriberStatus.ACTIVE
    third = await record_bounces(db, on_day(20), [soft()], source=BounceSource.WEBHOOK)
    assert (await statuses(db))["ana@example.org"] == SubscriberStatus.BOUNCED
    assert third.status_changes[0].reason == "3 soft bounces within 30 days"


@pytest.mark.both_databases
async def test_soft_bounces_spread_over_two_months_do_not(db: Database, clock: Clock) -> None:
    await subscribe(db, clock, "ana@example.org")
    for day in (0, 29, 59):
        report = await record_bounces(db, on_day(day), [soft()], source=BounceSource.WEBHOOK)
        assert report.status_changes == []
    assert (await statuses(db))["ana@example.org"] == SubscriberStatus.ACTIVE
    assert await count(db, BounceEvent) == 3, "every bounce is kept, counted or not"


@pytest.mark.both_databases
async def test_hard_bounce_and_complaint_act_at_once(db: Database, clock: Clock) -> None:
    await subscribe(db, clock, "ana@example.org", "ben@example.org", "cy@example.org")
    await record_bounces(db, clock, [BounceNotice("ANA@example.org", BounceKind.HARD),
                                     BounceNotice("ben@example.org", BounceKind.COMPLAINT)],
                         source=BounceSource.WEBHOOK)  # fmt: skip
    assert await statuses(db) == {"ana@example.org": SubscriberStatus.BOUNCED,
                                  "ben@example.org": SubscriberStatus.COMPLAINED,
                                  "cy@example.org": SubscriberStatus.ACTIVE}  # fmt: skip
    # A complaint outweighs an earlier bounce: the reader asked for no more mail.
    later = await record_bounces(db, clock, [BounceNotice("ana@example.org", BounceKind.COMPLAINT)],
                                 source=BounceSource.WEBHOOK)  # fmt: skip
    assert [(c.before, c.after) for c in later.status_changes] == [
        (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)
    ]


@pytest.mark.both_databases
async def test_unknown_and_unusable_addresses(db: Database, clock: Clock) -> None:
    notices = [*parse_dsn(HARD), BounceNotice("nope", BounceKind.HARD)]
    report = await record_bounces(db, clock, notices, source=BounceSource.DSN)
    assert report.unknown == ["gone@example.com"]
    assert report.outcomes == ["recorded (no subscriber)", "skipped: not an email address"]
    async with db.session() as session:
        event = await session.scalar(select(BounceEvent))
    assert event is not None and event.subscriber_id is None
    assert (event.address, event.kind, event.source) == ("gone@example.com", "hard", "dsn")


# --- the webhook ---------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings, clock: Clock, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def bearer(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {webhook_token(settings.site.secret_key.reveal())}"}


def test_webhook_wants_the_token(client: TestClient, settings: Settings) -> None:
    body = {"address": "ana@example.org", "type": "hard"}
    wrong = {"Authorization": "Bearer " + "0" * 64}
    basic = {"Authorization": "Basic " + bearer(settings)["Authorization"].split()[1]}
    for headers in ({}, wrong, basic, {"Authorization": "Bearer"}):
        answer = client.post("/webhooks/bounces", json=body, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "missing or wrong bearer token"
        assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "the body is not JSON"),
        (b'"hard"', "bounce 1 is not a JSON object"),
        (b'{"type": "hard"}', 'bounce 1 has no "address"'),
        (b'[{"address": "a@example.org", "type": "hard"}, {"address": "b@example.org"}]',
         "bounce 2 has \"type\" None; expected hard, soft or complaint"),
        (b'{"address": "a@example.org", "type": "hard", "diagnostic": 550}', "must be strings"),
        (b'{"address": "not an address", "type": "soft"}', "not a usable email address"),
    ],
)  # fmt: skip
def test_webhook_explains_a_bad_body(
    client: TestClient, settings: Settings, body: bytes, error: str
) -> None:
    answer = client.post("/webhooks/bounces", content=body, headers=bearer(settings))
    assert answer.status_code == 400
    assert error in answer.json()["error"] and answer.json()["hint"]


async def test_without_a_configured_key_the_webhook_keeps_one_token_across_restarts(
    settings: Settings, clock: Clock, db: Database
) -> None:
    """No CARNEWS_SITE_SECRET_KEY: the key made on first start is kept, not made anew."""
    keyless = replace(settings, site=SiteSettings(secret_key=Secret("")))
    body = {"address": "nobody@example.org", "type": "hard"}
    tokens = []
    for _ in range(2):  # two starts of the web app
        with TestClient(create_app(keyless, clock=clock)) as client:
            token = webhook_token(await site_key(db, keyless, clock))
            tokens.append(token)
            answer = client.post("/webhooks/bounces", json=body,
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert answer.status_code == 200, answer.text
    assert tokens[0] == tokens[1]


@pytest.mark.both_databases
async def test_webhook_records_one_or_many(
    client: TestClient, settings: Settings, db: Database, clock: Clock
) -> None:
    await subscribe(db, clock, "ana@example.org", "ben@example.org")
    body = {"address": "Ana@Example.org", "type": "soft", "id": "evt-1"}
    one = client.post("/webhooks/bounces", headers=bearer(settings), json=body)
    assert one.status_code == 200
    assert one.json() == {"recorded": 1, "duplicates": 0, "unknown": [], "status_changes": []}
    many = client.post("/webhooks/bounces", headers=bearer(settings), json=[
        {"address": "ana@example.org", "type": "soft", "id": "evt-1"},  # a retried delivery
        {"address": "ben@example.org", "type": "complaint", "diagnostic": "spam button"},
        {"address": "stranger@example.org", "type": "hard"},
    ])  # fmt: skip
    assert many.status_code == 200
    assert many.json() == {
        "recorded": 2, "duplicates": 1, "unknown": ["stranger@example.org"],
        "status_changes": [{"subscriber_id": 2, "address": "ben@example.org", "from": "active",
                            "to": "complained", "reason": "1 complaint(s)"}],
    }  # fmt: skip
    assert (await statuses(db))["ben@example.org"] == SubscriberStatus.COMPLAINED


async def diagnostics(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.scalars(select(BounceEvent.diagnostic))).all())


def _over_a_megabyte() -> Iterator[bytes]:
    yield b'[{"address": "a@example.org", "type": "hard", "diagnostic": "'
    for _ in range(1100):
        yield b"x" * 1024
    yield b'"}]'


@pytest.mark.both_databases
async def test_webhook_refuses_a_body_over_a_megabyte(
    client: TestClient, settings: Settings, db: Database
) -> None:
    """Declared or streamed (chunked, no Content-Length), a huge body is cut off at the cap."""
    declared = client.post("/webhooks/bounces", headers=bearer(settings),
                           content=b"".join(_over_a_megabyte()))  # fmt: skip
    streamed = client.post("/webhooks/bounces", headers=bearer(settings),
                           content=_over_a_megabyte())  # fmt: skip
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert "larger than" in answer.json()["error"] and answer.json()["hint"]
    assert await count(db, BounceEvent) == 0


DEEP = b'{"address": "a@example.org", "type": "hard", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}"


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (DEEP, "nested deeper than"),
        (b'{"address": "a@example.org", "type": "hard", "x": ' + b"[" * 40 + b"]" * 40 + b"}",
         "nested deeper than"),
        (b'{"address": "a@example.org", "type": "hard", "diagnostic": "bad \\ud800"}',
         "not valid Unicode"),
        (b'{"address": "a\\udfff@example.org", "type": "hard"}', "not valid Unicode"),
        (b'{"address": "a@example.org", "type": "hard", "id": "\\ud83d"}', "not valid Unicode"),
        (b'{"address": "a@example.org", "type": "hard", "id": "evt\\u0000"}', "NUL"),
    ],
    ids=["2000-deep", "40-deep", "surrogate-diagnostic", "surrogate-address", "surrogate-id",
         "nul-id"],
)  # fmt: skip
async def test_webhook_refuses_bodies_the_database_cannot_hold(
    client: TestClient, settings: Settings, db: Database, body: bytes, error: str
) -> None:
    """Deep nesting, lone surrogates and NULs are the sender's fault: a 400, nothing stored."""
    answer = client.post("/webhooks/bounces", content=body, headers=bearer(settings))
    assert answer.status_code == 400
    assert error in answer.json()["error"] and answer.json()["hint"]
    assert await count(db, BounceEvent) == 0


@pytest.mark.both_databases
async def test_webhook_keeps_the_start_of_a_long_diagnostic(
    client: TestClient, settings: Settings, db: Database, clock: Clock
) -> None:
    await subscribe(db, clock, "ana@example.org")
    diagnostic = "550 5.1.1 user unknown; " + "y" * 900_000
    answer = client.post("/webhooks/bounces", headers=bearer(settings),
                         json={"address": "ana@example.org", "type": "hard",
                               "diagnostic": diagnostic})  # fmt: skip
    assert answer.status_code == 200 and answer.json()["recorded"] == 1
    [stored] = await diagnostics(db)
    assert stored.startswith("550 5.1.1 user unknown; yyy") and len(stored) <= 2000


@pytest.mark.both_databases
async def test_recorded_text_is_clipped_and_storable_from_every_source(
    db: Database, clock: Clock
) -> None:
    """A DSN read from a maildir can carry a NUL or a huge header: stored clipped, without NUL."""
    notice = BounceNotice("ana@example.org", BounceKind.HARD, "550 gone\x00" + "z" * 50_000,
                          "ref-1", detail={"remote-mta": "dns; mx\x00" + "m" * 5000})  # fmt: skip
    report = await record_bounces(db, clock, [notice], source=BounceSource.DSN)
    assert report.recorded == 1
    async with db.session() as session:
        event = (await session.scalars(select(BounceEvent))).one()
    assert event.diagnostic.startswith("550 gone") and "\x00" not in event.diagnostic
    assert len(event.diagnostic) <= 2000
    assert "\x00" not in event.detail["remote-mta"] and len(event.detail["remote-mta"]) <= 2000


def test_parse_webhook_accepts_one_or_a_list() -> None:
    assert parse_webhook(b'{"address": "a@example.org", "type": "hard"}') == [
        BounceNotice("a@example.org", BounceKind.HARD)
    ]
    assert len(parse_webhook(b"[]")) == 0
    with pytest.raises(WebhookError, match="more than 1000"):
        parse_webhook(json.dumps([{"address": "a@example.org", "type": "hard"}] * 1001).encode())


def test_a_bad_webhook_body_is_a_webhook_error_not_a_subscriber_error() -> None:
    """The request is at fault, not a subscriber row: the error class says which failed."""
    with pytest.raises(WebhookError, match="bounce 1") as raised:
        parse_webhook(b'{"address": "not an address", "type": "hard"}')
    assert not isinstance(raised.value, SubscriberError)


# --- the command line ----------------------------------------------------------------------


def carnews(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    environment.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run([sys.executable, "-m", "carnews", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_cli_imports_a_maildir_and_prints_the_token(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    for address in ("gone@example.com", "full@example.net"):
        assert carnews(tmp_path, "subscribers", "add", address, "--confirmed").returncode == 0
    write_maildir(tmp_path / "Maildir", ALL_MAIL)
    first = carnews(tmp_path, "bounces", "import", "Maildir", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert len(data["files"]) == 7 and data["recorded"] == 4
    assert data["unknown"] == ["annoyed@example.net"]
    assert [(c["address"], c["to"]) for c in data["status_changes"]] == [
        ("gone@example.com", "bounced")
    ]
    again = carnews(tmp_path, "bounces", "import", "Maildir")
    assert "Recorded 0, already recorded 4" in again.stdout
    assert "Gone@Example.com hard: duplicate" in again.stdout and "not a bounce" in again.stdout

    missing = carnews(tmp_path, "bounces", "import", "nowhere")
    assert missing.returncode == 2 and "not a maildir" in missing.stderr
    token = carnews(tmp_path, "bounces", "token", env={"CARNEWS_SITE_SECRET_KEY": "k"})
    assert token.stdout == webhook_token("k") + "\n"
    kept = [carnews(tmp_path, "bounces", "token") for _ in range(2)]
    assert kept[0].returncode == 0 and kept[0].stdout == kept[1].stdout, "one key, kept"
    assert len(kept[0].stdout.strip()) == 64 and kept[0].stdout != token.stdout
    assert "Traceback" not in missing.stderr
