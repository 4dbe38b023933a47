"""The message: one personalised email, with the headers bulk mail owes its readers.

multipart/alternative (text, then HTML with CSS already inlined by render),
Message-ID, Date, From, Reply-To, List-Id, List-Unsubscribe with an https
one-click URL and a mailto, List-Unsubscribe-Post (RFC 8058) and Precedence:
bulk. Header values are forced onto one line, so no field an editor writes can
start a header of its own. With ``mail.dkim_*`` set, the bytes are DKIM-signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from pathlib import Path

import dkim

from carnews.errors import ConfigError
from carnews.render import RenderedEmail
from carnews.settings import MailSettings, Settings
from carnews.subscriptions import unsubscribe_token

# What the signature covers: everything a reader or a filter judges the mail by.
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-id",
                  b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version",
                  b"content-type"]  # fmt: skip


def one_line(value: str) -> str:
    """Header values are single lines: a newline in a title must not start a new header."""
    return " ".join(value.split())


def unsubscribe_url(settings: Settings, subscriber_id: int) -> str:
    token = unsubscribe_token(settings.site.secret_key.reveal(), subscriber_id)
    return f"{settings.site.base_url.rstrip('/')}/unsubscribe/{token}"


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    settings: Settings,
    unsubscribe_url: str,
    now: datetime,
    subject_prefix: str = "",
    message_id: str | None = None,
) -> EmailMessage:
    mail = settings.mail
    sender_domain = mail.from_address.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((one_line(mail.from_name), mail.from_address))
    message["To"] = to
    message["Subject"] = one_line(f"{subject_prefix}{rendered.subject}")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["List-Id"] = f"{one_line(settings.site.title)} <{mail.list_id}>"
    message["List-Unsubscribe"] = (
        f"<{unsubscribe_url}>, <mailto:{mail.from_address}?subject=unsubscribe>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "bulk"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


@dataclass(frozen=True)
class Signer:
    domain: bytes
    selector: bytes
    key: bytes

    def sign(self, data: bytes) -> bytes:
        signature = dkim.sign(data, self.selector, self.domain, self.key,
                              include_headers=SIGNED_HEADERS)  # fmt: skip
        return bytes(signature) + data


@lru_cache(maxsize=4)
def _read_key(path: str) -> bytes:
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"mail.dkim_key_file = {path!r} cannot be read: {exc.strerror}",
            hint="Point it at the PEM private key whose public half is in DNS.",
            context={"key": "mail.dkim_key_file", "value": path},
        ) from None
    if b"PRIVATE KEY" not in key:
        raise ConfigError(
            f"mail.dkim_key_file = {path!r} is not a PEM private key",
            hint="Create one with: openssl genrsa -out dkim.pem 2048",
            context={"key": "mail.dkim_key_file", "value": path},
        )
    return key


def signer_for(mail: MailSettings) -> Signer | None:
    """A DKIM signer when all three DKIM settings are given; None when none are."""
    given = [mail.dkim_domain, mail.dkim_selector, mail.dkim_key_file]
    if not any(given):
        return None
    if not all(given):
        raise ConfigError(
            "DKIM needs mail.dkim_domain, mail.dkim_selector and mail.dkim_key_file together",
            hint="Set all three, or none to send unsigned.",
            context={"key": "mail.dkim_*"},
        )
    return Signer(mail.dkim_domain.encode(), mail.dkim_selector.encode(),
                  _read_key(mail.dkim_key_file))  # fmt: skip


def to_bytes(message: EmailMessage, signer: Signer | None) -> bytes:
    """The bytes that go over the wire, with CRLF line ends, signed when configured."""
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    return signer.sign(data) if signer is not None else data
