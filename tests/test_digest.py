"""The monthly digest: one mail a month of the month's sent stories, through the same
review gate and the same exactly-once ledger as every edition."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from carnews.audience.manage import Change, update_subscriber
from carnews.clock import Clock, fixed_clock
from carnews.curate.lexicon import load_lexicon
from carnews.editions.digest import Month
from carnews.editions.publish import sent_edition_views
from carnews.editions.review import approve, draft_edition
from carnews.errors import EditionStateError
from carnews.jobs import draft_digest, send_all_due, send_due
from carnews.mail.claims import Holder, claim_batch, this_process
from carnews.mail.deliver import send_edition, start_sending
from carnews.mail.recovery import mark_abandoned, resolve_unknown
from carnews.settings import Settings, replace
from carnews.storage import Database
from carnews.storage.models import Subscriber
from tests.cli_helpers import assert_clean_failure, carnews
from tests.helpers import add_stories, inbox, smtp_server, subscribe
from tests.test_deliver import with_smtp
from tests.test_recovery import dead_pid

pytestmark = pytest.mark.both_databases
NOVEMBER = fixed_clock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
DECEMBER = fixed_clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))


async def monthly(db: Database, clock: Clock, address: str, diseases: Sequence[str] = ()) -> None:
    """An active reader who chose the monthly digest."""
    await subscribe(db, clock, address, diseases)
    async with db.read() as session:
        subscriber_id = await session.scalar(
            select(Subscriber.id).where(Subscriber.email == address)
        )
    assert subscriber_id is not None
    await update_subscriber(db, clock, load_lexicon(), subscriber_id, Change(frequency="monthly"),
                            actor="test")  # fmt: skip


async def november_sent(db: Database, settings: Settings, mail: Path, port: int) -> None:
    """Two editions sent in November: lupus and myositis news, then safety news for all."""
    await add_stories(db, NOVEMBER(), [("Lupus news", ["lupus"]), ("Myositis news", ["myositis"]),
                                       ("Safety news", [])])  # fmt: skip
    for max_stories in (2, 5):
        drafted = await draft_edition(db, NOVEMBER, lookback_days=14, max_stories=max_stories,
                                      title="N", actor="e")  # fmt: skip
        assert drafted.edition_id is not None
        await approve(db, NOVEMBER, drafted.edition_id, "Dr Jane")
        outcome = await send_due(db, with_smtp(settings, port), NOVEMBER, drafted.edition_id,
                                 actor="t")  # fmt: skip
        assert outcome.report is not None and outcome.report.finished


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def received(mail: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in inbox(mail):
        stories = [name for name in ("Lupus news", "Myositis news", "Safety news")
                   if name in plain_text(message)]  # fmt: skip
        found.setdefault(str(message["To"]), []).append(f"{message['Subject']}: {stories}")
    return found


async def test_monthly_readers_get_one_digest_and_no_edition(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    await subscribe(db, NOVEMBER, "every@example.org")
    await monthly(db, NOVEMBER, "all@example.org")
    await monthly(db, NOVEMBER, "lupus@example.org", ["lupus"])
    with smtp_server(mail) as port:
        await november_sent(db, settings, mail, port)
        assert set(received(mail)) == {"every@example.org"}, "editions skip monthly readers"
        digest = await draft_digest(db, settings, DECEMBER, actor="t")
        assert digest is not None and digest.edition_id is not None
        assert (digest.month, digest.story_count, digest.created) == ("2026-11", 3, True)
        await approve(db, DECEMBER, digest.edition_id, "Dr Jane")
        first = await send_all_due(db, with_smtp(settings, port), DECEMBER, actor="t")
        again = await send_all_due(db, with_smtp(settings, port), DECEMBER, actor="t")
        redrafted = await draft_digest(db, settings, DECEMBER, actor="t")
    assert [o.report.sent for o in first if o.report] == [2] and again == []
    assert redrafted is not None
    assert (redrafted.edition_id, redrafted.reason) == (digest.edition_id, "already drafted")
    got = received(mail)
    title = settings.site.title
    assert got["all@example.org"] == [
        f"{title} — November 2026 digest: ['Lupus news', 'Myositis news', 'Safety news']"
    ]
    assert got["lupus@example.org"] == [
        f"{title} — November 2026 digest: ['Lupus news', 'Safety news']"
    ]
    assert len(got["every@example.org"]) == 2, "and no digest for readers of every edition"
    web_links = {str(m["To"]): "Read on the web" in plain_text(m) for m in inbox(mail)}
    assert web_links == {"every@example.org": True, "all@example.org": False,
                         "lupus@example.org": False}, "a digest has no page to link"  # fmt: skip
    archive = await sent_edition_views(db, settings.site)
    assert digest.edition_id not in [view.edition_id for view in archive], "not republished"


async def test_a_digest_waits_for_an_editors_approval(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    await monthly(db, NOVEMBER, "all@example.org")
    with smtp_server(tmp_path / "mail") as port:
        await november_sent(db, settings, tmp_path / "mail", port)
        digest = await draft_digest(db, settings, DECEMBER, actor="t")
        assert digest is not None and digest.edition_id is not None
        with pytest.raises(EditionStateError, match="not approved"):
            await send_due(db, with_smtp(settings, port), DECEMBER, digest.edition_id, actor="t")
        assert await send_all_due(db, with_smtp(settings, port), DECEMBER, actor="t") == []
    assert inbox(tmp_path / "mail") == []


async def test_months_not_over_or_without_news(db: Database, settings: Settings) -> None:
    with pytest.raises(EditionStateError, match="not over yet"):
        await draft_digest(db, settings, NOVEMBER, month=Month(2026, 11), actor="t")
    empty = await draft_digest(db, settings, DECEMBER, actor="t")
    assert empty is not None and empty.edition_id is None
    assert empty.reason == "no edition was sent in November 2026"
    assert await draft_digest(db, settings, DECEMBER, actor="t", only_if_wanted=True) is None


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026-11-01", "", "2026-00"])
def test_a_month_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(EditionStateError, match="not a month"):
        Month.parse(text)


def test_the_last_month_that_is_over() -> None:
    assert str(Month.before(datetime(2027, 1, 1, tzinfo=UTC))) == "2026-12"
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)


async def test_a_digest_sender_that_died_mid_batch_resumes_each_reader_exactly_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """In the style of test_recovery: a dead holder's claimed rows are 'unknown', never
    re-sent on a guess; once the operator decides, the rest go, each reader once."""
    mail = tmp_path / "mail"
    readers = [f"monthly{n}@example.org" for n in range(3)]
    for address in readers:
        await monthly(db, NOVEMBER, address)
    with smtp_server(mail) as port:
        await november_sent(db, settings, mail, port)
        digest = await draft_digest(db, settings, DECEMBER, actor="t")
        assert digest is not None and digest.edition_id is not None
        await approve(db, DECEMBER, digest.edition_id, "Dr Jane")
        assert await start_sending(db, DECEMBER, digest.edition_id, "t") == 3
        dead = Holder(this_process().host, dead_pid())
        assert len(await claim_batch(db, digest.edition_id, DECEMBER(), "x.test", dead)) == 3
        stopped = await send_edition(db, with_smtp(settings, port), DECEMBER, digest.edition_id,
                                     actor="t")  # fmt: skip
        assert (stopped.sent, stopped.unknown, stopped.finished) == (0, 3, False)
        assert inbox(mail) == []
        await mark_abandoned(db, DECEMBER, digest.edition_id, 900, "t")
        await resolve_unknown(db, DECEMBER, digest.edition_id, as_sent=False, actor="op")
        resumed = await send_edition(db, with_smtp(settings, port), DECEMBER, digest.edition_id,
                                     actor="t")  # fmt: skip
        after = await send_edition(db, with_smtp(settings, port), DECEMBER, digest.edition_id,
                                   actor="t")  # fmt: skip
    assert (resumed.sent, resumed.finished, after.sent) == (3, True, 3)
    assert sorted(str(m["To"]) for m in inbox(mail)) == readers, "one copy each"


def test_the_digest_command(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    assert_clean_failure(carnews(tmp_path, "digest", "draft", "--month", "2026-13"),
                         "'2026-13' is not a month", "YYYY-MM")  # fmt: skip
    drafted = carnews(tmp_path, "digest", "draft", "--month", "2026-10", "--json")
    assert drafted.returncode == 0, drafted.stderr
    assert json.loads(drafted.stdout) == {
        "month": "2026-10", "edition_id": None, "story_count": 0, "created": False,
        "reason": "no edition was sent in October 2026",
    }  # fmt: skip


def test_the_scheduler_drafts_the_digest_daily(settings: Settings, db: Database) -> None:
    from datetime import UTC, datetime

    from carnews.schedule import build_scheduler

    jobs = {job.id: job for job in build_scheduler(db, settings, DECEMBER).get_jobs()}
    fires = jobs["digest"].trigger.get_next_fire_time(None, datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert fires == datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # every day at 06:30


async def test_test_mode_shows_each_kind_of_mail_to_its_own_readers_only(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Test mode sends one example per kind of reader: an edition's examples are readers
    of every edition, a digest's are readers of the digest."""
    await subscribe(db, NOVEMBER, "every@example.org", ["myositis"])
    await monthly(db, NOVEMBER, "lupus@example.org", ["lupus"])
    with smtp_server(tmp_path / "sent") as port:
        await november_sent(db, settings, tmp_path / "sent", port)
        digest = await draft_digest(db, settings, DECEMBER, actor="t")
        assert digest is not None and digest.edition_id is not None
        await approve(db, DECEMBER, digest.edition_id, "Dr Jane")
        test_mode = with_smtp(settings, port)
        test_mode = replace(test_mode, mail=replace(test_mode.mail, test_mode_address="qa@x.org"))
        await send_due(db, test_mode, DECEMBER, digest.edition_id, actor="t")
    examples = [str(m["X-Carnews-Original-To"]) for m in inbox(tmp_path / "sent")
                if str(m["To"]) == "qa@x.org"]  # fmt: skip
    assert examples == ["lupus@example.org"]
