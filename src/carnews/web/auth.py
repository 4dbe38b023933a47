"""Editors' accounts, logins and sessions: the people behind the review gate.

Passwords are argon2id hashes (argon2-cffi's defaults). A login that fails counts against
the account and the client's address; past ``review.max_failed_logins`` (or
``max_failed_logins_per_ip``) that key is locked for ``review.lockout_minutes``, even for
the right password, so guessing is slow whichever way it is spread. A session is a
random cookie whose SHA-256 alone is stored. The CLI (``carnews editors``) and the login
page both use these functions.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.subscriptions import normalise_address
from carnews.clock import Clock
from carnews.errors import AccessError, NotFoundError, SubscriberError
from carnews.settings import ReviewSettings
from carnews.storage import Database
from carnews.storage.accounts import Editor, EditorRole, EditorSession, LoginFailures
from carnews.storage.audit import audit

_hasher = PasswordHasher()
MIN_PASSWORD = 12


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the address has no account, so an unknown address costs as
    much time as a known one and the answer's speed names nobody.

    Made on the first login, not at import: argon2id takes 64 MiB and a third of a second,
    which every process importing carnews (a send, an import) would otherwise pay.
    """
    return _hasher.hash("no account has this password")


@dataclass(frozen=True)
class EditorInfo:
    id: int
    email: str
    role: EditorRole

    @property
    def may_approve(self) -> bool:
        """Approve, withdraw, discard, schedule and send: an editor's, not a contributor's."""
        return self.role == EditorRole.EDITOR


def _info(editor: Editor) -> EditorInfo:
    return EditorInfo(editor.id, editor.email, editor.role)


def _address(email: str) -> str:
    try:
        return normalise_address(email)
    except SubscriberError as exc:
        raise AccessError(exc.message, hint="Give the editor's email address.") from exc


async def add_editor(
    db: Database, clock: Clock, email: str, password: str, role: EditorRole, *, actor: str
) -> EditorInfo:
    if len(password) < MIN_PASSWORD:
        raise AccessError(
            f"a password needs at least {MIN_PASSWORD} characters",
            hint="Choose a longer one; a few unrelated words are easy to type.",
        )
    address = _address(email)
    async with db.session() as session:
        if await session.scalar(select(Editor.id).where(Editor.email == address)):
            raise AccessError(f"{address} is an editor already",
                              hint="Remove it first to change its password or role.")  # fmt: skip
        editor = Editor(email=address, role=role, password_hash=_hasher.hash(password),
                        created_at=clock())  # fmt: skip
        session.add(editor)
        await session.flush()
        audit(session, clock(), actor, "editor_add", ("editor", editor.id), email=address,
              role=role.value)  # fmt: skip
        return _info(editor)


async def list_editors(db: Database) -> list[EditorInfo]:
    async with db.read() as session:
        return [_info(e) for e in await session.scalars(select(Editor).order_by(Editor.email))]


async def remove_editor(db: Database, clock: Clock, email: str, *, actor: str) -> None:
    address = _address(email)
    async with db.session() as session:
        editor = await session.scalar(select(Editor).where(Editor.email == address))
        if editor is None:
            raise NotFoundError(f"{address} is not an editor", hint="See: carnews editors list")
        # Sessions first: SQLite enforces no ON DELETE CASCADE unless asked to.
        await session.execute(delete(EditorSession).where(EditorSession.editor_id == editor.id))
        await session.delete(editor)
        audit(session, clock(), actor, "editor_remove", ("editor", editor.id), email=address)


async def log_in(
    db: Database, clock: Clock, review: ReviewSettings, email: str, password: str, ip: str
) -> str:
    """Check the password; return a new session token, or raise AccessError."""
    now = clock()
    dummy = _dummy_hash()  # before looking anyone up: its first making costs all alike
    address = email.strip().lower()
    keys = {f"account:{address[:300]}": review.max_failed_logins,
            f"ip:{ip}": review.max_failed_logins_per_ip}  # fmt: skip
    # The refusals are raised after the transaction commits: raised inside it, they would
    # roll back the very failure counts that lock the account.
    async with db.session() as session:
        locked = [key for key in keys if await _locked(session, key, now)]
        editor = await session.scalar(select(Editor).where(Editor.email == address))
        # A locked key is refused without hashing: argon2 costs most of a second of CPU,
        # which a flood of guesses must not be able to make the server spend.
        good = not locked and _verify(editor.password_hash if editor else dummy, password)
        if locked:
            audit(session, now, address[:200], "login_locked", ("editor", address[:80]), ip=ip)
        elif not good or editor is None:
            for key, limit in keys.items():
                await _fail(session, key, now, limit, review.lockout_minutes)
            audit(session, now, address[:200], "login_failed", ("editor", address[:80]), ip=ip)
        else:
            return await _start_session(session, editor, address, now, review, ip)
    if locked:
        raise AccessError(
            "too many failed logins: this account or address is locked for a while",
            hint=f"Try again in {review.lockout_minutes:g} minutes.",
        )
    raise AccessError("that email address and password do not match",
                      hint="Check both and try again.")  # fmt: skip


async def _start_session(
    session: AsyncSession, editor: Editor, address: str, now: datetime, review: ReviewSettings,
    ip: str,
) -> str:  # fmt: skip
    await session.execute(
        delete(LoginFailures).where(LoginFailures.key == f"account:{address[:300]}")
    )
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=review.session_hours)
    session.add(EditorSession(token_hash=_digest(token), editor_id=editor.id,
                              created_at=now, expires_at=expires))  # fmt: skip
    audit(session, now, address, "login", ("editor", editor.id), ip=ip)
    return token


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def _locked(session: AsyncSession, key: str, now: datetime) -> bool:
    row = await session.get(LoginFailures, key)
    return row is not None and row.locked_until is not None and row.locked_until > now


async def _fail(session: AsyncSession, key: str, now: datetime, limit: int, minutes: float) -> None:
    row = await session.get(LoginFailures, key)
    if row is None:
        row = LoginFailures(key=key, failures=0, last_at=now)
        session.add(row)
    row.failures, row.last_at = row.failures + 1, now
    if row.failures >= limit:
        # Locked from the last failure; the count starts again once the lock is over.
        row.locked_until, row.failures = now + timedelta(minutes=minutes), 0


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def editor_for_session(db: Database, clock: Clock, token: str) -> EditorInfo | None:
    if not token:
        return None
    async with db.read() as session:
        row = await session.scalar(
            select(Editor).join(EditorSession, EditorSession.editor_id == Editor.id).where(
                EditorSession.token_hash == _digest(token), EditorSession.expires_at > clock()
            )
        )  # fmt: skip
        return _info(row) if row is not None else None


async def log_out(db: Database, clock: Clock, token: str) -> None:
    async with db.session() as session:
        gone = delete(EditorSession).where(EditorSession.token_hash == _digest(token))
        await session.execute(gone)


async def editor_addresses(db: Database) -> list[str]:
    """Everyone the review mails go to: editors and contributors."""
    async with db.read() as session:
        return list((await session.scalars(select(Editor.email).order_by(Editor.id))).all())
