"""Several schedulers, one leader: the lease in the database decides who runs the jobs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from carnews.clock import Clock, ManualClock
from carnews.schedule import LEASE_SECONDS, Job, build_scheduler, led
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.leases import hold

pytestmark = pytest.mark.both_databases


async def test_one_holder_at_a_time_until_the_lease_runs_out(db: Database, clock: Clock) -> None:
    manual = ManualClock(clock())
    assert await hold(db, manual, "scheduler", "a", 90)
    assert not await hold(db, manual, "scheduler", "b", 90), "a holds it"
    await manual.sleep(60)
    assert await hold(db, manual, "scheduler", "a", 90), "the holder renews"
    await manual.sleep(89)
    assert not await hold(db, manual, "scheduler", "b", 90), "renewed, so still a's"
    await manual.sleep(2)
    assert await hold(db, manual, "scheduler", "b", 90), "a stopped renewing: b takes over"
    assert not await hold(db, manual, "scheduler", "a", 90)
    assert await hold(db, manual, "other", "a", 90), "leases are per name"


async def test_processes_racing_for_a_new_lease_get_one_winner(db: Database, clock: Clock) -> None:
    won = await asyncio.gather(*(hold(db, clock, "scheduler", f"p{n}", 90) for n in range(6)))
    assert sum(won) == 1


async def test_only_the_leaders_jobs_run_and_a_follower_takes_over(
    db: Database, clock: Clock
) -> None:
    manual = ManualClock(clock())
    runs: list[str] = []

    def job(name: str) -> Job:
        async def gather_job() -> None:
            runs.append(name)

        return led(db, manual, name, gather_job)

    first, second = job("first"), job("second")
    for _ in range(3):
        await first()
        await second()
        await manual.sleep(30)
    assert runs == ["first"] * 3
    await manual.sleep(LEASE_SECONDS)  # the first process is gone: no renewals
    await second()
    await first()
    assert runs[-1] == "second" and runs.count("second") == 1


def test_the_scheduler_renews_its_lease_between_jobs(
    db: Database, clock: Clock, settings: Settings
) -> None:
    scheduler = build_scheduler(db, settings, clock)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"lease", "gather", "draft", "digest", "send"}
    assert jobs["lease"].trigger.interval < timedelta(seconds=LEASE_SECONDS / 2)


async def test_one_holders_jobs_starting_together_share_a_new_lease(
    db: Database, clock: Clock
) -> None:
    """At start every job of the leader asks for a lease no row holds yet: the one that
    loses the insert is still the holder, not a follower that skips its run."""
    won = await asyncio.gather(*(hold(db, clock, "scheduler", "leader", 90) for _ in range(4)))
    assert won == [True] * 4
    assert not await hold(db, clock, "scheduler", "other", 90)
