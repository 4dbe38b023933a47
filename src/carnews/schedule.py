"""Schedule: run gather, draft, send-when-approved and publish on a timetable.

APScheduler 3 in the web server's event loop. The timetable is settings
(``schedule.fetch_cron``, ``draft_cron``, ``digest_cron``, ``send_cron``: crontab expressions,
read at start-up by :mod:`carnews.crontab`). Each job is idempotent and guarded so a run that
takes longer than its interval is not started twice. Several instances may run
``carnews serve --scheduler``: a lease in the database (:mod:`carnews.storage.leases`)
lets one of them run the jobs, and another takes over within ``LEASE_SECONDS`` when it
stops. The leader renews the lease every ``HEARTBEAT_SECONDS``; ``/healthz`` judges the
age of that heartbeat.

Every job run logs one line with its outcome (logger ``carnews.schedule``); the
counts ride along as ``extra`` fields, which the JSON log format keeps as keys.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from carnews.clock import Clock
from carnews.crontab import checked_cron
from carnews.errors import CarnewsError
from carnews.jobs import SendOutcome, draft, draft_digest, gather, send_all_due
from carnews.monitor.metrics import JOB_RUNS
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.leases import SCHEDULER_LEASE, hold, holder_name

log = logging.getLogger("carnews.schedule")
ACTOR = "scheduler"
LEASE = SCHEDULER_LEASE
LEASE_SECONDS = 90.0  # renewed every HEARTBEAT_SECONDS, so a live leader never loses it
HEARTBEAT_SECONDS = 30.0
FAILED_SOURCE = frozenset({"error", "failing", "gone"})

Job = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class JobOutcome:
    """What one job run did: a word for machines, a sentence for people, the counts."""

    outcome: str
    message: str
    counts: dict[str, int | None] = field(default_factory=dict)


async def fetch_job(db: Database, settings: Settings, clock: Clock) -> JobOutcome:
    report = await gather(db, settings, clock)
    for source in report.sources:
        for warning in source.warnings:
            log.warning("source %r: %s", source.name, warning)
    failed = [source for source in report.sources if source.outcome in FAILED_SOURCE]
    for source in failed:
        log.warning(
            "source %r failed: %s",
            source.name,
            source.error,
            extra={"job": "fetch", "source": source.name},
        )
    counts: dict[str, int | None] = {
        "sources": len(report.sources),
        "new_entries": sum(source.new for source in report.sources),
        "errors": len(failed),
        "kept": len(report.curation.kept),
        "dropped": len(report.curation.dropped),
    }
    message = (
        f"fetch: {counts['sources']} sources polled, {counts['new_entries']} new "
        f"entries, {counts['errors']} errors, {counts['kept']} stories kept"
    )
    return JobOutcome("errors" if failed else "ok", message, counts)


async def draft_job(db: Database, settings: Settings, clock: Clock) -> JobOutcome:
    result = await draft(db, settings, clock, actor=ACTOR)
    if result.edition_id is None:
        return JobOutcome(
            "nothing new",
            f"draft: nothing new ({result.reason})",
            {"edition_id": None, "stories": 0},
        )
    return JobOutcome(
        "drafted",
        f"draft: edition {result.edition_id} with {result.story_count} stories",
        {"edition_id": result.edition_id, "stories": result.story_count},
    )


async def digest_job(db: Database, settings: Settings, clock: Clock) -> JobOutcome:
    """Daily, so a scheduler that was down on the 1st still drafts last month's digest."""
    result = await draft_digest(db, settings, clock, actor=ACTOR, only_if_wanted=True)
    if result is None:
        return JobOutcome("nothing new", "digest: no reader chose the monthly digest")
    if not result.created:
        return JobOutcome("nothing new", f"digest: {result.month} already drafted or empty",
                          {"edition_id": result.edition_id})  # fmt: skip
    return JobOutcome("drafted", f"digest of {result.month} drafted (edition "
                      f"{result.edition_id}): approve it to send it",
                      {"edition_id": result.edition_id})  # fmt: skip


async def send_job(db: Database, settings: Settings, clock: Clock) -> JobOutcome:
    refused: list[int] = []
    outcomes = await send_all_due(
        db, settings, clock, actor=ACTOR, on_error=lambda edition_id, _: refused.append(edition_id)
    )
    return send_pass(outcomes, refused)


