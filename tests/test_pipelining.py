"""SMTP PIPELINING: a relay that offers it gets each message in two round trips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from carnews.mail.relay import send_one, smtp_client
from carnews.settings import SmtpSettings
from carnews.storage.models import DeliveryState

MESSAGE = b"Subject: x\r\n\r\nA line.\r\n.A line that starts with a dot.\r\n"


@asynccontextmanager
async def strict_relay(
    answers: tuple[bytes, bytes, bytes], seen: list[bytes], *, hang_up: bool = False
) -> AsyncIterator[int]:
    """A relay that answers nothing until MAIL, RCPT and DATA have all arrived.

    A client that waited for each answer before the next command would wait forever.
    Its three answers go out in one write, as Postfix sends them.
    """

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 strict ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-strict\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        envelope = [await reader.readline() for _ in range(3)]
        seen.extend(envelope)
        if hang_up:
            writer.close()
            return
        writer.write(b"".join(answers))
        if answers[2].startswith(b"354"):
            seen.append(await reader.readuntil(b"\r\n.\r\n"))
            writer.write(b"250 2.0.0 queued\r\n")
        seen.append(await reader.readline())  # RSET after a refusal, QUIT or EOF after a send
        writer.write(b"250 2.0.0 OK\r\n")
        await writer.drain()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def send(port: int) -> tuple[DeliveryState, str | None, bool]:
    smtp = smtp_client(SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5))
    try:
        async with asyncio.timeout(30):  # a hang bound, not a timing
            return await send_one(smtp, "news@example.org", "ana@example.org", MESSAGE)
    finally:
        smtp.close()


async def test_the_envelope_goes_in_one_write_and_the_message_arrives_dot_stuffed() -> None:
    seen: list[bytes] = []
    ok = (b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n", b"354 End data with .\r\n")
    async with strict_relay(ok, seen) as port:
        assert await send(port) == (DeliveryState.SENT, None, True)
    assert seen[:3] == [b"MAIL FROM:<news@example.org>\r\n", b"RCPT TO:<ana@example.org>\r\n",
                        b"DATA\r\n"]  # fmt: skip
    assert seen[3] == MESSAGE.replace(b"\r\n.A", b"\r\n..A") + b".\r\n"


@pytest.mark.parametrize(
    ("answers", "state", "said"),
    [
        ((b"250 Ok\r\n", b"550 5.1.1 No such user\r\n", b"554 5.5.1 No valid recipients\r\n"),
         DeliveryState.FAILED_PERMANENT, "550 5.1.1 No such user"),
        ((b"250 Ok\r\n", b"451 4.3.0 Try later\r\n", b"554 5.5.1 No valid recipients\r\n"),
         DeliveryState.FAILED_TEMPORARY, "451 4.3.0 Try later"),
        ((b"250 Ok\r\n", b"250 Ok\r\n", b"451 4.3.0 Not now\r\n"),
         DeliveryState.FAILED_TEMPORARY, "451 4.3.0 Not now"),
        ((b"553 5.7.1 Sender refused\r\n", b"503 5.5.1 Need MAIL\r\n", b"503 5.5.1 Need RCPT\r\n"),
         DeliveryState.FAILED_TEMPORARY, "the relay refuses the sender"),
    ],
)  # fmt: skip
async def test_a_refusal_in_the_envelope_is_answered_as_before_and_the_session_reset(
    answers: tuple[bytes, bytes, bytes], state: DeliveryState, said: str
) -> None:
    seen: list[bytes] = []
    async with strict_relay(answers, seen) as port:
        got_state, error, _ = await send(port)
    assert got_state == state and error is not None and said in error
    assert seen[-1] == b"RSET\r\n"  # the next message starts a clean transaction


async def test_a_relay_that_hangs_up_mid_envelope_is_a_temporary_failure() -> None:
    async with strict_relay((b"", b"", b""), [], hang_up=True) as port:
        state, error, _ = await send(port)
    assert state == DeliveryState.FAILED_TEMPORARY and error is not None
