"""The review pages' forms: each checks its CSRF token and the editor's role first, makes
one change through ``editions.workflow`` (the same functions the CLI calls), and sends the
browser back to the draft. The rules are the workflow's: the approval checklist, and the
editors' mail when an edit withdraws an approval.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from carnews.editions import workflow
from carnews.errors import FormError
from carnews.mail.testsend import send_test
from carnews.web.auth import EditorInfo
from carnews.web.context import Site, site
from carnews.web.csrf import check_csrf
from carnews.web.login import may_approve, signed_in

router = APIRouter()
BASE = "/review/editions/{edition_id}"


def _back(edition_id: int, done: str, anchor: str = "") -> RedirectResponse:
    target = f"/review/editions/{edition_id}?done={done}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


async def _form(request: Request, *, approver: bool = False) -> tuple[Site, EditorInfo, FormData]:
    """CSRF first, then who is asking: a forged form learns nothing, not even the login."""
    await check_csrf(request)
    editor = await (may_approve(request) if approver else signed_in(request))
    return site(request), editor, await request.form()


def _changed(change: workflow.Change, anchor: str = "") -> RedirectResponse:
    done = "withdrawn" if change.withdrawn else ("saved" if change.changed else "unchanged")
    return _back(change.edition_id, done, anchor)


@router.post(BASE + "/stories/{story_id}/edit")
async def edit_story(request: Request, edition_id: int, story_id: int) -> RedirectResponse:
    current, editor, form = await _form(request)
    texts = {name: str(form[name]) for name in workflow.FIELDS if name in form}
    change = await workflow.edit_story(
        current.database,
        current.settings,
        current.clock,
        edition_id,
        story_id,
        texts,
        actor=editor.email,
    )
    return _changed(change, f"story-{story_id}")


@router.post(BASE + "/stories/{story_id}/move")
async def move_story(request: Request, edition_id: int, story_id: int) -> RedirectResponse:
    current, editor, form = await _form(request)
    by = -1 if form.get("direction") == "up" else 1
    change = await workflow.move_story(
        current.database,
        current.settings,
        current.clock,
        edition_id,
        story_id,
        by,
        actor=editor.email,
    )
    return _changed(change, f"story-{story_id}")


@router.post(BASE + "/stories/{story_id}/remove")
async def remove_story(request: Request, edition_id: int, story_id: int) -> RedirectResponse:
    current, editor, _ = await _form(request)
    change = await workflow.drop_story(
        current.database, current.settings, current.clock, edition_id, story_id, actor=editor.email
    )
    return _changed(change)


@router.post(BASE + "/add")
async def add_story(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, form = await _form(request)
    story_id = _number(form.get("story_id"), "the story to add")
    change = await workflow.add_story(
        current.database, current.settings, current.clock, edition_id, story_id, actor=editor.email
    )
    return _changed(change, f"story-{story_id}")


@router.post(BASE + "/intro")
async def intro(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, form = await _form(request)
    change = await workflow.set_intro(
        current.database,
        current.settings,
        current.clock,
        edition_id,
        str(form.get("intro", "")),
        actor=editor.email,
    )
    return _changed(change, "intro")


@router.post(BASE + "/subject")
async def subject(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, form = await _form(request)
    text = str(form.get("subject", ""))
    change = await workflow.set_subject(
        current.database, current.settings, current.clock, edition_id, text, actor=editor.email
    )
    return _changed(change, "intro")


@router.post(BASE + "/approve")
async def approve_edition(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, form = await _form(request, approver=True)
    ticked = [name for name in workflow.CHECKLIST if form.get(name) == "yes"]
    await workflow.approve(current.database, current.clock, edition_id, editor.email, ticked)
    return _back(edition_id, "approved")


@router.post(BASE + "/withdraw")
async def withdraw(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, _ = await _form(request, approver=True)
    await workflow.withdraw(current.database, current.clock, edition_id, actor=editor.email)
    return _back(edition_id, "withdrew")


@router.post(BASE + "/discard")
async def discard(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, _ = await _form(request, approver=True)
    await workflow.discard(current.database, current.clock, edition_id, actor=editor.email)
    return _back(edition_id, "discarded")


@router.post(BASE + "/schedule")
async def schedule(request: Request, edition_id: int) -> RedirectResponse:
    """Set the send time (UTC); "send now" is a send time of now, for the next send pass."""
    current, editor, form = await _form(request, approver=True)
    now = form.get("now") == "yes"
    when = current.clock() if now else _when(str(form.get("send_at", "")))
    await workflow.schedule(current.database, current.clock, edition_id, when,
                            actor=editor.email)  # fmt: skip
    return _back(edition_id, "scheduled")


@router.post(BASE + "/test")
async def test_send(request: Request, edition_id: int) -> RedirectResponse:
    current, editor, _ = await _form(request)
    report = await send_test(current.database, current.settings, current.clock, edition_id,
                             [editor.email], actor=editor.email)  # fmt: skip
    if report.refused:
        raise FormError(f"the mail relay refused the test: {report.refused[0][1]}")
    return _back(edition_id, "tested")


def _number(value: object, what: str) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    raise FormError(f"{what} must be a story number")


def _when(value: str) -> datetime | None:
    """A ``datetime-local`` field, read as UTC; empty: no send time."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise FormError(f"{value[:40]!r} is not a date and time",
                        hint="Give it as YYYY-MM-DD HH:MM (UTC).") from exc  # fmt: skip
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
