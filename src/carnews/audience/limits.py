"""Sign-up rate limits: per IP an hour, per address a day, counted in the database.

Counts live in ``signup_attempts`` so every web worker sees the same ones; each row
holds an HMAC (site key) of the IP or address, never the plain text, and rows older
than a day are deleted as new ones come in.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.storage.models import SignupAttempt

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def keyed_hash(key: str, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the site key, separated by ``kind``."""
    # hmac.digest: the same HMAC in one C call (an import hashes every address it reads).
    return hmac.digest(key.encode(), f"{kind}:{value}".encode(), "sha256").hex()


async def count_recent(session: AsyncSession, kind: str, key_hash: str, since: datetime) -> int:
    found = await session.scalar(
        select(func.count()).where(
            SignupAttempt.kind == kind, SignupAttempt.key_hash == key_hash, SignupAttempt.at > since
        )
    )
    return found or 0


async def take(
    session: AsyncSession, kind: str, key_hash: str, now: datetime, *, limit: int, window: timedelta
) -> bool:
    """Count one attempt if fewer than ``limit`` were made in ``window``; False if not."""
    await session.execute(delete(SignupAttempt).where(SignupAttempt.at < now - DAY))
    if await count_recent(session, kind, key_hash, now - window) >= limit:
        return False
    session.add(SignupAttempt(kind=kind, key_hash=key_hash, at=now))
    await session.flush()
    return True
