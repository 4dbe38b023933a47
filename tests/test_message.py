"""The spliced message template decodes to exactly what the email package would build."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from carnews.editions.render import PREFERENCES_PLACEHOLDER as PREFS
from carnews.editions.render import UNSUBSCRIBE_PLACEHOLDER as LINK
from carnews.editions.render import RenderedEmail
from carnews.mail.message import MessageTemplate, build_message
from carnews.settings import MailSettings, Settings, replace

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
LONG_URL = "https://news.example.org/unsubscribe/" + "Mq" * 60  # longer than a QP line
PREFS_URL = "https://news.example.org/preferences/" + "Mq" * 60

CASES = {
    "plain": RenderedEmail("Lupus news", f'<p>Hi <a href="{LINK}">leave</a></p>',
                           f"Hi\n\nLeave: {LINK}\n"),
    "unicode, long lines, leading dots": RenderedEmail(
        "Sjögren’s — CAR-T update",
        "<p>" + "é ü ‘quoted’ " * 40 + f'</p>\n.dot line\n<a href="{LINK}">x</a>',
        ".starts with a dot\n" + "≥ 95 % " * 30 + f"\n{LINK}",
    ),
    "link at both ends, twice in a row": RenderedEmail(
        "S", f"{LINK}{LINK}<p>mid</p>{LINK}", f"{LINK} trailing space \n{LINK}"
    ),
    "CRLF and trailing spaces": RenderedEmail("S", "<p>a</p>  \r\n<p>b</p>\t",
                                              f"a  \r\nb {LINK}  "),
    "both links, in either order": RenderedEmail(
        "S", f'<a href="{PREFS}">prefs</a> · <a href="{LINK}">leave</a>{PREFS}',
        f"Preferences: {PREFS}\nUnsubscribe: {LINK}\n{LINK}{PREFS}",
    ),
}  # fmt: skip


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> list[tuple[str, str]]:
    found = []
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        found.append((part.get_content_type(), part.get_content().replace("\r\n", "\n")))
    return found


@pytest.mark.parametrize("name", CASES)
def test_template_decodes_like_the_email_package(name: str) -> None:
    rendered, settings = CASES[name], Settings()
    spliced = MessageTemplate.build(rendered, settings.mail, settings.site.title).personalise(
        to="reader@example.org", date="Sun, 22 Nov 2026 09:30:00 +0000",
        message_id="<1@carnews.test>", unsubscribe_url=LONG_URL, preferences_url=PREFS_URL,
    )  # fmt: skip
    reference = build_message(rendered.personalise(LONG_URL, PREFS_URL), to="reader@example.org",
                              mail=settings.mail, site_title=settings.site.title,
                              unsubscribe_url=LONG_URL, now=NOW,
                              message_id="<1@carnews.test>")  # fmt: skip
    ours, theirs = parse(spliced), parse(reference.as_bytes())
    assert parts(ours) == parts(theirs)
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                   "List-Unsubscribe-Post", "Precedence"):  # fmt: skip
        assert str(ours[header]) == str(theirs[header]), header
    assert not ours.defects and all(not part.defects for part in ours.iter_parts())


@pytest.mark.parametrize("name", CASES)
def test_template_lines_are_short_crlf_and_7bit(name: str) -> None:
    data = MessageTemplate.build(CASES[name], MailSettings(), "carnews").personalise(
        to="a@example.org",
        date="d",
        message_id="<m@x>",
        unsubscribe_url=LONG_URL,
        preferences_url=PREFS_URL,
    )
    assert data.isascii() and b"\n" not in data.replace(b"\r\n", b"")
    headers, _, body = data.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in body.split(b"\r\n")), "quoted-printable lines ≤ 76"
    assert all(len(line) <= 998 for line in headers.split(b"\r\n"))


def test_each_reader_gets_their_own_link_and_headers() -> None:
    template = MessageTemplate.build(CASES["plain"], MailSettings(), "carnews")
    first, second = (
        parse(template.personalise(to=f"{who}@example.org", date="Sun, 22 Nov 2026 09:30:00 +0000",
                                   message_id=f"<{who}@x>",
                                   unsubscribe_url=f"https://n.test/unsubscribe/{who}",
                                   preferences_url=f"https://n.test/preferences/{who}"))
        for who in ("ann", "bob")
    )  # fmt: skip
    assert (str(first["To"]), str(second["To"])) == ("ann@example.org", "bob@example.org")
    assert "unsubscribe/ann>" in str(first["List-Unsubscribe"])
    assert "Leave: https://n.test/unsubscribe/bob" in parts(second)[0][1]
    assert "unsubscribe/ann" not in second.as_string()


def test_no_header_injection_through_the_template() -> None:
    rendered = RenderedEmail("News\r\nBcc: victim@example.org", "<p>x</p>", "x")
    mail = replace(MailSettings(), from_name="Editor\nBcc: evil@example.org")
    data = MessageTemplate.build(rendered, mail, "carnews").personalise(
        to="a@example.org",
        date="d",
        message_id="<m@x>",
        unsubscribe_url=LONG_URL,
        preferences_url=PREFS_URL,
    )
    message = parse(data)
    assert b"\nBcc:" not in data and message["Bcc"] is None
    assert str(message["Subject"]) == "News Bcc: victim@example.org"


def test_an_internationalised_address_is_a_valid_utf8_header() -> None:
    data = MessageTemplate.build(CASES["plain"], MailSettings(), "carnews").personalise(
        to="jörg@exämple.org",
        date="d",
        message_id="<m@x>",
        unsubscribe_url=LONG_URL,
        preferences_url=PREFS_URL,
    )
    assert str(parse(data)["To"]) == "jörg@exämple.org"
