"""The site key: one random key per installation, made on first use and kept.

``CARNEWS_SITE_SECRET_KEY``, when set, is used as it is. Without it, the key is
made once (32 random bytes) and kept in the database, so every process that
shares the database (web app, scheduler, ``carnews bounces token``) derives the
same bounce webhook token, before and after a restart. A new shell or a
forgotten variable no longer changes it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from carnews.clock import Clock
from carnews.errors import StorageError
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import SiteKey

SITE = "site"


async def site_key(db: Database, settings: Settings, clock: Clock) -> str:
    """The configured key, else the one kept in the database (made now if there is none)."""
    configured = settings.site.secret_key.reveal()
    if configured:
        return configured
    try:
        kept = await _kept(db)
        if kept is not None:
            return kept
        try:
            async with db.session() as session:
                session.add(SiteKey(name=SITE, value=secrets.token_urlsafe(32),
                                    created_at=clock()))  # fmt: skip
        except IntegrityError:  # another process made it first: theirs is the key
            pass
        kept = await _kept(db)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot keep the site key in the database: {type(exc).__name__}",
            hint="Check that the database is writable, or set CARNEWS_SITE_SECRET_KEY.",
        ) from exc
    assert kept is not None, "the key was just stored"
    return kept


async def _kept(db: Database) -> str | None:
    async with db.session() as session:
        return await session.scalar(select(SiteKey.value).where(SiteKey.name == SITE))
