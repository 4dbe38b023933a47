"""``mailto:`` unsubscribes: replies to the List-Unsubscribe address, read from a maildir.

Every newsletter advertises ``mailto:FROM?subject=unsubscribe``. A mail client sends a
message with that subject (a person may add "Re:" or write the word in the first body
line); its sender is unsubscribed. Bounces, auto-replies (Auto-Submitted, RFC 3834) and
messages without a usable From are not requests and are skipped.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from carnews.audience.subscriptions import normalise_address
from carnews.errors import NotFoundError, SubscriberError

_PREFIXES = re.compile(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)*", re.IGNORECASE)
_WORD = re.compile(r"\bunsubscribe\b", re.IGNORECASE)
FIRST_LINE_CHARS = 200


@dataclass(frozen=True)
class Reply:
    file: Path
    address: str | None  # the normalised sender who asked to leave; None: not a request
    why: str


def unsubscribe_request(raw: bytes) -> tuple[str | None, str]:
    """The normalised sender of an unsubscribe request, or None and why it is not one."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        return None, "an automatic reply"
    if message.get_content_type() == "multipart/report":
        return None, "a delivery report"
    subject = _PREFIXES.sub("", str(message.get("Subject", "")))
    if not (_WORD.match(subject.strip()) or _WORD.match(_first_line(message))):
        return None, "does not ask to unsubscribe"
    _, sender = parseaddr(str(message.get("From", "")))
    try:
        return normalise_address(sender), "asks to unsubscribe"
    except SubscriberError:
        return None, "has no usable sender address"


def _first_line(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        return ""
    for line in str(text)[:FIRST_LINE_CHARS].splitlines():
        if line.strip():
            return line.strip()
    return ""


def read_replies(path: Path) -> Iterator[Reply]:
    """Every mail in a maildir's new/ and cur/, with the address it unsubscribes (if any)."""
    folders = [path / "new", path / "cur"]
    if not any(folder.is_dir() for folder in folders):
        raise NotFoundError(
            f"{path} is not a maildir: it has no new/ or cur/ folder",
            hint="Give the folder mail.from_address delivers to (the one holding new/ and cur/).",
            context={"path": str(path)},
        )
    for folder in folders:
        if not folder.is_dir():
            continue
        for file in sorted(folder.iterdir()):
            if file.is_file() and not file.name.startswith("."):
                try:
                    raw = file.read_bytes()
                except OSError:
                    continue
                address, why = unsubscribe_request(raw)
                yield Reply(file, address, why)
