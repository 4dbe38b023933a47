"""Test sends: an editor's check of an edition, and the operator's global test mode.

Neither writes the delivery ledger or changes an edition's state: a test is never
mistaken for the real send, and the real send afterwards still reaches everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select

from carnews.audience.subscriptions import normalise_address
from carnews.clock import Clock
from carnews.editions.digest import audience
from carnews.editions.render import render_email
from carnews.editions.review import ensure_sendable, load_edition
from carnews.editions.views import edition_view
from carnews.errors import DeliveryError
from carnews.mail.deliver import wants
from carnews.mail.message import build_message, footer_for, signer_for, to_bytes
from carnews.mail.relay import send_one, smtp_client, wire_address
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.audit import audit
from carnews.storage.models import DeliveryState, Subscriber, SubscriberStatus


@dataclass(frozen=True)
class TestSendReport:
    edition_id: int
    sent: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # address, the relay's answer


TEST_PREFIX = "[TEST] "
MODE_PREFIX = "[TEST MODE] "
MAX_TEST_MODE_VARIANTS = 25


async def send_test(
    db: Database,
    settings: Settings,
    clock: Clock,
    edition_id: int,
    addresses: Sequence[str],
    *,
    actor: str,
) -> TestSendReport:
    """The whole edition to ``addresses``, subject prefixed [TEST]: no ledger, any state.

    An editor checks a draft this way before approving it; nothing it does counts as
    sending the edition.
    """
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        view = await edition_view(session, edition, base_url=settings.site.base_url,
                                  site_title=settings.site.title)  # fmt: skip
        audit(session, clock(), actor, "test_send", ("edition", edition_id), to=list(addresses))
    url = test_unsubscribe_url(settings)
    rendered = render_email(view, settings.templates.dir, footer_for(settings.site))
    rendered = rendered.personalise(url, test_preferences_url(settings))
    messages = [
        build_message(rendered, to=wire_address(normalise_address(address)),
                      mail=settings.mail, site_title=settings.site.title,
                      unsubscribe_url=url, now=clock(), subject_prefix=TEST_PREFIX)
        for address in addresses
    ]  # fmt: skip
    return await _send_outside_ledger(settings, edition_id, messages)


async def send_test_mode(
    db: Database, settings: Settings, clock: Clock, edition_id: int, *, actor: str
) -> TestSendReport:
    """Test mode: what each kind of reader would get goes to ``mail.test_mode_address``.

    One message per distinct choice of diseases among active subscribers (at most
    MAX_TEST_MODE_VARIANTS), each naming an example subscriber in X-Carnews-Original-To.
    No ledger is written and the edition's state does not change.
    """
    target = wire_address(normalise_address(settings.mail.test_mode_address))
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        ensure_sendable(edition)
        view = await edition_view(session, edition, base_url=settings.site.base_url,
                                  site_title=settings.site.title)  # fmt: skip
        active = select(Subscriber).where(
            Subscriber.status == SubscriberStatus.ACTIVE, audience(edition.kind)
        )
        readers = (await session.scalars(active.order_by(Subscriber.id))).all()
        audit(session, clock(), actor, "test_mode_send", ("edition", edition_id), to=target)
    examples: dict[tuple[str, ...], Subscriber] = {}
    for reader in readers:
        if wants(reader.diseases, view):
            examples.setdefault(tuple(sorted(reader.diseases)), reader)
    messages = []
    # Never the example reader's own link: whoever reads the test address could
    # unsubscribe a real reader with one click (or forward the mail to someone who does).
    url = test_unsubscribe_url(settings)
    for diseases, reader in list(examples.items())[:MAX_TEST_MODE_VARIANTS]:
        rendered = render_email(view.for_diseases(diseases), settings.templates.dir,
                                footer_for(settings.site))  # fmt: skip
        message = build_message(
            rendered.personalise(url, test_preferences_url(settings)),
            to=target,
            mail=settings.mail,
            site_title=settings.site.title,
            unsubscribe_url=url,
            now=clock(),
            subject_prefix=MODE_PREFIX,
        )
        message["X-Carnews-Original-To"] = reader.email
        messages.append(message)
    return await _send_outside_ledger(settings, edition_id, messages)


def test_unsubscribe_url(settings: Settings) -> str:
    """The unsubscribe link of a test mail: it looks real and unsubscribes nobody."""
    return f"{settings.site.base_url.rstrip('/')}/unsubscribe/test-send"


def test_preferences_url(settings: Settings) -> str:
    """Likewise for the preferences link: no real reader's page."""
    return f"{settings.site.base_url.rstrip('/')}/preferences/test-send"


async def _send_outside_ledger(
    settings: Settings, edition_id: int, messages: Sequence[EmailMessage]
) -> TestSendReport:
    signer = signer_for(settings.mail)
    smtp = smtp_client(settings.smtp)
    sent: list[str] = []
    refused: list[tuple[str, str]] = []
    try:
        for message in messages:
            data = to_bytes(message, signer)
            state, error, reached = await send_one(
                smtp, settings.mail.from_address, str(message["To"]), data
            )
            if not reached:
                raise DeliveryError(
                    f"cannot reach the SMTP relay at {settings.smtp.host}:{settings.smtp.port}: "
                    f"{error}",
                    context={"edition": edition_id},
                )
            if state == DeliveryState.SENT:
                sent.append(str(message["To"]))
            else:
                refused.append((str(message["To"]), error or state.value))
    finally:
        if smtp.is_connected:
            smtp.close()
    return TestSendReport(edition_id, tuple(sent), tuple(refused))
