"""robots.txt: may carnews read this page? Asked once per site, remembered for a day.

Only the landing-page reader (``gather.enrich``) asks: a feed is published to be polled,
an article page is not. The file is fetched through the run's own HTTP client (same
User-Agent, timeouts and caps), kept in memory for the run and in the database for
``KEEP`` (RFC 9309 §2.4 asks that a cached copy be used no longer than a day).

What an answer means follows RFC 9309 §2.3.1: a 2xx holds the rules; a 4xx means the
site has none, so everything is allowed; a 5xx or no answer at all means "unreachable",
so nothing is, and that verdict is kept for this run only, so a brief outage is not
remembered for a day. Rules are read as RFC 9309 reads them (``gather.robotsrules``):
the longest matching rule decides, with ``*`` and ``$`` in paths.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from carnews.clock import Clock
from carnews.gather.http import get
from carnews.gather.robotsrules import parse_rules
from carnews.storage import Database
from carnews.storage.models import RobotsFile

AGENT = "carnews"  # the product token a robots.txt names us by
KEEP = timedelta(days=1)
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309 §2.5: at least 500 KiB must be read


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, the scope of one robots.txt; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 80 if parts.scheme == "http" else 443
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


Rules = Callable[[str], bool]  # URL -> may carnews fetch it


def rules(status: int | None, body: str) -> Rules:
    """The rules one answer to /robots.txt stands for (see the module docstring)."""
    if status is not None and 200 <= status < 300:
        return parse_rules(body, AGENT)
    # No file (a 4xx, or redirects that led nowhere): no rules. Unreachable: keep out.
    allowed = status is not None and 300 <= status < 500
    return lambda url: allowed


class Robots:
    """The robots.txt verdicts of one run; ``allows`` fetches a site's file when first asked."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        db: Database,
        clock: Clock,
        *,
        timeout: float,
    ) -> None:
        self._client, self._db, self._clock, self._timeout = client, db, clock, timeout
        self._known: dict[str, Rules] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.fetched = 0  # robots.txt files read from the network in this run

    async def allows(self, url: str) -> bool:
        site = origin(url)
        if site is None:
            return False
        async with self._locks[site]:  # two pages of one site: one robots.txt request
            if site not in self._known:
                self._known[site] = await self._load(site)
        return self._known[site](url)

    async def _load(self, site: str) -> Rules:
        now = self._clock()
        # Short sessions, never one held across the network: SQLite has one writer.
        async with self._db.session() as session:
            stored = await session.get(RobotsFile, site)
            if stored is not None and stored.fetched_at > now - KEEP:
                return rules(stored.status, stored.body)
        answer = await get(self._client, f"{site}/robots.txt", max_bytes=MAX_ROBOTS_BYTES,
                           total_timeout=self._timeout, accept="text/plain")  # fmt: skip
        self.fetched += 1
        status = answer.status
        if status is None or status >= 500 or (answer.error is not None and status < 400):
            return rules(None, "")  # unreachable: a 5xx, no answer, a body over the cap
        body = answer.body.decode("utf-8", errors="replace") if status < 300 else ""
        async with self._db.session() as session:
            stored = await session.get(RobotsFile, site) or RobotsFile(origin=site)
            stored.status, stored.body, stored.fetched_at = status, body, now
            session.add(stored)
        return rules(status, body)
