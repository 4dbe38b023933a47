"""Source kinds: every way carnews can poll a source, behind one call.

A source's ``kind`` names how to read it: ``feed`` (RSS, Atom, RDF, JSON Feed, in
``carnews.gather.fetch``), ``pubmed`` (E-utilities), ``clinicaltrials`` (ClinicalTrials.gov
API v2) or ``europepmc`` (Europe PMC REST search). Each kind turns what it downloads
into the same ``FetchedEntry`` objects through ``carnews.gather.fetch.build_entry``, and
reports the same ``FetchResult``, so ingest stores them all alike. Like
``carnews.gather.fetch.fetch``, a kind never raises: every failure is an ``error`` result.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from carnews.gather.fetch import FetchResult, Poll, fetch
from carnews.gather.kinds.clinicaltrials import fetch_studies
from carnews.gather.kinds.europepmc import fetch_europepmc
from carnews.gather.kinds.pubmed import fetch_pubmed

__all__ = ["KINDS", "Fetcher", "fetch_kind"]


class Fetcher(Protocol):
    """One way to poll a source; each kind reads the parts of the ``Poll`` it needs."""

    async def __call__(self, client: httpx.AsyncClient, poll: Poll) -> FetchResult: ...


async def _fetch_feed(client: httpx.AsyncClient, poll: Poll) -> FetchResult:
    """A feed is its URL: the query and the window do not apply."""
    return await fetch(client, poll.request, max_bytes=poll.max_bytes,
                       total_timeout=poll.total_timeout,
                       parse_timeout=poll.parse_timeout)  # fmt: skip


# The keys are settings.SourceKind; a test keeps the two in step.
KINDS: dict[str, Fetcher] = {
    "feed": _fetch_feed,
    "pubmed": fetch_pubmed,
    "clinicaltrials": fetch_studies,
    "europepmc": fetch_europepmc,
}


async def fetch_kind(kind: str, client: httpx.AsyncClient, poll: Poll) -> FetchResult:
    """Poll one source of any kind; ``poll.now`` and ``poll.window_days`` bound the searches."""
    fetcher = KINDS.get(kind)
    if fetcher is None:
        known = ", ".join(KINDS)
        return FetchResult(
            url=poll.request.url,
            outcome="error",
            error=f"unknown source kind {kind!r}: set kind to one of {known} in carnews.toml",
        )
    return await fetcher(client, poll)
