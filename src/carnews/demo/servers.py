"""Loopback servers for the demo (and the tests): a static feed server and an SMTP sink.

Both bind to 127.0.0.1 on a free port, run in a background thread and stop
cleanly, so nothing here ever touches the network beyond this machine.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

CONTENT_TYPES = {".xml": "application/rss+xml", ".rdf": "application/rdf+xml",
                 ".atom": "application/atom+xml", ".json": "application/feed+json"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _QuietHandler(SimpleHTTPRequestHandler):
    def guess_type(self, path: Any) -> str:
        suffix = Path(str(path)).suffix.lower()
        return CONTENT_TYPES.get(suffix) or super().guess_type(path)

    def log_message(self, format: str, *args: Any) -> None:
        """The demo prints its own report; per-request logs would drown it."""


@contextmanager
def feed_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on loopback; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class MaildirHandler:
    """Writes each accepted message to ``directory`` as NNN-recipient.eml.

    It offers PIPELINING, as Postfix and most relays do (aiosmtpd reads pipelined
    commands in order but does not say so itself); ``pipelining=False`` leaves it out.
    """

    def __init__(self, directory: Path, *, pipelining: bool = True) -> None:
        self.directory = directory
        self.count = 0
        self.pipelining = pipelining
        self._lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            number = self.count
        for recipient in envelope.rcpt_tos:
            safe = re.sub(r"[^A-Za-z0-9@._-]", "_", recipient)
            path = self.directory / f"{number:04d}-{safe}.eml"
            path.write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_sink(directory: Path) -> Iterator[tuple[str, int, MaildirHandler]]:
    """An aiosmtpd server on loopback that keeps every message as a file."""
    directory.mkdir(parents=True, exist_ok=True)
    handler = MaildirHandler(directory)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, handler
    finally:
        controller.stop()
