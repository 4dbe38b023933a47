"""The audit log: who did what to which object, written in the caller's transaction.

Every stage records its actions here (approvals, sends, unsubscribes, bounces), so it
lives with storage rather than with any one of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carnews.storage.models import AuditEvent


def audit(
    session: AsyncSession,
    now: datetime,
    actor: str,
    action: str,
    obj: tuple[str, object],
    **detail: Any,
) -> None:
    """Write one audit event in the caller's transaction."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            object_type=obj[0],
            object_id=str(obj[1]),
            detail=detail,
        )
    )
