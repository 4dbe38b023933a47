"""A loopback HTTP server whose every path is told what to answer, for fetch and ingest tests
and for an OpenAI-compatible API's POSTs (the LLM backends)."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before anything is sent
    gzip: bool = False  # compress the body and say so in Content-Encoding
    endless: bool = False  # after the headers, send chunks until the client hangs up
    drip: float = 0.0  # with ``endless``: pause between small chunks


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes = b""  # what a POST sent


class Server:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.received: list[Received] = []
        self.stopping = threading.Event()
        self.base_url = ""
        self.in_flight = 0  # requests being answered now, and the most there ever were
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def paths(self) -> list[str]:
        return [request.path for request in self.received]

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def serve(self, path: str, *replies: Reply) -> str:
        """Answer ``path`` with ``replies`` in turn; the last one repeats. Returns its URL."""
        self.routes[path] = list(replies)
        return self.base_url + path

    def next_reply(self, path: str) -> Reply:
        replies = self.routes.get(path)
        if not replies:
            return Reply(404, b"no such feed")
        return replies.pop(0) if len(replies) > 1 else replies[0]


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer
    state: Server

    def do_GET(self) -> None:
        self._answered(b"")

    def do_POST(self) -> None:
        """An API call, such as an LLM's chat completion: the body is kept with the request."""
        self._answered(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _answered(self, sent: bytes) -> None:
        self.state.begin()
        try:
            self._answer(sent)
        finally:
            self.state.end()

    def _answer(self, sent: bytes) -> None:
        state = self.state
        state.received.append(Received(self.path, dict(self.headers.items()), sent))
        reply = state.next_reply(self.path)
        if reply.delay and state.stopping.wait(reply.delay):
            return
        body = gzip.compress(reply.body) if reply.gzip else reply.body
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.gzip:
                self.send_header("Content-Encoding", "gzip")
            if reply.endless:
                self.end_headers()
                self._send_forever(reply)
                return
            if "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_forever(self, reply: Reply) -> None:
        chunk = b"<!-- padding -->" * (1 if reply.drip else 4096)
        self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        while not self.state.stopping.is_set():
            self.wfile.write(chunk)
            if reply.drip:
                self.wfile.flush()
                self.state.stopping.wait(reply.drip)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was received, not on the log."""


@contextmanager
def scripted_server() -> Iterator[Server]:
    state = Server()
    handler = type("BoundHandler", (Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
