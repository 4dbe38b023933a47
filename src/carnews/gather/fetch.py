"""Fetch: download a feed over HTTP and parse the bytes into clean entries.

The HTTP safeguards live in ``carnews.gather.http``; this module turns bytes into
``FetchedEntry`` objects (parsed by feedparser, cleaned, identified). Other
source kinds (PubMed, ClinicalTrials.gov, Europe PMC) build their entries with
``build_entry`` so every kind is cleaned and identified the same way. Nothing
here touches the database; ``ingest`` stores what comes out.

Parsing and cleaning never run on the event loop, which also serves the web app and
the other sources: every kind runs them in a thread, within ``fetch.parse_timeout_seconds``
(``too_slow`` says why a source went over it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser
import httpx

from carnews.gather.clean import clean, plain_title, strip_tracking
from carnews.gather.http import HttpAnswer, get
from carnews.gather.identify import Identifiers, find_identifiers
from carnews.text.urls import safe_url

# Preprint servers: what a feed of theirs carries has not been peer reviewed. Their DOIs
# share Cold Spring Harbor's prefix 10.1101.
PREPRINT_HOSTS = ("medrxiv.org", "biorxiv.org")
PREPRINT_DOI = "10.1101/"

PARSE_TIMEOUT_SECONDS = 60.0  # the default of fetch.parse_timeout_seconds


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
    # The link the source gave when it was not http(s) and so was dropped; ingest reports it.
    unsafe_link: str | None = None
    # The source's own labels, which beat text rules for the study type (stored as
    # ``entries.source_labels``): "publication_types" (PubMed, Europe PMC), "phases" and
    # "overall_status" (ClinicalTrials.gov), "source_kind" ("preprint" for medRxiv, bioRxiv).
    labels: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Poll:
    """One poll of one source, whatever its kind: what to ask for and within which limits.

    ``query``, ``now`` and ``window_days`` matter to the search kinds (PubMed, Europe PMC);
    a feed is its URL alone.
    """

    request: FetchRequest
    max_bytes: int
    total_timeout: float
    now: datetime
    window_days: int
    query: str = ""
    parse_timeout: float = PARSE_TIMEOUT_SECONDS


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
    moved_to: str | None = None  # the new URL after permanent (301/308) redirects only
    retry_after: str | None = None  # the raw Retry-After header of a 429/503
    cache_control: str | None = None  # raw headers: ingest turns them into a next poll
    expires: str | None = None
    ttl_minutes: int | None = None  # the feed's own <ttl>


def result_from(request: FetchRequest, answer: HttpAnswer, **fields: Any) -> FetchResult:
    """A FetchResult carrying everything the HTTP answer says about the next poll."""
    if answer.error is not None:
        outcome: Literal["ok", "not_modified", "error"] = "error"
    elif answer.status == 304:
        outcome = "not_modified"
    else:
        outcome = "ok"
    base: dict[str, Any] = dict(
        url=request.url,
        outcome=outcome,
        http_status=answer.status,
        etag=answer.header("etag") if outcome == "ok" else request.etag,
        last_modified=answer.header("last-modified") if outcome == "ok" else request.last_modified,
        final_url=answer.final_url,
        error=answer.error,
        seconds=answer.seconds,
        moved_to=answer.moved_to,
        retry_after=answer.header("retry-after"),
        cache_control=answer.header("cache-control"),
        expires=answer.header("expires"),
    )
    base.update(fields)
    return FetchResult(**base)


def too_slow(seconds: float) -> str:
    """The error of a source whose download took longer than ``seconds`` to parse.

    Parsing runs in a thread (``asyncio.to_thread``), which cannot be stopped: one past its
    time finishes in the background and its result is dropped; its work is bounded by
    ``fetch.max_bytes`` and by the nesting cap in ``clean``.
    """
    return f"parsing took longer than {seconds:g} s (fetch.parse_timeout_seconds)"


async def fetch(
    client: httpx.AsyncClient,
    request: FetchRequest,
    *,
    max_bytes: int,
    total_timeout: float,
    parse_timeout: float = PARSE_TIMEOUT_SECONDS,
) -> FetchResult:
    """Download and parse one feed; every failure comes back as an ``error`` result."""
    answer = await get(
        client,
        request.url,
        max_bytes=max_bytes,
        total_timeout=total_timeout,
        etag=request.etag,
        last_modified=request.last_modified,
    )
    if not answer.ok or answer.status == 304:
        return result_from(request, answer)
    started = time.perf_counter()
    headers = dict(answer.headers or {})
    url = answer.final_url or request.url
    try:
        async with asyncio.timeout(parse_timeout):
            parsed = await asyncio.to_thread(parse_feed, answer.body, url, headers)
    except TimeoutError:
        parsed = ParsedFeed("", (), too_slow(parse_timeout), ())
    return result_from(
        request,
        answer,
        outcome="error" if parsed.error else "ok",
        entries=parsed.entries,
        error=parsed.error,
        warnings=parsed.warnings,
        ttl_minutes=parsed.ttl_minutes,
        seconds=answer.seconds + time.perf_counter() - started,
    )


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: tuple[FetchedEntry, ...]
    error: str | None
    warnings: tuple[str, ...]
    ttl_minutes: int | None = None


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse feed bytes; a feed with no entries and a parse error is an error, else a warning."""
    # feedparser's own sanitizer is off: clean() sanitizes every body with an allow-list,
    # and running two sanitizers doubled the cost of a poll.
    parsed = feedparser.parse(
        body, response_headers=headers or {}, sanitize_html=False, resolve_relative_uris=False
    )
    entries = tuple(_entry(raw, url) for raw in parsed.entries)
    problem = parsed.get("bozo_exception")
    message = f"{type(problem).__name__}: {problem}" if problem else None
    if not entries and problem is not None:
        return ParsedFeed("", (), f"not a feed carnews can read ({message})", ())
    if not entries and not parsed.get("version"):
        return ParsedFeed("", (), "not a feed carnews can read (no RSS, Atom or RDF found)", ())
    title = plain_title(str(parsed.feed.get("title", "")))
    ttl = str(parsed.feed.get("ttl", "")).strip()
    return ParsedFeed(
        title, entries, None, (message,) if message else (), int(ttl) if ttl.isdigit() else None
    )


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


