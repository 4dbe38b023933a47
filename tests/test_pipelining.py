"""SMTP PIPELINING: a relay that offers it gets each message in two round trips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from carnews.mail.relay import Connection, send_one, smtp_client
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


@asynccontextmanager
async def back_to_back_relay(data_answers: list[bytes], seen: list[bytes]) -> AsyncIterator[int]:
    """A relay that answers a message's end only once the next envelope is there too.

    A client that waited for that answer before announcing the next message would wait
    forever; one that announces ahead gets each message in one round trip. After the
    last message it reads until the client hangs up, noting whatever else came.
    """

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 strict ESMTP\r\n")
        await reader.readline()  # EHLO
        writer.write(b"250-strict\r\n250 PIPELINING\r\n")
        seen.extend([await reader.readline() for _ in range(3)])
        writer.write(b"250 Ok\r\n250 Ok\r\n354 Go ahead\r\n")
        for number, answer in enumerate(data_answers):
            seen.append(await reader.readuntil(b"\r\n.\r\n"))
            last = number == len(data_answers) - 1
            envelope = [] if last else [await reader.readline() for _ in range(3)]
            seen.extend(envelope)
            writer.write(answer + (b"" if last else b"250 Ok\r\n250 Ok\r\n354 Go ahead\r\n"))
        seen.append(await reader.read())  # QUIT, or nothing before the hang-up
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def numbered(number: int) -> bytes:
    return b"Subject: %d\r\n\r\nMessage %d.\r\n" % (number, number)


async def test_back_to_back_each_message_brings_the_next_envelope() -> None:
    seen: list[bytes] = []
    answers = [b"250 queued 1\r\n", b"554 5.7.1 Not this one\r\n", b"250 queued 3\r\n"]
    readers = [f"reader{n}@example.org" for n in range(3)]
    async with back_to_back_relay(answers, seen) as port:
        connection = Connection(smtp_client(SmtpSettings(host="127.0.0.1", port=port)))
        try:
            async with asyncio.timeout(30):  # a hang bound, not a timing
                got = [await connection.send("news@example.org", reader, numbered(n),
                                             then=readers[n + 1] if n < 2 else None)
                       for n, reader in enumerate(readers)]  # fmt: skip
        finally:
            connection.close()
    assert got == [(DeliveryState.SENT, None, True),
                   (DeliveryState.FAILED_PERMANENT, "554 5.7.1 Not this one", True),
                   (DeliveryState.SENT, None, True)]  # fmt: skip
    assert seen[4] == b"MAIL FROM:<news@example.org>\r\n"
    assert seen[5] == b"RCPT TO:<reader1@example.org>\r\n"
    assert [part for part in seen if part.startswith(b"Subject")] == [
        numbered(n) + b".\r\n" for n in range(3)
    ]


async def test_an_announced_message_that_does_not_come_closes_the_connection() -> None:
    """The relay waits for the data of an envelope it accepted: ending it with "." would
    deliver an empty message, so the connection is closed instead."""
    seen: list[bytes] = []
    async with back_to_back_relay([b"250 queued 1\r\n", b"250 never\r\n"], seen) as port:
        connection = Connection(smtp_client(SmtpSettings(host="127.0.0.1", port=port)))
        async with asyncio.timeout(30):
            first = await connection.send("news@example.org", "ana@example.org", numbered(1),
                                          then="ben@example.org")  # fmt: skip
            connection.pause()
    assert not connection.smtp.is_connected
    assert first == (DeliveryState.SENT, None, True)
    assert not any(part.startswith(b"Subject: 2") or part == b".\r\n" for part in seen)
