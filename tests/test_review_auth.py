"""Editors' logins: argon2 hashes, lock-out per account and per address, sessions that
end, the cookie's flags, and no open redirect after logging in."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carnews.clock import Clock, fixed_clock
from carnews.errors import AccessError
from carnews.settings import ReviewSettings, Settings, SiteSettings, replace
from carnews.storage import Database
from carnews.storage.accounts import Editor, EditorRole
from carnews.web.app import create_app
from carnews.web.auth import add_editor, editor_for_session, list_editors, log_in, remove_editor
from carnews.web.csrf import FIELD
from tests.review_helpers import PASSWORD, editors

RULES = ReviewSettings(max_failed_logins=3, max_failed_logins_per_ip=5, lockout_minutes=10)


async def test_passwords_are_stored_as_argon2_hashes_and_short_ones_refused(
    db: Database, clock: Clock
) -> None:
    await editors(db, clock)
    async with db.read() as session:
        stored = (await session.scalars(select(Editor.password_hash))).all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    with pytest.raises(AccessError, match="at least 12"):
        await add_editor(db, clock, "x@example.org", "short", EditorRole.EDITOR, actor="t")
    with pytest.raises(AccessError, match="already"):
        await add_editor(db, clock, "Editor@Example.org", PASSWORD, EditorRole.EDITOR, actor="t")


@pytest.mark.both_databases
async def test_an_account_locks_after_its_failures_and_opens_again_later(
    db: Database, clock: Clock
) -> None:
    await editors(db, clock)
    for number in range(RULES.max_failed_logins):  # from different addresses
        with pytest.raises(AccessError, match="do not match"):
            await log_in(db, clock, RULES, "editor@example.org", "wrong", f"10.0.0.{number}")
    with pytest.raises(AccessError, match="locked"):
        await log_in(db, clock, RULES, "editor@example.org", PASSWORD, "10.0.0.99")
    # Another account is not locked by it.
    assert await log_in(db, clock, RULES, "helper@example.org", PASSWORD, "10.0.0.99")
    later = fixed_clock(clock() + timedelta(minutes=RULES.lockout_minutes, seconds=1))
    assert await log_in(db, later, RULES, "editor@example.org", PASSWORD, "10.0.0.99")


async def test_one_address_guessing_many_accounts_is_locked_too(db: Database, clock: Clock) -> None:
    await editors(db, clock)
    for number in range(RULES.max_failed_logins_per_ip):  # accounts that do not exist
        with pytest.raises(AccessError, match="do not match"):
            await log_in(db, clock, RULES, f"nobody{number}@example.org", "x", "192.0.2.7")
    with pytest.raises(AccessError, match="locked"):
        await log_in(db, clock, RULES, "editor@example.org", PASSWORD, "192.0.2.7")
    assert await log_in(db, clock, RULES, "editor@example.org", PASSWORD, "192.0.2.8")


@pytest.mark.both_databases
async def test_a_session_ends_when_it_expires_or_its_editor_is_removed(
    db: Database, clock: Clock
) -> None:
    await editors(db, clock)
    token = await log_in(db, clock, RULES, "editor@example.org", PASSWORD, "127.0.0.1")
    found = await editor_for_session(db, clock, token)
    assert found is not None and found.may_approve
    expired = fixed_clock(clock() + timedelta(hours=RULES.session_hours, seconds=1))
    assert await editor_for_session(db, expired, token) is None
    await remove_editor(db, clock, "editor@example.org", actor="t")
    assert await editor_for_session(db, clock, token) is None
    assert [e.email for e in await list_editors(db)] == ["helper@example.org"]


async def test_the_cookie_is_secure_over_https_and_next_stays_on_the_review_pages(
    settings: Settings, db: Database, clock: Clock
) -> None:
    await editors(db, clock)
    secure = replace(settings, site=SiteSettings(base_url="https://news.test"))
    with TestClient(create_app(secure, clock=clock)) as client:
        page = client.get("/review/login?next=//evil.example/x").text
        token = page.split(f'name="{FIELD}" value="', 1)[1].split('"', 1)[0]
        assert 'name="next" value="/review/"' in page
        form = {FIELD: token, "email": "editor@example.org", "password": PASSWORD,
                "next": "https://evil.example/"}  # fmt: skip
        answer = client.post("/review/login", data=form, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/review/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
        assert "Path=/review" in cookie


def test_importing_carnews_spends_no_memory_on_a_password_hash() -> None:
    """Every command (a send of 100,000 mails included) imports the web's login code; a
    hash made at import took argon2's 64 MiB and raised each process's peak memory by
    that much. Peak minus what stays resident is what the import held only briefly."""
    probe = (
        "import carnews.cli\n"
        "kb = {k: int(v.split()[0]) for k, v in (line.split(':') for line in\n"
        "      open('/proc/self/status')) if k in ('VmHWM', 'VmRSS')}\n"
        "print((kb['VmHWM'] - kb['VmRSS']) // 1024)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert int(done.stdout) < 32, f"a brief peak of {done.stdout.strip()} MB while importing"