def send_pass(outcomes: list[SendOutcome], refused: list[int]) -> JobOutcome:
    """One pass of sending in a word and counts: the scheduler's send job and the worker
    log it alike, so a log collector counts both the same way."""
    sent = failed = 0
    for outcome in outcomes:
        if outcome.report is not None:  # the edition's ledger, after this pass
            sent += outcome.report.sent
            failed += outcome.report.failed_temporary + outcome.report.failed_permanent
        elif outcome.test_mode is not None:
            sent += len(outcome.test_mode.sent)
            failed += len(outcome.test_mode.refused)
    counts: dict[str, int | None] = {
        "editions": len(outcomes) + len(refused),
        "sent": sent,
        "failed": failed,
        "errors": len(refused),
    }
    if not counts["editions"]:
        return JobOutcome("nothing to send", "send: no approved edition to send", counts)
    message = f"send: {counts['editions']} editions, {sent} sent, {failed} failed" + (
        f", {len(refused)} not sent (see above)" if refused else ""
    )
    return JobOutcome("errors" if refused else "sent", message, counts)


def logged(name: str, run: Callable[[], Awaitable[JobOutcome]]) -> Job:
    """``run`` with its outcome logged as one line; a failure is logged, not raised, so
    the timetable goes on and the log says which job failed and why."""

    async def job() -> None:
        try:
            result = await run()
        except CarnewsError as exc:
            JOB_RUNS.labels(name, "error").inc()
            log.error(
                "%s failed: %s",
                name,
                exc.message,
                extra={"job": name, "outcome": "error", "hint": exc.hint},
            )
            return
        except Exception:
            JOB_RUNS.labels(name, "error").inc()
            log.exception("%s failed", name, extra={"job": name, "outcome": "error"})
            return
        JOB_RUNS.labels(name, result.outcome).inc()
        fields: dict[str, object] = {"job": name, "outcome": result.outcome, **result.counts}
        log.info("%s", result.message, extra=fields)

    job.__name__ = name
    return job


def led(db: Database, clock: Clock, holder: str, job: Job) -> Job:
    """``job`` runs only in the process that holds the scheduler lease."""

    async def run() -> None:
        if await hold(db, clock, LEASE, holder, LEASE_SECONDS):
            await job()
        else:
            log.debug("%s skipped: another scheduler holds the lease", job.__name__)

    run.__name__ = job.__name__
    return run


RunJob = Callable[[Database, Settings, Clock], Awaitable[JobOutcome]]
# (APScheduler job id, name in the log, the job, the setting that times it)
TIMETABLE: tuple[tuple[str, str, RunJob, str], ...] = (
    ("gather", "fetch", fetch_job, "fetch_cron"),
    ("draft", "draft", draft_job, "draft_cron"),
    ("digest", "digest", digest_job, "digest_cron"),
    ("send", "send", send_job, "send_cron"),
)


def build_scheduler(
    db: Database, settings: Settings, clock: Clock, holder: str | None = None
) -> AsyncIOScheduler:
    """The timetable; ``holder`` names this process in the lease (give it back with
    ``leases.release`` when the scheduler stops)."""

    async def heartbeat() -> None:
        """Keeps the lease while the leader's jobs are far apart."""

    def bound(run: RunJob) -> Callable[[], Awaitable[JobOutcome]]:
        return lambda: run(db, settings, clock)

    holder = holder or holder_name()
    zone = settings.schedule.timezone
    scheduler = AsyncIOScheduler(
        timezone="UTC", job_defaults={"max_instances": 1, "coalesce": True}
    )
    # The first heartbeat at once: a new leader shows in /healthz from its start.
    scheduler.add_job(
        led(db, clock, holder, heartbeat),
        IntervalTrigger(seconds=HEARTBEAT_SECONDS),
        id="lease",
        next_run_time=datetime.now(UTC),
    )
    for job_id, name, run, key in TIMETABLE:
        trigger = checked_cron(f"schedule.{key}", getattr(settings.schedule, key), zone)
        scheduler.add_job(led(db, clock, holder, logged(name, bound(run))), trigger, id=job_id)
    return scheduler
