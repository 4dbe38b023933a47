"""Schedule: run gather, draft, send-when-approved and publish on a timetable.

APScheduler 3 in the web server's event loop. Each job is idempotent and
guarded so a run that takes longer than its interval is not started twice.
Leader election across several instances is left to a later change; run the
scheduler in one process only (``carnews serve --scheduler``).
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from carnews.clock import Clock
from carnews.deliver import send_edition
from carnews.errors import CarnewsError
from carnews.pipeline import approved_edition_ids, draft, gather
from carnews.publish import publish
from carnews.settings import Settings
from carnews.storage import Database

log = logging.getLogger("carnews.schedule")
ACTOR = "scheduler"


def build_scheduler(db: Database, settings: Settings, clock: Clock) -> AsyncIOScheduler:
    async def gather_job() -> None:
        report = await gather(db, settings, clock)
        log.info("gathered %d sources, kept %d stories", len(report.sources),
                 len(report.curation.kept))  # fmt: skip

    async def draft_job() -> None:
        result = await draft(db, settings, clock, actor=ACTOR)
        log.info("draft: %s", result.reason)

    async def send_job() -> None:
        for edition_id in await approved_edition_ids(db):
            try:
                report = await send_edition(db, settings, clock, edition_id, actor=ACTOR)
            except CarnewsError as exc:  # the next run tries again; the ledger keeps its place
                log.warning("edition %d not sent: %s", edition_id, exc.message)
                continue
            if report.finished:
                await publish(db, settings)

    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={"max_instances": 1,
                                                               "coalesce": True})  # fmt: skip
    scheduler.add_job(gather_job, IntervalTrigger(minutes=15), id="gather")
    scheduler.add_job(draft_job, CronTrigger(day_of_week="mon", hour=6), id="draft")
    scheduler.add_job(send_job, IntervalTrigger(minutes=5), id="send")
    return scheduler
