"""Sending through a relay that wants TLS and a login, as real relays on 587 and 465 do.

The relay is aiosmtpd with a certificate made here by openssl for 127.0.0.1; carnews
trusts it through ``smtp.ca_file``, as an operator would trust a private relay's CA.
"""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from carnews.clock import Clock
from carnews.editions.review import approve, draft_edition
from carnews.errors import DeliveryError
from carnews.mail.deliver import send_edition
from carnews.settings import Secret, Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import Delivery, DeliveryState
from tests.helpers import RefusingHandler, add_stories, inbox, smtp_server, subscribe

LOGIN, PASSWORD = "carnews", "relay-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "relay.pem", folder / "relay.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


class RecordingRelay(RefusingHandler):
    """Keeps mail, and notes whether each message came over TLS and from whom."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.sessions: list[tuple[bool, str | None]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login.decode() if session.auth_data else None
        over_tls = session.ssl is not None or server.transport.get_extra_info("ssl_object")
        self.sessions.append((bool(over_tls), login))
        return await super().handle_DATA(server, session, envelope)


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        LOGIN.encode(), PASSWORD.encode())  # fmt: skip
    return AuthResult(success=ok, handled=False, auth_data=data)


AUTH = {"authenticator": check_login, "auth_required": True, "auth_require_tls": True}


async def edition_with_readers(db: Database, clock: Clock, count: int) -> int:
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    await approve(db, clock, result.edition_id, "Dr Jane")
    for number in range(count):
        await subscribe(db, clock, f"reader{number}@example.org")
    return result.edition_id


def relay_settings(settings: Settings, port: int, security: str, ca_file: Path | None,
                   password: str = PASSWORD) -> Settings:  # fmt: skip
    smtp = SmtpSettings(host="127.0.0.1", port=port, security=security,  # type: ignore[arg-type]
                        ca_file=str(ca_file or ""), username=LOGIN, password=Secret(password),
                        timeout_seconds=5, concurrency=2)  # fmt: skip
    return replace(settings, smtp=smtp)


async def test_starttls_relay_with_login(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    edition_id = await edition_with_readers(db, clock, 5)
    relay = RecordingRelay(tmp_path / "mail")
    options = {"tls_context": server_context(certificate), "require_starttls": True, **AUTH}
    with smtp_server(tmp_path / "mail", relay, **options) as port:
        configured = relay_settings(settings, port, "starttls", certificate[0])
        report = await send_edition(db, configured, clock, edition_id, actor="t")
    assert (report.sent, report.finished) == (5, True)
    assert len(inbox(tmp_path / "mail")) == 5
    assert set(relay.sessions) == {(True, LOGIN)}, "every message over TLS, logged in"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_relay_with_login(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    edition_id = await edition_with_readers(db, clock, 3)
    relay = RecordingRelay(tmp_path / "mail")
    # aiosmtpd only counts STARTTLS as TLS when offering AUTH; here TLS is the whole
    # connection, so its "AUTH only over TLS" check is relaxed, not the login itself.
    options = {"ssl_context": server_context(certificate), **AUTH, "auth_require_tls": False}
    with smtp_server(tmp_path / "mail", relay, **options) as port:
        configured = relay_settings(settings, port, "tls", certificate[0])
        report = await send_edition(db, configured, clock, edition_id, actor="t")
    assert (report.sent, report.finished) == (3, True)
    assert set(relay.sessions) == {(True, LOGIN)}


@pytest.mark.parametrize("problem", ["untrusted certificate", "wrong password"])
async def test_a_relay_that_cannot_be_trusted_or_logged_into_loses_nothing(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path,
    certificate: tuple[Path, Path], problem: str,
) -> None:  # fmt: skip
    edition_id = await edition_with_readers(db, clock, 3)
    options = {"tls_context": server_context(certificate), "require_starttls": True, **AUTH}
    ca_file = None if problem == "untrusted certificate" else certificate[0]
    password = "wrong" if problem == "wrong password" else PASSWORD
    expected = "CERTIFICATE_VERIFY_FAILED" if ca_file is None else "535"
    with smtp_server(tmp_path / "mail", **options) as port:
        configured = relay_settings(settings, port, "starttls", ca_file, password)
        with pytest.raises(DeliveryError, match=f"cannot reach the SMTP relay.*{expected}"):
            await send_edition(db, configured, clock, edition_id, actor="t")
    async with db.session() as session:
        rows = (await session.scalars(select(Delivery))).all()
    assert {(row.state, row.attempts) for row in rows} == {(DeliveryState.QUEUED, 0)}
    assert inbox(tmp_path / "mail") == []
