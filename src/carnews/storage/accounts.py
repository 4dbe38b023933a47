"""Editors' accounts: who may review editions, their sessions and failed logins.

Kept beside ``models`` (same ``Base``) because they are a separate idea: people who run
the newsletter, not the newsletter's content. Passwords are stored only as argon2
hashes and sessions only as SHA-256 hashes of the cookie, so a copy of the database
lets nobody log in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from carnews.storage.models import Base, _enum


class EditorRole(enum.StrEnum):
    EDITOR = "editor"  # edits, approves, schedules and sends
    CONTRIBUTOR = "contributor"  # edits only


class Editor(Base):
    __tablename__ = "editors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[EditorRole] = mapped_column(_enum(EditorRole, "editor_role"))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class EditorSession(Base):
    __tablename__ = "editor_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("editors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginFailures(Base):
    """Failed logins counted per key: ``account:EMAIL`` and ``ip:ADDRESS``.

    Counted for unknown addresses too, so a lock-out says nothing about who has an account.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
