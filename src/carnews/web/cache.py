"""Rendered pages and feeds, kept in the process until an edition is sent; 304s.

A public page changes only when an edition is sent, so each answer is rendered once
per *publish generation* (``editions.archive.publish_generation``, read from the
database, so every web process on one database agrees) and then served from memory.
Asking the database costs a query, so a process asks at most once per
``web.cache_check_seconds``, in the background (requests are answered from what is
known meanwhile): a page may trail a send by that long. Requests that miss together
share one build. The ETag is a hash of the bytes, so two processes give
the same tag for the same page, and Last-Modified is when what the page shows was
sent. A request whose If-None-Match (or, without one, If-Modified-Since) matches gets
a 304 with no body.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response

from carnews.editions.archive import Generation, publish_generation
from carnews.editions.feeds import EPOCH
from carnews.storage import Database

CACHED_ANSWERS = 512  # pages and feeds kept per process, least recently used dropped first
log = logging.getLogger("carnews.web")
REVALIDATE = "public, no-cache"  # a reader may keep a copy but asks (cheaply) before using it


@dataclass(frozen=True)
class Built:
    """What a route renders on a miss: the bytes, their type, and when they last changed."""

    body: bytes
    media_type: str
    modified: datetime | None
    cache_control: str = REVALIDATE


@dataclass(frozen=True)
class Cached:
    built: Built
    generation: str
    etag: str
    modified: datetime  # to the second, as HTTP dates are

    @property
    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Last-Modified": format_datetime(self.modified, usegmt=True),
                "Cache-Control": self.built.cache_control}  # fmt: skip


Builder = Callable[[Generation], Awaitable[Built]]


class PageCache:
    def __init__(self, check_seconds: float, size: int = CACHED_ANSWERS) -> None:
        self.check_seconds = check_seconds
        self.size = size
        self._answers: OrderedDict[str, Cached] = OrderedDict()
        self._building: dict[tuple[str, str], asyncio.Task[Cached]] = {}
        self._generation: Generation | None = None
        self._checked_at = 0.0
        self._asking: asyncio.Task[Generation] | None = None
        self._lock = asyncio.Lock()

    async def generation(self, db: Database) -> Generation:
        """The database's publish generation, asked at most once per ``check_seconds``.

        Once one is known, requests never wait for the question: the one that finds it
        old asks in the background and serves the known one meanwhile."""
        known = self._generation
        if known is None or self.check_seconds <= 0:
            async with self._lock:
                if self._generation is None or self.check_seconds <= 0:
                    await self._ask(db)
            assert self._generation is not None
            return self._generation
        if time.monotonic() - self._checked_at >= self.check_seconds and self._asking is None:
            self._asking = asyncio.create_task(self._ask(db))
            self._asking.add_done_callback(self._asked)
        return known

    async def _ask(self, db: Database) -> Generation:
        self._generation = await publish_generation(db)
        self._checked_at = time.monotonic()
        return self._generation

    def _asked(self, task: asyncio.Task[Generation]) -> None:
        self._asking = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("the publish generation could not be read: %s", task.exception())
            self._checked_at = time.monotonic()  # ask again after the interval, not at once

    async def answer(self, request: Request, db: Database, key: str, build: Builder) -> Response:
        """The cached answer for ``key`` (built afresh for a new generation), or a 304."""
        cached = await self.get(db, key, build)
        if not_modified(request.headers, cached):
            return Response(status_code=304, headers=cached.headers)
        built = cached.built
        return Response(built.body, media_type=built.media_type, headers=cached.headers)

    async def get(self, db: Database, key: str, build: Builder) -> Cached:
        generation = await self.generation(db)
        hit = self._answers.get(key)
        if hit is not None and hit.generation == generation.token:
            self._answers.move_to_end(key)
            return hit
        # Requests that miss together share one build (a new issue brings many readers).
        task = self._building.get((key, generation.token))
        if task is None:
            task = asyncio.create_task(self._build(key, generation, build))
            self._building[key, generation.token] = task
        return await asyncio.shield(task)  # a reader who leaves does not stop the others'

    async def _build(self, key: str, generation: Generation, build: Builder) -> Cached:
        try:
            built = await build(generation)
        finally:
            del self._building[key, generation.token]
        modified = (built.modified or EPOCH).astimezone(UTC).replace(microsecond=0)
        cached = Cached(built, generation.token, _etag(built.body), modified)
        self._answers[key] = cached
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return cached


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(headers: Mapping[str, str], cached: Cached) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present (weak comparison); otherwise
    If-Modified-Since, if it is a date no earlier than the answer's Last-Modified."""
    match = headers.get("if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or cached.etag in tags
    since = headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # not a date: answer in full
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return cached.modified <= when
