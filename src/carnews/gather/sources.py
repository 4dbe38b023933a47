"""Sources: the configured sources in the database, their health and when to poll next.

The polling policy is the one the best feed readers learnt the hard way:
- the next poll is the latest of our schedule, the feed's ``<ttl>``, the
  server's ``Cache-Control: max-age`` / ``Expires`` and any ``Retry-After``;
- errors back off geometrically, and after ``fetch.max_consecutive_errors``
  failures in a row the source is marked *failing* and left alone until an
  operator enables it again (``carnews sources enable NAME``);
- 301/308 move the stored URL, 302/307 do not, 410 marks the source *gone*.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from carnews.errors import NotFoundError
from carnews.gather.fetch import FetchResult
from carnews.gather.http import fresh_until, retry_after
from carnews.settings import SourceSettings
from carnews.storage import Database
from carnews.storage.models import Source, SourceHealth

MAX_BACKOFF_DOUBLINGS = 6
THROTTLED = {429, 503}
MAX_SERVER_DELAY = timedelta(days=7)  # a server cannot push a source out for longer


# What the services call themselves, for sources named after them or of their kind.
SERVICE_NAMES = {
    "pubmed": "PubMed", "clinicaltrials": "ClinicalTrials.gov", "europepmc": "Europe PMC",
    "medrxiv": "medRxiv", "biorxiv": "bioRxiv", "fda": "FDA", "ema": "EMA", "nejm": "NEJM",
    "bmj": "BMJ", "nih": "NIH", "who": "WHO",
}  # fmt: skip
KIND_NAMES = {"pubmed": "PubMed", "clinicaltrials": "ClinicalTrials.gov",
              "europepmc": "Europe PMC"}  # fmt: skip


def display_name(config: SourceSettings) -> str:
    """The name readers see: the config's ``display_name``, else the service a search
    source asks, else the config name tidied ("lancet-rheumatology" → "Lancet rheumatology")."""
    if config.display_name.strip():
        return " ".join(config.display_name.split())
    if config.kind in KIND_NAMES:
        return KIND_NAMES[config.kind]
    return tidy_name(config.name)


def tidy_name(name: str) -> str:
    if not re.search(r"[-_]", name) and name != name.lower():
        return " ".join(name.split())  # already written for people: "ClinicalTrials.gov"
    words = [word for word in re.split(r"[-_.\s]+", name) if word]
    if not words:
        return name
    tidied = [SERVICE_NAMES.get(word.lower(), word) for word in words]
    first = tidied[0]
    tidied[0] = first if first != words[0] else first[:1].upper() + first[1:]
    return " ".join(tidied)


async def sync_sources(db: Database, configured: Sequence[SourceSettings], now: datetime) -> None:
    """Make the sources table match the config: add new ones, update changed fields."""
    async with db.session() as session:
        existing = {s.name: s for s in (await session.scalars(select(Source))).all()}
        for config in configured:
            source = existing.get(config.name)
            if source is None:
                source = Source(name=config.name, url=config.url, config_url=config.url,
                                created_at=now)  # fmt: skip
                session.add(source)
            elif source.config_url != config.url:  # the operator changed it: start afresh
                source.url = source.config_url = config.url
                source.etag = source.last_modified = None
                source.health, source.consecutive_errors = SourceHealth.OK, 0
            source.kind = config.kind
            source.display_name = display_name(config)
            source.query = config.query
            source.interval_minutes = config.interval_minutes
            source.weight = config.weight
            source.enabled = config.enabled
        configured_names = {config.name for config in configured}
        for name, source in existing.items():
            if name not in configured_names:
                source.enabled = False


def is_due(source: Source, now: datetime) -> bool:
    return source.health == SourceHealth.OK and (
        source.next_check_at is None or source.next_check_at <= now
    )


def _capped(moment: datetime | None, now: datetime) -> datetime | None:
    return None if moment is None else min(moment, now + MAX_SERVER_DELAY)


def next_poll(source: Source, result: FetchResult, now: datetime) -> datetime:
    """The latest of: our interval, the feed's <ttl>, the server's freshness and Retry-After."""
    candidates = [now + timedelta(minutes=source.interval_minutes)]
    if result.ttl_minutes:
        candidates.append(now + timedelta(minutes=result.ttl_minutes))
    fresh = _capped(fresh_until(result.cache_control, result.expires, now), now)
    if fresh is not None:
        candidates.append(fresh)
    return max(candidates)


def count_poll(source: Source, outcome: str) -> None:
    """One more poll on the source's counters (``/metrics``: carnews_fetches_total)."""
    if outcome == "ok":
        source.fetches_ok += 1
    elif outcome == "not_modified":
        source.fetches_not_modified += 1
    else:
        source.fetches_failed += 1


def record_failure(source: Source, result: FetchResult, now: datetime, max_errors: int) -> None:
    source.last_error = result.error
    if result.http_status == 410:
        source.health = SourceHealth.GONE
        return
    source.consecutive_errors += 1
    doublings = min(source.consecutive_errors, MAX_BACKOFF_DOUBLINGS)
    backoff = now + timedelta(minutes=source.interval_minutes * 2**doublings)
    waits = [backoff]
    if result.http_status in THROTTLED:
        asked = _capped(retry_after(result.retry_after, now), now)
        if asked is not None:
            waits.append(asked)
    source.next_check_at = max(waits)
    if source.consecutive_errors >= max_errors:
        source.health = SourceHealth.FAILING


def record_success(source: Source, result: FetchResult, now: datetime) -> None:
    source.consecutive_errors = 0
    source.last_error = None
    source.last_success_at = now
    source.etag, source.last_modified = result.etag, result.last_modified
    if result.moved_to and result.moved_to != source.url:
        source.url = result.moved_to  # permanent redirects only; config_url stays as written
    source.next_check_at = next_poll(source, result, now)


@dataclass(frozen=True)
class SourceStatus:
    name: str
    url: str
    kind: str
    enabled: bool
    health: str  # ok, failing (from the first error in a row) or gone
    last_status: int | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_errors: int
    next_check_at: datetime | None
    entries_seen: int
    polled: bool  # False: carnews leaves it alone until 'carnews sources enable'


def shown_health(source: Source) -> SourceHealth:
    """A source that failed its last poll is failing, even before it is left alone.

    The stored health turns FAILING only after fetch.max_consecutive_errors failures in a
    row; a source that only ever answered 404 must not look 'ok' until then.
    """
    if source.health == SourceHealth.OK and source.consecutive_errors > 0:
        return SourceHealth.FAILING
    return source.health


async def source_statuses(db: Database) -> list[SourceStatus]:
    async with db.read() as session:
        rows = (await session.scalars(select(Source).order_by(Source.name))).all()
        return [
            SourceStatus(s.name, s.url, s.kind, s.enabled, shown_health(s).value, s.last_status,
                         s.last_success_at, s.last_error, s.consecutive_errors,
                         s.next_check_at, s.entries_seen,
                         s.enabled and s.health == SourceHealth.OK)
            for s in rows
        ]  # fmt: skip


async def enable_source(db: Database, name: str, now: datetime) -> None:
    """An operator's word that a failing or gone source deserves another try, now."""
    async with db.session() as session:
        source = await session.scalar(select(Source).where(Source.name == name))
        if source is None:
            raise NotFoundError(f"there is no source named {name!r}",
                                hint="'carnews sources' lists them.")  # fmt: skip
        source.health = SourceHealth.OK
        source.consecutive_errors = 0
        source.next_check_at = now
