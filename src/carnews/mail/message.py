"""The message: one personalised email, with the headers bulk mail owes its readers.

multipart/alternative (text, then HTML with CSS already inlined by render),
Message-ID, Date, From (``mail.from_name``, else the site's title), Reply-To,
List-Id, List-Unsubscribe with an https one-click URL and a mailto,
List-Unsubscribe-Post (RFC 8058) and Precedence: bulk. Header values are forced
onto one line, so no field an editor writes can start a header of its own.
With ``mail.dkim_*`` set, the bytes are DKIM-signed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

import dkim

from carnews.editions.render import (
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    EditionView,
    Footer,
    RenderedEmail,
    render_email,
)
from carnews.errors import ConfigError
from carnews.settings import MailSettings, SiteSettings
from carnews.text.urls import site_url

# What the signature covers: everything a reader or a filter judges the mail by.
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"list-id",
                  b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version",
                  b"content-type"]  # fmt: skip


MAX_SENDER_NAME = 200  # a From line stays far below the 998-octet limit


class _MailPolicy(EmailPolicy):
    """The email package's policy, except that From is never folded.

    Folding a long display name that holds specials (``<``, ``"``, ``&``…) drops its
    quotes (a CPython bug), so ``"News <b>" <news@…>`` went out as ``News <b> <news@…>``
    and mail clients read another sender. Unfolded, the quoted name is kept; a non-ASCII
    name is still encoded.
    """

    def fold(self, name: str, value: Any) -> str:
        if name.lower() == "from" and self.max_line_length:
            return str(self.clone(max_line_length=None).fold(name, value))
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() == "from" and self.max_line_length:
            return bytes(self.clone(max_line_length=None).fold_binary(name, value))
        return bytes(super().fold_binary(name, value))


MAIL_POLICY = _MailPolicy()
SMTP_POLICY = MAIL_POLICY.clone(linesep="\r\n")


def one_line(value: str) -> str:
    """Header values are single lines: a newline in a title must not start a new header."""
    return " ".join(value.split())


def unsubscribe_url(site: SiteSettings, token: str) -> str:
    """The reader's one-click link, with their own random token
    (``Subscriber.unsubscribe_token``); http(s), or no mail goes out at all."""
    return site_url(f"{site.base_url.rstrip('/')}/unsubscribe/{token}")


def preferences_url(site: SiteSettings, token: str) -> str:
    """The reader's preferences page, keyed by the same random token as their unsubscribe
    link; http(s), or no mail goes out at all."""
    return site_url(f"{site.base_url.rstrip('/')}/preferences/{token}")


def sender_name(mail: MailSettings, site_title: str) -> str:
    """The From name: ``mail.from_name``, or the site's title when that is not set."""
    return one_line(mail.from_name or site_title)[:MAX_SENDER_NAME]


def footer_for(site: SiteSettings) -> Footer:
    return Footer(organisation=site.organisation, postal_address=site.postal_address)


# Where each reader's own links go in a message: the placeholders render leaves.
_LINK_SLOTS = re.compile(
    f"({re.escape(UNSUBSCRIBE_PLACEHOLDER)}|{re.escape(PREFERENCES_PLACEHOLDER)})"
)


def sender_domain(mail: MailSettings) -> str:
    return mail.from_address.rpartition("@")[2] or "localhost"


def list_unsubscribe(mail: MailSettings, unsubscribe_url: str) -> str:
    return f"<{unsubscribe_url}>, <mailto:{mail.from_address}?subject=unsubscribe>"


def _shared_headers(
    message: EmailMessage, rendered: RenderedEmail, mail: MailSettings, site_title: str,
    subject_prefix: str,
) -> None:  # fmt: skip
    """The headers every reader of one edition gets alike."""
    message["From"] = Address(display_name=sender_name(mail, site_title),
                              addr_spec=mail.from_address)  # fmt: skip
    message["Subject"] = one_line(f"{subject_prefix}{rendered.subject}")
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["List-Id"] = f"{one_line(site_title)} <{mail.list_id}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "bulk"


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    mail: MailSettings,
    site_title: str,
    unsubscribe_url: str,
    now: datetime,
    subject_prefix: str = "",
    message_id: str | None = None,
) -> EmailMessage:
    """One message as an object: for test sends, where a few messages need no speed."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id or make_msgid(domain=sender_domain(mail))
    message["List-Unsubscribe"] = list_unsubscribe(mail, unsubscribe_url)
    _shared_headers(message, rendered, mail, site_title, subject_prefix)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


@dataclass(frozen=True)
class MessageTemplate:
    """One rendered email encoded to wire bytes once, then personalised by splicing.

    The email package costs milliseconds a message; a list of 100,000 cannot pay that.
    The template holds the shared headers and the MIME body already encoded, with the
    body cut at each of the reader's links, so a reader's message is a few joins: their
    To, Date, Message-ID and List-Unsubscribe headers, and their unsubscribe or
    preferences link in each cut (``slots`` says which).
    """

    mail: MailSettings
    head: bytes
    body: tuple[bytes, ...]
    slots: tuple[str, ...]  # the placeholder each cut between two body pieces stood for

    @classmethod
    def build(cls, rendered: RenderedEmail, mail: MailSettings, site_title: str) -> MessageTemplate:
        # Each part ends with a line break, as the email package would end it.
        parts = [(kind, text if text.endswith("\n") else text + "\n")
                 for kind, text in (("plain", rendered.text), ("html", rendered.html))]  # fmt: skip
        split = [_LINK_SLOTS.split(text) for _, text in parts]
        encoded = [[_quoted_printable(piece) for piece in pieces[::2]] for pieces in split]
        slots = tuple(slot for pieces in split for slot in pieces[1::2])
        boundary = _boundary(b"".join(b"".join(pieces) for pieces in encoded))
        shared = EmailMessage(policy=MAIL_POLICY)
        _shared_headers(shared, rendered, mail, site_title, subject_prefix="")
        shared["MIME-Version"] = "1.0"
        shared["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
        head = b"".join(SMTP_POLICY.fold_binary(name, value) for name, value in shared.items())
        head += b"\r\n"
        cuts: list[bytes] = []
        pending = b""
        for (subtype, _), pieces in zip(parts, encoded, strict=True):
            pending += (
                f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            ).encode()
            for piece in pieces[:-1]:
                cuts.append(pending + _soft_break(piece))
                pending = b""
            pending += pieces[-1] + b"\r\n"  # this line break belongs to the boundary
        cuts.append(pending + f"--{boundary}--\r\n".encode())
        return cls(mail, head, tuple(cuts), slots)

    def personalise(
        self, *, to: str, date: str, message_id: str, unsubscribe_url: str, preferences_url: str
    ) -> bytes:
        links = {UNSUBSCRIBE_PLACEHOLDER: unsubscribe_url, PREFERENCES_PLACEHOLDER: preferences_url}
        encoded = {slot: _soft_break(_quoted_printable(url)) for slot, url in links.items()}
        body = [self.body[0]]
        for slot, piece in zip(self.slots, self.body[1:], strict=True):
            body += [encoded[slot], piece]
        return b"".join((
            _header("To", to),
            _header("Date", date),
            _header("Message-ID", message_id),
            _header("List-Unsubscribe", list_unsubscribe(self.mail, unsubscribe_url),
                    fold_at_commas=True),
            self.head,
            *body,
        ))  # fmt: skip


class Composer:
    """Every reader's message of one edition: a template per disease mix, then a splice."""

    def __init__(
        self, view: EditionView, mail: MailSettings, site: SiteSettings, templates_dir: str
    ) -> None:
        self._view, self._mail, self._site, self._templates_dir = view, mail, site, templates_dir
        self._signer = signer_for(mail)
        self._templates: dict[tuple[str, ...], MessageTemplate] = {}

    def compose(
        self, *, unsubscribe_token: str, to: str, diseases: Sequence[str], message_id: str,
        date: str,
    ) -> bytes:  # fmt: skip
        key = tuple(sorted(diseases))
        template = self._templates.get(key)
        if template is None:
            rendered = render_email(self._view.for_diseases(key), self._templates_dir,
                                    footer_for(self._site))  # fmt: skip
            template = self._templates[key] = MessageTemplate.build(
                rendered, self._mail, self._site.title
            )
        data = template.personalise(
            to=to, date=date, message_id=message_id,
            unsubscribe_url=unsubscribe_url(self._site, unsubscribe_token),
            preferences_url=preferences_url(self._site, unsubscribe_token),
        )  # fmt: skip
        return self._signer.sign(data) if self._signer is not None else data


