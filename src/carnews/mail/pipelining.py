"""SMTP PIPELINING (RFC 2920): one round trip a message instead of four.

When the relay advertises PIPELINING, MAIL FROM, RCPT TO and DATA go out in one write
and their three answers are read together; then the message and its answer. Messages
sent back to back on one connection (``Pipeline``) go further: each message's end and
the next one's envelope share a write, and their answers arrive together. aiosmtplib
reads one answer per command written (answers that arrive together are dropped), so
while a connection pipelines its transport is handed to ``_Replies``, which keeps every
answer it receives in order, and then handed back: aiosmtplib still makes the
connection, STARTTLS and AUTH, and closes it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import aiosmtplib
from aiosmtplib.response import SMTPResponse

MAX_REPLY = 32 * 1024  # a relay's answer is a few lines; more is not an SMTP server


class _Replies(asyncio.Protocol):
    """Every reply the relay sends, parsed in order, however the bytes arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._lines: list[str] = []
        self.replies: deque[SMTPResponse] = deque()
        self.lost: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self._buffer.extend(data)
        while (end := self._buffer.find(b"\n")) != -1:
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            self._line(line)
        if len(self._buffer) > MAX_REPLY:
            self._lose(aiosmtplib.SMTPResponseException(-1, "the relay's answer is too long"))
        self._wake()

    def _line(self, line: bytes) -> None:
        try:
            code = int(line[:3])
        except ValueError:
            text = line.decode("utf-8", "replace").strip()
            self._lose(aiosmtplib.SMTPResponseException(-1, f"malformed answer: {text!r}"))
            return
        self._lines.append(line[4:].strip(b" \t\r\n").decode("utf-8", "surrogateescape"))
        if line[3:4] != b"-":  # the last line of this reply
            self.replies.append(SMTPResponse(code, "\n".join(self._lines)))
            self._lines = []

    def eof_received(self) -> bool:
        self._lose(aiosmtplib.SMTPServerDisconnected("the relay closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(aiosmtplib.SMTPServerDisconnected("the connection to the relay was lost"))

    def _lose(self, exc: BaseException) -> None:
        if self.lost is None:
            self.lost = exc
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self, count: int, within: float | None) -> list[SMTPResponse]:
        """The next ``count`` replies; SMTPServerDisconnected or a timeout if they never come."""
        async with asyncio.timeout(within):
            while len(self.replies) < count:
                if self.lost is not None:
                    raise self.lost
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
        return [self.replies.popleft() for _ in range(count)]


def can_pipeline(smtp: aiosmtplib.SMTP) -> bool:
    return smtp.supports_extension("pipelining") and smtp.transport is not None


def _envelope(sender: str, recipient: str) -> bytes:
    return b"MAIL FROM:<%b>\r\nRCPT TO:<%b>\r\nDATA\r\n" % (sender.encode(), recipient.encode())


class Pipeline:
    """One connection's transactions back to back, its transport held by ``_Replies``.

    ``transaction(..., then=NEXT)`` writes the message's end and the next message's
    envelope together (RFC 2920 lets message content start a group and DATA end it), so
    from the second message on each costs one round trip. The next envelope's answers
    are read by the next transaction, which must be for ``then``; ``release`` hands the
    connection back to aiosmtplib, or closes it when an announced message is not coming
    (the relay waits for its data, and an empty message must never be sent).
    """

    def __init__(self, smtp: aiosmtplib.SMTP) -> None:
        transport, own = smtp.transport, smtp.protocol
        assert transport is not None and own is not None  # can_pipeline checked
        self._smtp, self._own = smtp, own
        self._transport = cast(asyncio.Transport, transport)
        self._replies = _Replies()
        self._transport.set_protocol(self._replies)
        self._announced: str | None = None  # whose envelope went out unanswered

    @property
    def open(self) -> bool:
        return not self._transport.is_closing()

    def release(self) -> None:
        if self._announced is not None:
            self._smtp.close()
        elif self.open:
            self._transport.set_protocol(self._own)

    async def transaction(
        self, sender: str, recipient: str, body: bytes, then: str | None = None
    ) -> aiosmtplib.SMTPResponse | None:
        """MAIL, RCPT and DATA, then the message; the refusing answer, or None.

        ``body`` is dot-stuffed and ends with CRLF. A refused sender raises
        SMTPSenderRefused; a lost or silent relay raises and the connection is closed, so
        a half-read answer is never paired with the next message's commands.
        """
        try:
            return await self._exchange(sender, recipient, body, then)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            self._announced = None
            self._smtp.close()
            raise

    async def _exchange(
        self, sender: str, recipient: str, body: bytes, then: str | None
    ) -> aiosmtplib.SMTPResponse | None:
        timeout, write = self._smtp.timeout, self._transport.write
        if self._announced != recipient:
            if self._announced is not None:  # announced someone else: a caller's mistake
                raise aiosmtplib.SMTPException(f"the envelope for {self._announced} is open")
            write(_envelope(sender, recipient))
        self._announced = None
        mail, rcpt, data = await self._replies.read(3, timeout)
        if data.code == 354 and (mail.code != 250 or rcpt.code not in (250, 251)):
            # A relay that opens DATA with no recipient gets an empty message, delivered nowhere.
            write(b".\r\n")
            await self._replies.read(1, timeout)
        if data.code != 354 or mail.code != 250 or rcpt.code not in (250, 251):
            write(b"RSET\r\n")
            await self._replies.read(1, timeout)
            if mail.code != 250:
                raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
            return rcpt if rcpt.code not in (250, 251) else data
        if then is None:
            write(body + b".\r\n")
        else:
            write(b"".join((body, b".\r\n", _envelope(sender, then))))
            self._announced = then
        (answer,) = await self._replies.read(1, timeout)
        return None if answer.code == 250 else answer
