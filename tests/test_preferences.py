"""The preferences page, self-service privacy, and every unsubscribe route: what a reader
does with their own subscription, and what an operator does for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from carnews.audience.privacy import block_address
from carnews.audience.subscriptions import import_csv
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.mail.deliver import send_edition, start_sending
from carnews.mail.webhook import webhook_token
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import AuditEvent, Delivery, DeliveryState, SuppressedAddress
from carnews.storage.models import SubscriberStatus as Status
from tests.conftest import NOW
from tests.helpers import inbox, smtp_server, subscribe
from tests.signup_helpers import (
    MovableClock,
    confirm,
    confirmation_tokens,
    form_token,
    sign_up,
    signup_app,
    subscriber_named,
)
from tests.test_deliver import approved_edition, with_smtp

pytestmark = pytest.mark.both_databases
KEY = "test-secret"  # the site key of the ``settings`` fixture


async def token_of(db: Database, address: str) -> str:
    found = await subscriber_named(db, address)
    assert found is not None
    return found.unsubscribe_token


async def test_preferences_change_choices_on_post_only(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "ana@example.org", ["lupus"])
    token = await token_of(db, "ana@example.org")
    with signup_app(settings, MovableClock(NOW), tmp_path / "mail") as client:
        page = client.get(f"/preferences/{token}")
        assert page.status_code == 200 and "ana@example.org" in page.text
        field = form_token(client, f"/preferences/{token}")
        saved = client.post(f"/preferences/{token}", data={
            "csrf_token": field, "name": "Ana", "diseases": ["myositis", "systemic sclerosis"],
            "frequency": "monthly"})  # fmt: skip
        assert saved.status_code == 200 and "saved" in saved.text
        forged = client.post(f"/preferences/{token}", data={"name": "Mallory"})
        assert forged.status_code == 403, "no CSRF token, no change"
        hostile = client.post(f"/preferences/{token}", data={"csrf_token": field,
                              "name": "<script>x</script>"})  # fmt: skip
        assert hostile.status_code == 400 and "<script>" not in hostile.text
        assert client.get("/preferences/not-a-token-at-all-0000000").status_code == 404
    kept = await subscriber_named(db, "ana@example.org")
    assert kept is not None
    assert (kept.name, kept.diseases, kept.frequency) == (
        "Ana", ["myositis", "systemic sclerosis"], "monthly")  # fmt: skip


async def test_unsubscribe_then_resubscribe_needs_a_fresh_confirmation(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "ana@example.org")
    token = await token_of(db, "ana@example.org")
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        client.get(f"/unsubscribe/{token}")
        left = await subscriber_named(db, "ana@example.org")
        assert left is not None and left.status == Status.ACTIVE, "a GET changes nothing"
        assert client.post(f"/unsubscribe/{token}").status_code == 200
        field = form_token(client, f"/preferences/{token}")
        asked = client.post(f"/preferences/{token}/resubscribe", data={"csrf_token": field})
        assert asked.status_code == 200 and "sent you an email" in asked.text
        gone = await subscriber_named(db, "ana@example.org")
        assert gone is not None and gone.status == Status.UNSUBSCRIBED
        [link] = confirmation_tokens(mail)
        assert confirm(client, link).status_code == 200
    back = await subscriber_named(db, "ana@example.org")
    assert back is not None and back.status == Status.ACTIVE
    assert back.consent_source == "preferences"


async def test_email_me_my_data_sends_everything_stored_to_that_address(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "ana@example.org", ["lupus"])
    token = await token_of(db, "ana@example.org")
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail, mails_per_address_per_day=1) as client:
        field = form_token(client, f"/preferences/{token}")
        sent = client.post(f"/preferences/{token}/export", data={"csrf_token": field})
        assert sent.status_code == 200 and "emailed you" in sent.text
        again = client.post(f"/preferences/{token}/export", data={"csrf_token": field})
        assert again.status_code == 429, "the export cannot be used to flood the mailbox"
    [message] = inbox(mail)
    assert str(message["To"]) == "ana@example.org"
    [attachment] = list(message.iter_attachments())
    data = json.loads(attachment.get_content())
    assert data["email"] == "ana@example.org" and data["diseases"] == ["lupus"]
    assert data["status"] == "active" and data["frequency"] == "edition"
    assert data["consent"] == {"source": "test", "at": NOW.isoformat(), "ip": None}
    assert set(data) >= {"deliveries", "bounces", "confirmation_links", "created_at"}
    assert [event["action"] for event in data["history"]] == ["subscriber_add"]


async def test_erase_keeps_only_a_keyed_hash_and_an_import_cannot_re_add(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "ana@example.org", ["lupus"])
    token = await token_of(db, "ana@example.org")
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        field = form_token(client, f"/preferences/{token}")
        erased = client.post(f"/preferences/{token}/erase", data={"csrf_token": field})
        assert erased.status_code == 200 and "erased" in erased.text
        assert client.get(f"/preferences/{token}").status_code == 404
    assert await subscriber_named(db, "ana@example.org") is None
    async with db.read() as session:
        kept = (await session.scalars(select(SuppressedAddress))).all()
        audit_text = json.dumps([(a.object_id, a.detail) for a in
                                 (await session.scalars(select(AuditEvent))).all()])  # fmt: skip
    assert [row.reason for row in kept] == ["erased"]
    assert "ana" not in kept[0].address_hash and len(kept[0].address_hash) == 64
    assert "ana@example.org" not in audit_text

    report = await import_csv(db, clock, load_lexicon(), "email\nana@example.org\nbo@example.org\n",
                              confirmed=True, actor="t", site_key=KEY)  # fmt: skip
    assert report.added == 1 and report.rejected[0][1:] == (
        "ana@example.org",
        "erased or blocked: only its owner can sign up again, through the form",
    )
    assert await subscriber_named(db, "ana@example.org") is None

    with signup_app(settings, MovableClock(NOW), mail) as client:
        sign_up(client, "ana@example.org")
        assert confirm(client, confirmation_tokens(mail)[-1]).status_code == 200
    back = await subscriber_named(db, "ana@example.org")
    assert back is not None and back.status == Status.ACTIVE, "the form with a confirmation may"
    async with db.read() as session:
        assert (await session.scalars(select(SuppressedAddress))).all() == []


async def test_a_blocked_address_gets_no_confirmation_and_the_page_says_nothing(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await block_address(db, clock, KEY, "troll@example.org", actor="t")
    mail = tmp_path / "mail"
    with signup_app(settings, MovableClock(NOW), mail) as client:
        blocked = sign_up(client, "troll@example.org").text
        other = sign_up(client, "other@example.org").text
    assert blocked.replace("troll@", "X@") == other.replace("other@", "X@")
    assert [str(m["To"]) for m in inbox(mail)] == ["other@example.org"]


async def test_an_unsubscribe_wins_over_a_message_already_queued(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    for address in ("stays@example.org", "leaves@example.org"):
        await subscribe(db, clock, address)
    await start_sending(db, clock, edition_id, "t")
    token = await token_of(db, "leaves@example.org")
    with signup_app(settings, MovableClock(NOW), tmp_path / "web") as client:
        assert client.post(f"/unsubscribe/{token}").status_code == 200
    with smtp_server(tmp_path / "mail") as port:
        report = await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    assert [str(m["To"]) for m in inbox(tmp_path / "mail")] == ["stays@example.org"]
    assert report.finished
    async with db.read() as session:
        states = {row.state for row in (await session.scalars(select(Delivery))).all()}
    assert states == {DeliveryState.SENT, DeliveryState.FAILED_PERMANENT}


async def test_the_unsubscribe_webhook_takes_addresses_with_the_bearer_token(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await subscribe(db, clock, "ana@example.org")
    with signup_app(settings, MovableClock(NOW), tmp_path / "mail") as client:
        body = [{"address": "Ana@Example.org"}, {"address": "nobody@example.org"}]
        refused = client.post("/webhooks/unsubscribes", json=body)
        assert refused.status_code == 401
        auth = {"authorization": f"Bearer {webhook_token(KEY)}"}
        bad = client.post("/webhooks/unsubscribes", json=[{"address": "x\r\n"}], headers=auth)
        assert bad.status_code == 400
        done = client.post("/webhooks/unsubscribes", json=body, headers=auth)
        assert done.json() == {"unsubscribed": 1, "unknown": 1}
    gone = await subscriber_named(db, "ana@example.org")
    assert gone is not None and gone.status == Status.UNSUBSCRIBED