def _quoted_printable(text: str) -> bytes:
    # quoprimime encodes characters as single octets: hand it the UTF-8 bytes as latin-1.
    raw = text.replace("\r\n", "\n").encode("utf-8").decode("latin-1")
    # 75, not 76: a piece may end in a soft break, whose '=' must fit on the line too.
    return quoprimime.body_encode(raw, maxlinelen=75, eol="\r\n").encode("ascii")


def _soft_break(encoded: bytes) -> bytes:
    """End an encoded piece mid-line: '=' + CRLF joins it to what follows when decoded."""
    return encoded if not encoded or encoded.endswith(b"\r\n") else encoded + b"=\r\n"


def _boundary(body: bytes) -> str:
    while True:
        boundary = f"=_carnews_{secrets.token_hex(12)}"
        if boundary.encode() not in body:
            return boundary


def _header(name: str, value: str, *, fold_at_commas: bool = False) -> bytes:
    """One header line; an internationalised address takes the email package's slow path.

    ``fold_at_commas`` continues a list of addresses (List-Unsubscribe) on new lines,
    so lines stay near 78 characters; 998 is the hard limit.
    """
    value = one_line(value)
    if not value.isascii():
        return policy.SMTPUTF8.fold_binary(name, value)
    line = f"{name}: {value}"
    return (line.replace(", ", ",\r\n ") if fold_at_commas else line).encode("ascii") + b"\r\n"


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
