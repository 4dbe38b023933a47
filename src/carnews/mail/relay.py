"""The relay: SMTP connections to the mail server and what its answers mean.

One ``aiosmtplib.SMTP`` per connection, reused across messages. An answer maps
to a ledger state: 2xx sent, 5xx failed for good (the address bounces), 4xx or
a lost connection failed for now (tried again later).
"""

from __future__ import annotations

import aiosmtplib
import idna

from carnews.mail import pipelining
from carnews.settings import SmtpSettings
from carnews.storage.models import DeliveryState


def smtp_client(smtp: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        use_tls=smtp.security == "tls",
        start_tls=smtp.security == "starttls",
        cert_bundle=smtp.ca_file or None,
        timeout=smtp.timeout_seconds,
        username=smtp.username or None,
        password=smtp.password.reveal() or None,
    )


def wire_address(address: str) -> str:
    """The address as it goes on the wire: an international domain in its ASCII form.

    Only a non-ASCII local part ("jörg@...") still needs the relay's SMTPUTF8; "ann@
    exämple.org" is sent as "ann@xn--exmple-cua.org", which every relay takes.
    """
    local, _, domain = address.rpartition("@")
    if address.isascii() or not local.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address  # the relay's answer will say what is wrong with it


# (state, error, whether the relay was reached at all)
Answer = tuple[DeliveryState, str | None, bool]


async def send_one(smtp: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes) -> Answer:
    """Hand one message to the relay; connect (again) first if the connection is gone.

    ``data`` is the whole message with CRLF line ends, as ``message`` builds it.
    """
    connection = Connection(smtp)
    try:
        return await connection.send(sender, recipient, data)
    finally:
        connection.pause()


class Connection:
    """One connection to the relay, kept across messages.

    With PIPELINING, ``send(..., then=NEXT)`` announces the next message's envelope with
    this message's end, so messages sent back to back cost one round trip each. A
    connection that announced a message must send it next, or ``pause`` (which closes
    it then).
    """

    def __init__(self, smtp: aiosmtplib.SMTP) -> None:
        self.smtp = smtp
        self._pipeline: pipelining.Pipeline | None = None

    def pause(self) -> None:
        """Between batches: aiosmtplib gets the connection back."""
        if self._pipeline is not None:
            self._pipeline.release()
            self._pipeline = None

    def close(self) -> None:
        self._pipeline = None
        if self.smtp.is_connected:
            self.smtp.close()

    async def send(
        self, sender: str, recipient: str, data: bytes, *, then: str | None = None
    ) -> Answer:
        """Hand one message to the relay; connect (again) first if the connection is gone."""
        smtp = self.smtp
        if self._pipeline is not None and not self._pipeline.open:
            self._pipeline = None
        if not smtp.is_connected:
            try:
                await smtp.connect()
                if smtp.is_ehlo_or_helo_needed:
                    await smtp.ehlo()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                smtp.close()
                return DeliveryState.FAILED_TEMPORARY, describe(exc), False
        try:
            if sender.isascii() and recipient.isascii():
                ahead = then if then is not None and then.isascii() else None
                answer = await self._transaction(sender, recipient, data, ahead)
                if answer is not None:
                    return state_for(answer.code), f"{answer.code} {answer.message}", True
            elif not smtp.supports_extension("smtputf8"):
                error = f"the relay does not offer SMTPUTF8, which {recipient} needs"
                return DeliveryState.FAILED_PERMANENT, error, True
            else:  # a non-ASCII local part: the envelope and headers go as UTF-8
                self.pause()
                await smtp.sendmail(sender, [recipient], data, mail_options=["SMTPUTF8"])
        except aiosmtplib.SMTPSenderRefused as exc:
            # About carnews's own address (or login), not the reader's: never a bounce. Not
            # "reached" either, so a batch the relay refuses whole stops the run unharmed.
            error = f"the relay refuses the sender {sender}: {exc.code} {exc.message}"
            return DeliveryState.FAILED_TEMPORARY, error, False
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            return state_for(codes[0] if codes else 450), str(exc), True
        except aiosmtplib.SMTPResponseException as exc:
            return state_for(exc.code), f"{exc.code} {exc.message}", True
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.close()
            return DeliveryState.FAILED_TEMPORARY, describe(exc), True
        return DeliveryState.SENT, None, True

    async def _transaction(
        self, sender: str, recipient: str, data: bytes, then: str | None
    ) -> aiosmtplib.SMTPResponse | None:
        """MAIL, RCPT, DATA for one message; the refusing answer, or None when accepted.

        ``sendmail`` parses both addresses and runs two regular expressions over the whole
        message for every send, which costs more than the rest of a send together. carnews
        builds every message with CRLF line ends already, so only the dot-stuffing is left,
        and a plain byte replace does that. A relay that offers PIPELINING gets the three
        commands in one write (``pipelining``).
        """
        body = data if data.endswith(b"\r\n") else data + b"\r\n"
        body = body.replace(b"\r\n.", b"\r\n..")
        if self._pipeline is None and pipelining.can_pipeline(self.smtp):
            self._pipeline = pipelining.Pipeline(self.smtp)
        if self._pipeline is not None:
            return await self._pipeline.transaction(sender, recipient, body, then)
        return await _one_at_a_time(self.smtp, sender, recipient, body)


async def _one_at_a_time(
    smtp: aiosmtplib.SMTP, sender: str, recipient: str, body: bytes
) -> aiosmtplib.SMTPResponse | None:
    """A relay without PIPELINING: each command waits for the answer before it."""
    # Each command with the answers that let the transaction go on.
    envelope = (((b"MAIL", b"FROM:<" + sender.encode() + b">"), (250,)),
                ((b"RCPT", b"TO:<" + recipient.encode() + b">"), (250, 251)),
                ((b"DATA",), (354,)))  # fmt: skip
    for command, go_on in envelope:
        answer = await smtp.execute_command(*command)
        if answer.code not in go_on:
            if smtp.is_connected:
                await smtp.execute_command(b"RSET")
            if command[0] == b"MAIL":
                raise aiosmtplib.SMTPSenderRefused(answer.code, answer.message, sender)
            return answer
    protocol = smtp.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("the relay closed the connection")
    protocol.write(body + b".\r\n")
    try:
        answer = await protocol.read_response(timeout=smtp.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        smtp.close()  # a half-read answer would be paired with the next command
        raise
    return None if answer.code == 250 else answer


def state_for(code: int) -> DeliveryState:
    return DeliveryState.FAILED_PERMANENT if 500 <= code < 600 else DeliveryState.FAILED_TEMPORARY


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
