"""Fetch: download a source over HTTP and parse the bytes into entries.

carnews owns the HTTP (httpx: timeouts, a body-size cap, conditional GET)
and hands feedparser only the downloaded bytes, because feedparser has no
timeout of its own and a hung source must never stall a run. Nothing here
touches the database; ``ingest`` stores what comes out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser
import httpx

from carnews import __version__
from carnews.clean import clean, plain_title, strip_tracking
from carnews.identify import Identifiers, find_identifiers

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchedEntry:
    """One parsed, cleaned entry, not yet stored."""

    guid: str | None
    link: str | None
    title: str
    author: str | None
    published_at: datetime | None
    raw_html: str
    clean_html: str
    text: str
    identifiers: Identifiers


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    url: str
    outcome: Literal["ok", "not_modified", "error"]
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    entries: tuple[FetchedEntry, ...] = ()
    error: str | None = None
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default=())


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
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body is over the {max_bytes}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch(
    client: httpx.AsyncClient, request: FetchRequest, *, max_bytes: int, total_timeout: float
) -> FetchResult:
    """Download and parse one source; every failure comes back as an ``error`` result."""
    started = time.perf_counter()
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    try:
        async with asyncio.timeout(total_timeout):
            async with client.stream("GET", request.url, headers=headers) as response:
                if response.status_code == 304:
                    return FetchResult(
                        request.url, "not_modified", 304, request.etag, request.last_modified,
                        seconds=time.perf_counter() - started,
                    )  # fmt: skip
                if response.status_code >= 400:
                    return _error(request, f"HTTP {response.status_code}", started, response)
                body = await _read_capped(response, max_bytes)
    except TimeoutError:
        return _error(request, f"no complete answer within {total_timeout:g} s", started)
    except BodyTooLarge as exc:
        return _error(request, str(exc), started)
    except httpx.HTTPError as exc:
        return _error(request, f"{type(exc).__name__}: {exc}".rstrip(": "), started)
    parsed = parse_feed(body, str(response.url), dict(response.headers))
    return FetchResult(
        url=request.url,
        outcome="error" if parsed.error else "ok",
        http_status=response.status_code,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        final_url=str(response.url),
        entries=parsed.entries,
        error=parsed.error,
        seconds=time.perf_counter() - started,
        warnings=parsed.warnings,
    )


def _error(
    request: FetchRequest, message: str, started: float, response: httpx.Response | None = None
) -> FetchResult:
    return FetchResult(
        url=request.url,
        outcome="error",
        http_status=response.status_code if response is not None else None,
        error=message,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[FetchedEntry, ...]
    error: str | None
    warnings: tuple[str, ...]


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse feed bytes; a feed with no entries and a parse error is an error, else a warning."""
    parsed = feedparser.parse(body, response_headers=headers or {})
    entries = tuple(_entry(raw, url) for raw in parsed.entries)
    problem = parsed.get("bozo_exception")
    message = f"{type(problem).__name__}: {problem}" if problem else None
    if not entries and problem is not None:
        return ParsedFeed("", (), f"not a feed carnews can read ({message})", ())
    if not entries and not parsed.get("version"):
        return ParsedFeed("", (), "not a feed carnews can read (no RSS, Atom or RDF found)", ())
    title = plain_title(str(parsed.feed.get("title", "")))
    return ParsedFeed(title, entries, None, (message,) if message else ())


def _body(raw: Any) -> tuple[str, str]:
    """The richest body an entry has, with its declared type."""
    for item in raw.get("content") or []:
        if item.get("value"):
            return str(item["value"]), str(item.get("type") or "text/html")
    detail = raw.get("summary_detail") or {}
    return str(raw.get("summary") or ""), str(detail.get("type") or "text/html")


def _published(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                year, month, day, hour, minute, second = value[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _entry(raw: Any, feed_url: str) -> FetchedEntry:
    body, content_type = _body(raw)
    link = strip_tracking(str(raw.get("link") or "").strip()) or None
    content = clean(body, content_type=content_type, base_url=link or feed_url)
    title = plain_title(str(raw.get("title") or "")) or content.text[:120] or "(untitled)"
    guid = str(raw.get("id") or "").strip() or None
    structured = [link or "", guid or "", str(raw.get("dc_identifier") or "")]
    structured += [str(item.get("href", "")) for item in raw.get("links") or []]
    return FetchedEntry(
        guid=guid,
        link=link,
        title=title,
        author=str(raw.get("author") or "").strip() or None,
        published_at=_published(raw),
        raw_html=body,
        clean_html=content.html,
        text=content.text,
        identifiers=find_identifiers(structured, content.html),
    )
