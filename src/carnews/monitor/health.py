"""Health: is this installation working? The answer ``/healthz`` and ``carnews status`` give.

Unhealthy (``/healthz`` answers 503) means one of two things an operator must act on:

- the database cannot be reached (nothing works without it);
- the scheduler is *stale*: a scheduler holds the lease, but its last heartbeat is older
  than ``ops.scheduler_stale_seconds`` (default 120 s; it beats every 30 s and its lease
  lasts 90 s, so past 120 s no live scheduler is running the timetable). A scheduler
  that stopped cleanly gives its lease up; with no lease at all nothing is judged (an
  installation may run without ``--scheduler``, e.g. ``carnews fetch`` from cron).
  ``ops.scheduler_stale_seconds = 0`` turns the judgement off.

Failing sources are reported (``warnings``), not unhealthy: a feed that answers 404 is
the feed's problem, and must not take the web app out of a load balancer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carnews.monitor.snapshot import Snapshot
from carnews.settings import OpsSettings
from carnews.storage.leases import LeaseState


@dataclass(frozen=True)
class SchedulerHealth:
    state: str  # running, stale, not running, or not judged (ops.scheduler_stale_seconds = 0)
    holder: str | None
    heartbeat_at: datetime | None
    heartbeat_age_seconds: float | None


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    body: dict[str, Any]  # what /healthz answers


def scheduler_health(
    lease: LeaseState | None, now: datetime, stale_after: float
) -> SchedulerHealth:
    if lease is None:
        return SchedulerHealth("not running", None, None, None)
    # A lease written before its renewal time was recorded: it ends a lease after it began.
    beat = lease.renewed_at or lease.expires_at
    age = max((now - beat).total_seconds(), 0.0)
    if not stale_after:
        state = "not judged"
    elif age > stale_after or (lease.renewed_at is None and lease.expires_at < now):
        state = "stale"
    else:
        state = "running"
    return SchedulerHealth(state, lease.holder, lease.renewed_at, age)


def judge(snapshot: Snapshot, ops: OpsSettings) -> HealthReport:
    now = snapshot.taken_at
    scheduler = scheduler_health(snapshot.scheduler, now, ops.scheduler_stale_seconds)
    problems = []
    if scheduler.state == "stale":
        problems.append(
            f"the scheduler's last heartbeat is {scheduler.heartbeat_age_seconds:.0f} s old "
            f"(stale after ops.scheduler_stale_seconds = {ops.scheduler_stale_seconds:g})"
        )
    warnings = tuple(
        f"source {row.name!r} is {row.health}: {row.last_error or 'no error recorded'}"
        for row in snapshot.sources
        if row.enabled and row.health != "ok"
    )
    body = {
        "status": "unhealthy" if problems else "ok",
        "checked_at": now.isoformat(),
        "problems": problems,
        "warnings": list(warnings),
        "database": {"reachable": True},
        "scheduler": {
            "state": scheduler.state,
            "holder": scheduler.holder,
            "heartbeat_at": _iso(scheduler.heartbeat_at),
            "heartbeat_age_seconds": scheduler.heartbeat_age_seconds,
            "stale_after_seconds": ops.scheduler_stale_seconds,
        },
        "sources": [
            {
                "name": row.name,
                "health": row.health,
                "enabled": row.enabled,
                "last_success_at": _iso(row.last_success_at),
                "last_checked_at": _iso(row.last_checked_at),
                "consecutive_errors": row.consecutive_errors,
            }
            for row in snapshot.sources
        ],
        "last_send_at": _iso(snapshot.last_send_at),
        "queue_depth": snapshot.queue_depth,
    }
    return HealthReport(not problems, tuple(problems), warnings, body)


def unreachable(error: str, now: datetime) -> HealthReport:
    """The report when the database did not answer: nothing else can be known."""
    problem = f"the database cannot be reached: {error}"
    body = {
        "status": "unhealthy",
        "checked_at": now.isoformat(),
        "problems": [problem],
        "warnings": [],
        "database": {"reachable": False, "error": error},
    }
    return HealthReport(False, (problem,), (), body)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
