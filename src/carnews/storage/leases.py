"""Leases: one process at a time runs what must not run twice, such as the scheduler.

A lease is a row naming its holder and when its hold ends. A holder renews it
before it ends; anyone may take it once it has ended, so when the leader dies
another process takes over within one lease. Taking and renewing are a single
conditional UPDATE, which PostgreSQL's row locks (and SQLite's one writer) keep
to one winner.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.clock import Clock
from carnews.storage import Database
from carnews.storage.models import Lease

SCHEDULER_LEASE = "scheduler"  # the one the scheduler's leader holds (carnews.schedule)


def holder_name() -> str:
    """This process, readable in the table: host, pid and a random part for pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def hold(db: Database, clock: Clock, name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``seconds``; False while another holds it."""
    now = clock()
    until = now + timedelta(seconds=seconds)
    async with db.session() as session:
        if await _renew(session, name, holder, now, until):
            return True
        if await session.scalar(select(Lease.name).where(Lease.name == name)) is not None:
            # The row was committed after the UPDATE looked (PostgreSQL's READ COMMITTED
            # gives each statement a new snapshot): ask again, now that it is seen, so
            # this holder's other job that just created it does not read as a rival.
            return await _renew(session, name, holder, now, until)
    try:
        async with db.session() as session:
            session.add(Lease(name=name, holder=holder, expires_at=until, renewed_at=now))
    except IntegrityError:
        # Someone created it first: another process, which holds it, or this holder's
        # other job starting at the same moment, whose lease this one shares.
        async with db.session() as session:
            return await _renew(session, name, holder, now, until)
    return True


async def _renew(
    session: AsyncSession, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Take the lease if it is ours or has ended: one conditional UPDATE, one winner."""
    taken = await session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(holder=holder, expires_at=until, renewed_at=now)
    )
    return cast("CursorResult[Any]", taken).rowcount == 1  # an UPDATE's result has one


async def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up at a clean stop, so a stopped scheduler is not taken for a dead one."""
    async with db.session() as session:
        await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


@dataclass(frozen=True)
class LeaseState:
    holder: str
    expires_at: datetime
    renewed_at: datetime | None


async def lease_state(db: Database, name: str) -> LeaseState | None:
    """Who holds ``name`` and when they last renewed it; None when nobody has taken it."""
    async with db.read() as session:
        row = await session.get(Lease, name)
        return None if row is None else LeaseState(row.holder, row.expires_at, row.renewed_at)
