"""Sign-up through the form: double opt-in, a page that reveals nothing, hostile input,
rate limits, and confirmation links that expire, work once and cannot be forged."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnews.clock import Clock
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import SubscriberStatus
from tests.conftest import NOW
from tests.helpers import inbox, subscribe
from tests.signup_helpers import (
    MovableClock,
    confirm,
    confirmation_tokens,
    form_token,
    sign_up,
    signup_app,
    subscriber_count,
    subscriber_named,
)

pytestmark = pytest.mark.both_databases


async def test_sign_up_mails_a_link_and_only_the_link_makes_the_reader_active(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(NOW)
    mail = tmp_path / "mail"
    with signup_app(settings, clock, mail) as client:
        answer = sign_up(client, "Ana@Example.org", name="Ana María", diseases=["lupus"],
                         frequency="monthly")  # fmt: skip
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        pending = await subscriber_named(db, "ana@example.org")
        assert pending is not None and pending.status == SubscriberStatus.PENDING
        [message] = inbox(mail)
        assert str(message["To"]) == "ana@example.org"
        assert "List-Unsubscribe" not in message and message["Auto-Submitted"]
        [token] = confirmation_tokens(mail)

        shown = client.get(f"/confirm/{token}")
        assert shown.status_code == 200 and "Confirm my subscription" in shown.text
        still = await subscriber_named(db, "ana@example.org")
        assert still is not None and still.status == SubscriberStatus.PENDING, (
            "GET confirms nothing"
        )

        done = confirm(client, token)
        assert done.status_code == 200 and "You are subscribed" in done.text
        active = await subscriber_named(db, "ana@example.org")
        assert active is not None and active.status == SubscriberStatus.ACTIVE
        assert (active.name, active.diseases, active.frequency) == ("Ana María", ["lupus"],
                                                                    "monthly")  # fmt: skip
        assert (active.consent_source, active.consent_at, active.confirmed_at) == ("form", NOW,
                                                                                   NOW)  # fmt: skip
        assert active.consent_ip is None, "the IP is kept only when the setting says so"
        assert f"/preferences/{active.unsubscribe_token}" in done.text

        again = client.get(f"/confirm/{token}")
        assert again.status_code == 410 and "already used" in again.text


async def test_the_ip_is_kept_only_when_the_operator_turns_it_on(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with signup_app(settings, MovableClock(NOW), tmp_path / "m", record_consent_ip=True) as client:
        sign_up(client, "ip@example.org")
    kept = await subscriber_named(db, "ip@example.org")
    assert kept is not None and kept.consent_ip == "testclient"


async def test_the_page_is_the_same_for_a_known_address_and_changes_nothing(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "known@example.org", ["myositis"])
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        known = sign_up(client, "known@example.org", diseases=["lupus"]).text
        new = sign_up(client, "new@example.org", diseases=["lupus"]).text
    assert known.replace("known@", "X@") == new.replace("new@", "X@")
    assert sorted(str(m["To"]) for m in inbox(mail)) == ["known@example.org", "new@example.org"]
    kept = await subscriber_named(db, "known@example.org")
    assert kept is not None and kept.diseases == ["myositis"], "a stranger's form changes nothing"


async def test_an_expired_or_forged_link_is_refused_with_a_clear_page(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(NOW)
    mail = tmp_path / "mail"
    with signup_app(settings, clock, mail) as client:
        sign_up(client, "late@example.org")
        [token] = confirmation_tokens(mail)
        clock.advance(days=3, seconds=1)
        expired = client.get(f"/confirm/{token}")
        assert expired.status_code == 410 and "expired" in expired.text
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/confirm/{tampered}").status_code == 404
        assert client.get("/confirm/../../etc/passwd").status_code == 404
        token_field = form_token(client)
        posted = client.post(f"/confirm/{token}", data={"csrf_token": token_field})
        assert posted.status_code == 410
    late = await subscriber_named(db, "late@example.org")
    assert late is not None and late.status == SubscriberStatus.PENDING


async def test_a_link_sent_before_an_unsubscribe_cannot_bring_the_reader_back(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(NOW)
    mail = tmp_path / "mail"
    with signup_app(settings, clock, mail) as client:
        sign_up(client, "twice@example.org")
        sign_up(client, "twice@example.org")
        first, second = confirmation_tokens(mail)
        assert confirm(client, first).status_code == 200
        assert client.get(f"/confirm/{second}").status_code == 410, "one confirmation spends all"
        sign_up(client, "gone@example.org")
        [*_, early] = confirmation_tokens(mail)
        clock.advance(minutes=5)
        pending = await subscriber_named(db, "gone@example.org")
        assert pending is not None
        assert client.post(f"/unsubscribe/{pending.unsubscribe_token}").status_code == 200
        refused = confirm(client, early)
        assert refused.status_code == 410 and "before you unsubscribed" in refused.text


HOSTILE = [
    ("email", "a" * 300 + "@example.org"),
    ("email", "ana@example.org\r\nBcc: victim@example.org"),
    ("email", "<script>alert(1)</script>@example.org"),
    ("email", "x'; DROP TABLE subscribers; --@example.org"),
    ("email", "ana\x00@example.org"),
    ("name", "N" * 5000),
    ("name", "Ana\r\nBcc: victim@example.org"),
    ("name", "<script>alert(1)</script>"),
    ("name", "Robert'); DROP TABLE subscribers;--"),
    ("name", "Ana\x1b[31m"),
    ("diseases", "<b>lupus</b>"),
    ("diseases", "x" * 10_000),
    ("frequency", "hourly"),
    ("frequency", "edition\r\n"),
    ("consent", "<script>"),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE)
async def test_hostile_input_is_a_4xx_stores_nothing_and_is_not_echoed(
    db: Database, settings: Settings, tmp_path: Path, field: str, value: str
) -> None:
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        fields = {"email": "ok@example.org", field: value}
        answer = sign_up(client, **fields)
    assert 400 <= answer.status_code < 500
    assert "<script>" not in answer.text and "\x1b" not in answer.text
    assert value not in answer.text or value in ("hourly",)
    assert "correct" in answer.text.lower() or "could not" in answer.text.lower()
    assert await subscriber_count(db) == 0 and inbox(mail) == []


async def test_invalid_utf8_oversized_bodies_and_the_honeypot_are_refused(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        token = form_token(client)
        raw = f"csrf_token={token}&email=ok%40example.org&consent=yes&name=%FF%FEAna".encode()
        form_type = {"content-type": "application/x-www-form-urlencoded"}
        bad_utf8 = client.post("/subscribe", content=raw, headers=form_type)
        assert bad_utf8.status_code == 400 and "UTF-8" in bad_utf8.text
        huge = client.post("/subscribe", data={"csrf_token": token, "email": "a" * 20_000})
        assert huge.status_code == 413
        bot = sign_up(client, "bot@example.org", website="http://spam.example")
        assert bot.status_code == 400
        no_consent = sign_up(client, "ok@example.org", consent="")
        assert no_consent.status_code == 400 and "Tick the box" in no_consent.text
        assert 'aria-describedby="consent-error"' in no_consent.text
        no_csrf = client.post("/subscribe", data={"email": "ok@example.org", "consent": "yes"})
        assert no_csrf.status_code == 403
    assert await subscriber_count(db) == 0 and inbox(mail) == []


async def test_one_address_gets_at_most_the_daily_number_of_mails(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(NOW)
    mail = tmp_path / "mail"
    with signup_app(settings, clock, mail, mails_per_address_per_day=3) as client:
        pages = {sign_up(client, "stranger@example.org").text for _ in range(6)}
        assert len(inbox(mail)) == 3, "nobody can mail-bomb a stranger through the form"
        assert len(pages) == 1, "the page does not tell that the limit was reached"
        clock.advance(days=1, seconds=1)
        sign_up(client, "stranger@example.org")
    assert len(inbox(mail)) == 4


async def test_one_ip_may_send_only_so_many_sign_ups_an_hour(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    clock = MovableClock(NOW)
    mail = tmp_path / "mail"
    with signup_app(settings, clock, mail, signups_per_ip_per_hour=2) as client:
        assert sign_up(client, "one@example.org").status_code == 200
        assert sign_up(client, "two@example.org").status_code == 200
        refused = sign_up(client, "three@example.org")
        assert refused.status_code == 429 and "too many sign-ups" in refused.text
        clock.advance(hours=1, seconds=1)
        assert sign_up(client, "three@example.org").status_code == 200
    assert len(inbox(mail)) == 3


async def test_every_public_page_links_to_the_sign_up(settings: Settings, tmp_path: Path) -> None:
    with signup_app(settings, MovableClock(NOW), tmp_path / "mail") as client:
        for path in ("/", "/subscribe"):
            assert 'href="http://news.test/subscribe"' in client.get(path).text
