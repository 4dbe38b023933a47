"""Test sends, test mode and DKIM, through a real SMTP server on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dkim
import pytest
from sqlalchemy import func, select

from carnews.clock import Clock
from carnews.editions.review import approve, draft_edition
from carnews.errors import ConfigError
from carnews.mail.deliver import send_edition
from carnews.mail.message import signer_for
from carnews.mail.testsend import send_test, send_test_mode
from carnews.settings import MailSettings, Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import Delivery, Edition, EditionState, Subscriber
from tests.helpers import add_stories, inbox, smtp_server, subscribe


async def drafted(db: Database, clock: Clock) -> int:
    await add_stories(db, clock(), [("Lupus news", ["lupus"]), ("Myositis news", ["myositis"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    return result.edition_id


def with_mail(settings: Settings, port: int, **mail: str) -> Settings:
    return replace(
        settings,
        smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5),
        mail=MailSettings(from_address="news@carnews.test", **mail),
    )


async def ledger_rows(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_a_test_send_reaches_only_the_editor_and_records_nothing(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await drafted(db, clock)  # still a draft: tests come before approval
    await subscribe(db, clock, "reader@example.org")
    with smtp_server(tmp_path / "mail") as port:
        report = await send_test(
            db,
            with_mail(settings, port),
            clock,
            edition_id,
            ["Editor@Example.org", "bounce@example.org"],
            actor="ed",
        )
    assert report.sent == ("editor@example.org",)
    assert report.refused[0][0] == "bounce@example.org" and "550" in report.refused[0][1]
    (message,) = inbox(tmp_path / "mail")
    assert str(message["Subject"]).startswith("[TEST] ")
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Lupus news" in body and "Myositis news" in body
    assert await ledger_rows(db) == 0
    async with db.session() as session:
        assert (await session.get_one(Edition, edition_id)).state == EditionState.DRAFT


async def test_test_mode_sends_each_reader_variant_to_one_address(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await drafted(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    for address, diseases in (
        ("a@example.org", ["lupus"]),
        ("b@example.org", ["lupus"]),
        ("c@example.org", []),
        ("d@example.org", ["myositis"]),
    ):
        await subscribe(db, clock, address, diseases)
    with smtp_server(tmp_path / "mail") as port:
        configured = with_mail(settings, port, test_mode_address="qa@example.org")
        report = await send_test_mode(db, configured, clock, edition_id, actor="op")
    messages = inbox(tmp_path / "mail")
    assert len(report.sent) == 3 and {str(m["To"]) for m in messages} == {"qa@example.org"}
    assert {str(m["X-Carnews-Original-To"]) for m in messages} == {
        "a@example.org",
        "c@example.org",
        "d@example.org",
    }
    assert await ledger_rows(db) == 0
    # The mails carry no real reader's unsubscribe link, in the body or the headers.
    async with db.session() as session:
        tokens = (await session.scalars(select(Subscriber.unsubscribe_token))).all()
    for message in messages:
        raw = message.as_string()
        assert "/unsubscribe/test-send" in raw
        assert not any(token in raw for token in tokens)


def make_key(folder: Path) -> tuple[Path, bytes]:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, public


async def test_dkim_signed_messages_verify(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    import base64

    key, public = make_key(tmp_path)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    edition_id = await drafted(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    await subscribe(db, clock, "reader@example.org")
    with smtp_server(tmp_path / "mail") as port:
        signed = with_mail(
            settings, port, dkim_domain="carnews.test", dkim_selector="mail", dkim_key_file=str(key)
        )
        await send_edition(db, signed, clock, edition_id, actor="t")
    (path,) = sorted((tmp_path / "mail").glob("*.eml"))
    raw = path.read_bytes()
    assert raw.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.carnews.test."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"Lupus news", b"Lupus NEWS", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_half_a_dkim_setup_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="together"):
        signer_for(MailSettings(dkim_domain="carnews.test"))
    with pytest.raises(ConfigError, match="cannot be read"):
        signer_for(
            MailSettings(
                dkim_domain="d", dkim_selector="s", dkim_key_file=str(tmp_path / "missing.pem")
            )
        )


async def test_a_test_send_to_international_addresses(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await drafted(db, clock)
    with smtp_server(tmp_path / "mail", enable_SMTPUTF8=True) as port:
        report = await send_test(db, with_mail(settings, port), clock, edition_id,
                                 ["ann@exämple.org", "jörg@exämple.org"], actor="ed")  # fmt: skip
    assert report.sent == ("ann@xn--exmple-cua.org", "jörg@exämple.org"), report.refused
    assert sorted(str(m["To"]) for m in inbox(tmp_path / "mail")) == list(report.sent)