def build_entry(
    *,
    guid: str | None,
    link: str | None,
    title: str,
    body: str,
    content_type: str = "text/html",
    published_at: datetime | None,
    author: str | None = None,
    base_url: str | None = None,
    structured_ids: Iterable[str] = (),
    labels: Mapping[str, Any] | None = None,
) -> FetchedEntry:
    """Clean and identify one entry, whatever kind of source it came from.

    ``structured_ids`` are the source's own identifier fields (a PMID, a DOI, an NCT
    number, a guid): they name what the entry *is*, so they outrank the body.
    A link that is not http(s) is dropped here, at the door, and kept in ``unsafe_link``;
    a relative one is resolved against ``base_url`` (the feed's URL).
    """
    given = link.strip() if link and link.strip() else None
    safe = safe_url(given, base_url)
    link = strip_tracking(safe) if safe else None
    content = clean(body, content_type=content_type, base_url=link or base_url)
    title = plain_title(title) or content.text[:120] or "(untitled)"
    guid = guid.strip() if guid and guid.strip() else None
    structured = [link or "", guid or "", *structured_ids]
    return FetchedEntry(
        guid=guid,
        link=link,
        title=title,
        author=author.strip() if author and author.strip() else None,
        published_at=published_at,
        raw_html=body,
        clean_html=content.html,
        text=content.text,
        identifiers=find_identifiers(structured, content.html),
        unsafe_link=given if given and not link else None,
        labels=dict(labels or {}),
    )


def is_preprint(*urls: str | None) -> bool:
    """Whether any of ``urls`` is on a preprint server, or a link to a preprint's DOI."""
    for url in urls:
        lowered = (url or "").lower()
        host = lowered.split("://", 1)[-1].split("/", 1)[0]
        if host.endswith(PREPRINT_HOSTS) or f"doi.org/{PREPRINT_DOI}" in lowered:
            return True
    return False


def _entry(raw: Any, feed_url: str) -> FetchedEntry:
    body, content_type = _body(raw)
    identifiers = [str(raw.get("dc_identifier") or "")]
    identifiers += [str(item.get("href", "")) for item in raw.get("links") or []]
    return build_entry(
        guid=str(raw.get("id") or ""),
        link=str(raw.get("link") or ""),
        title=str(raw.get("title") or ""),
        body=body,
        content_type=content_type,
        published_at=_published(raw),
        author=str(raw.get("author") or ""),
        base_url=feed_url,
        structured_ids=identifiers,
        labels={"source_kind": "preprint"} if is_preprint(raw.get("link"), feed_url) else None,
    )
