"""One-off mails to one reader: the sign-up confirmation and "email me my data".

Not newsletters: no List-Unsubscribe or Precedence: bulk, and no delivery ledger. They
go through the same relay code as every send (``relay.send_one``), DKIM-signed when
``mail.dkim_*`` is set; a relay that cannot be reached or refuses is a DeliveryError.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from carnews.audience.signup import PendingMail
from carnews.editions.render import render
from carnews.errors import DeliveryError
from carnews.mail.message import one_line, sender_domain, signer_for, to_bytes
from carnews.mail.relay import send_one, smtp_client, wire_address
from carnews.settings import Settings
from carnews.storage.models import DeliveryState
from carnews.text.urls import site_url


def confirm_url(settings: Settings, token: str) -> str:
    return site_url(f"{settings.site.base_url.rstrip('/')}/confirm/{token}")


def preferences_url(settings: Settings, token: str) -> str:
    return site_url(f"{settings.site.base_url.rstrip('/')}/preferences/{token}")


def _message(settings: Settings, to: str, subject: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((one_line(settings.mail.from_name), settings.mail.from_address))
    message["To"] = wire_address(to)
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender_domain(settings.mail))
    message["Auto-Submitted"] = "auto-generated"
    if settings.mail.reply_to:
        message["Reply-To"] = settings.mail.reply_to
    return message


def confirmation_message(settings: Settings, pending: PendingMail, now: datetime) -> EmailMessage:
    """The double opt-in mail: one link, when it expires, and what to do if it was not you."""
    context = {
        "site_title": settings.site.title,
        "confirm_url": confirm_url(settings, pending.token),
        "expires_at": pending.expires_at.strftime("%d %B %Y, %H:%M UTC"),
    }
    templates = settings.templates.dir
    message = _message(settings, pending.address, f"Please confirm: {settings.site.title}", now)
    message.set_content(render("email/confirm.txt", templates, **context))
    message.add_alternative(render("email/confirm.html", templates, **context), subtype="html")
    return message


def data_message(settings: Settings, address: str, data_json: str, now: datetime) -> EmailMessage:
    """Everything stored about ``address``, as a JSON attachment (and readable in the body)."""
    message = _message(settings, address, f"Your data at {settings.site.title}", now)
    message.set_content(
        render(
            "email/your_data.txt",
            settings.templates.dir,
            site_title=settings.site.title,
            data_json=data_json,
        )
    )
    message.add_attachment(
        data_json.encode(), maintype="application", subtype="json", filename="my-carnews-data.json"
    )
    return message


async def send_messages(settings: Settings, messages: Sequence[EmailMessage]) -> int:
    """Hand each message to the relay; the number accepted. DeliveryError if unreachable."""
    signer = signer_for(settings.mail)
    smtp = smtp_client(settings.smtp)
    accepted = 0
    try:
        for message in messages:
            state, error, reached = await send_one(
                smtp, settings.mail.from_address, str(message["To"]), to_bytes(message, signer)
            )
            if not reached:
                raise DeliveryError(
                    f"cannot reach the SMTP relay at {settings.smtp.host}:{settings.smtp.port}: "
                    f"{error}"
                )
            accepted += state == DeliveryState.SENT
    finally:
        if smtp.is_connected:
            smtp.close()
    return accepted
