"""Schedule: run gather, draft, the monthly digest's draft, send-when-approved and publish
on a timetable.

APScheduler 3 in the web server's event loop. Each job is idempotent and
guarded so a run that takes longer than its interval is not started twice.
Several instances may run ``carnews serve --scheduler``: a lease in the database
(:mod:`carnews.storage.leases`) lets one of them run the jobs, and another takes over
within ``LEASE_SECONDS`` when it stops.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from carnews.clock import Clock
from carnews.jobs import draft, draft_digest, gather, send_all_due
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.leases import hold, holder_name

log = logging.getLogger("carnews.schedule")
ACTOR = "scheduler"
LEASE = "scheduler"
LEASE_SECONDS = 90.0  # renewed every HEARTBEAT_SECONDS, so a live leader never loses it
HEARTBEAT_SECONDS = 30.0

Job = Callable[[], Awaitable[None]]


def led(db: Database, clock: Clock, holder: str, job: Job) -> Job:
    """``job`` runs only in the process that holds the scheduler lease."""

    async def run() -> None:
        if await hold(db, clock, LEASE, holder, LEASE_SECONDS):
            await job()
        else:
            log.debug("%s skipped: another scheduler holds the lease", job.__name__)

    run.__name__ = job.__name__
    return run


def build_scheduler(db: Database, settings: Settings, clock: Clock) -> AsyncIOScheduler:
    async def gather_job() -> None:
        report = await gather(db, settings, clock)
        log.info("gathered %d sources, kept %d stories", len(report.sources),
                 len(report.curation.kept))  # fmt: skip
        for source in report.sources:
            for warning in source.warnings:
                log.warning("source %s: %s", source.name, warning)

    async def draft_job() -> None:
        result = await draft(db, settings, clock, actor=ACTOR)
        log.info("draft: %s", result.reason)

    async def digest_job() -> None:
        """Daily, so a scheduler that was down on the 1st still drafts last month's."""
        result = await draft_digest(db, settings, clock, actor=ACTOR, only_if_wanted=True)
        if result is not None and result.created:
            log.info("digest of %s drafted (edition %s): approve it to send it",
                     result.month, result.edition_id)  # fmt: skip

    async def send_job() -> None:
        await send_all_due(db, settings, clock, actor=ACTOR)

    async def heartbeat() -> None:
        """Keeps the lease while the leader's jobs are far apart."""

    holder = holder_name()
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"max_instances": 1,
                                                               "coalesce": True})  # fmt: skip
    scheduler.add_job(led(db, clock, holder, heartbeat),
                      IntervalTrigger(seconds=HEARTBEAT_SECONDS), id="lease")  # fmt: skip
    scheduler.add_job(led(db, clock, holder, gather_job), IntervalTrigger(minutes=15), id="gather")
    scheduler.add_job(led(db, clock, holder, draft_job), CronTrigger(day_of_week="mon", hour=6),
                      id="draft")  # fmt: skip
    scheduler.add_job(led(db, clock, holder, digest_job), CronTrigger(hour=6, minute=30),
                      id="digest")  # fmt: skip
    scheduler.add_job(led(db, clock, holder, send_job), IntervalTrigger(minutes=5), id="send")
    return scheduler
