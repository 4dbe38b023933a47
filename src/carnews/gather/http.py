"""The HTTP side of fetching: one polite GET with every safeguard a feed reader needs.

carnews owns the HTTP (httpx) and parsers only ever see downloaded bytes, because
feedparser has no timeout of its own and a hung source must never stall a run.
``get`` enforces a total time limit and a body-size cap, sends conditional
headers, and reads what the server says about the next poll: ``Retry-After`` on
429/503, ``Cache-Control: max-age`` and ``Expires``, and whether a redirect was
permanent (301/308 on every hop) so the stored URL can move with the feed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from carnews import __version__

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PERMANENT_REDIRECTS = {301, 308}
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class HttpAnswer:
    """What one GET brought back, whether it succeeded or not."""

    status: int | None
    body: bytes = b""
    headers: httpx.Headers | None = None
    final_url: str | None = None
    moved_to: str | None = None  # set only when every redirect hop was permanent
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name) if self.headers is not None else None


def user_agent(contact_url: str) -> str:
    return f"carnews/{__version__} (+{contact_url})"


def make_client(
    *, contact_url: str, timeout: float, connect_timeout: float, transport: Any = None
) -> httpx.AsyncClient:
    """The one HTTP client of a fetch run; tests pass a transport or point it at loopback."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent(contact_url), "Accept": FEED_ACCEPT},
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=transport,
    )


class BodyTooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"body of {declared} bytes is over the {max_bytes}-byte cap")
    chunks: list[bytes] = []
    size = 0
    # aiter_bytes yields decoded bytes, so a gzip bomb meets the cap too.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body is over the {max_bytes}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _moved_to(response: httpx.Response) -> str | None:
    if response.history and all(r.status_code in PERMANENT_REDIRECTS for r in response.history):
        return str(response.url)
    return None


async def get(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    total_timeout: float,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str | None = None,
    follow_redirects: bool = True,
) -> HttpAnswer:
    """GET ``url``; every failure comes back as an answer with ``error`` set, never raised.

    ``accept`` replaces the client's feed-minded Accept header (a landing page asks for
    HTML); without ``follow_redirects`` a 3xx comes back as it is, so the caller can
    check each hop (robots.txt) before taking it.
    """
    started = time.perf_counter()
    headers = {"Accept": accept} if accept else {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    def answer(response: httpx.Response | None, **fields: Any) -> HttpAnswer:
        if response is not None:
            fields.update(status=response.status_code, headers=response.headers,
                          final_url=str(response.url), moved_to=_moved_to(response))  # fmt: skip
        return HttpAnswer(seconds=time.perf_counter() - started, **{"status": None, **fields})

    response = None
    try:
        async with asyncio.timeout(total_timeout):
            async with client.stream(
                "GET", url, headers=headers, follow_redirects=follow_redirects
            ) as response:
                if response.status_code >= 400:
                    return answer(response, error=f"HTTP {response.status_code}")
                if response.status_code == 304:
                    return answer(response)
                body = await _read_capped(response, max_bytes)
                return answer(response, body=body)
    except TimeoutError:
        return answer(None, error=f"no complete answer within {total_timeout:g} s")
    except BodyTooLarge as exc:
        return answer(response, error=str(exc))
    except httpx.TooManyRedirects:
        return answer(None, error=f"more than {MAX_REDIRECTS} redirects")
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return answer(None, error=f"{type(exc).__name__}: {exc}".rstrip(": "))


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """``Retry-After`` as a moment: either delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    return _http_date(value)


def fresh_until(cache_control: str | None, expires: str | None, now: datetime) -> datetime | None:
    """How long the server says its answer stays fresh: max-age first, then Expires."""
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() in ("max-age", "s-maxage") and value.strip('"').isdigit():
            return now + timedelta(seconds=int(value.strip('"')))
    return _http_date(expires) if expires else None
