"""Each rule of the review holds whichever door an editor or a job comes through (house
rule 14): the approval checklist (command line and web), the editors' mail when an edit
withdraws an approval (command line and web), and the send report once an edition is
sent (``carnews send``, the worker, the scheduler, and settling the last rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.editions import workflow
from carnews.editions.review import approve
from carnews.errors import FormError
from carnews.jobs import send_all_due, send_due, settle
from carnews.mail.claims import Holder, this_process
from carnews.mail.deliver import send_edition
from carnews.mail.recovery import resolve_unknown
from carnews.schedule import build_scheduler
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import AuditEvent, EditionState
from tests.cli_helpers import assert_clean_failure, carnews
from tests.helpers import inbox, smtp_server, subscribe
from tests.review_helpers import editors, seed_draft
from tests.test_recovery import claimed_by, dead_pid
from tests.test_review_pages import FIELD, edition, logged_in
from tests.test_review_workflow import mailing


def subjects_to_editors(mail: Path) -> list[str]:
    """The notes one editor got, by subject (after the "[Site review]" tag)."""
    return [str(m["Subject"]).split("review] ", 1)[1] for m in inbox(mail)
            if str(m["To"]) == "editor@example.org"]  # fmt: skip


async def approvals(db: Database) -> list[dict[str, object]]:
    async with db.read() as session:
        events = await session.scalars(select(AuditEvent).where(AuditEvent.action == "approve"))
        return [event.detail for event in events]


async def test_the_checklist_is_the_workflows_rule(db: Database, clock: Clock) -> None:
    edition_id = await seed_draft(db, clock)
    with pytest.raises(FormError, match="Nothing advises anyone"):
        await workflow.approve(db, clock, edition_id, "Dr Jane", ["main_message", "harms",
                                                                 "unknowns"])  # fmt: skip
    with pytest.raises(FormError, match="colour is not a line"):
        await workflow.approve(db, clock, edition_id, "Dr Jane", [*workflow.CHECKLIST, "colour"])
    assert (await edition(db, edition_id))[0] == EditionState.DRAFT
    await workflow.approve(db, clock, edition_id, "Dr Jane", list(workflow.CHECKLIST))
    assert (await edition(db, edition_id))[0] == EditionState.APPROVED
    assert [event["checklist"] for event in await approvals(db)] == [list(workflow.CHECKLIST)]


async def test_the_command_line_asks_for_the_checklist_as_the_page_does(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock)
    base = ("--set", f"database.url={settings.database.url}", "edition", "approve",
            str(edition_id), "--by", "Dr Jane")  # fmt: skip
    assert_clean_failure(carnews(tmp_path, *base), "confirm every line", "--confirm-checklist")
    partial = carnews(tmp_path, *base, "--checked", "main_message", "--checked", "harms")
    assert_clean_failure(partial, "What we don't know is stated", "Nothing advises anyone")
    assert (await edition(db, edition_id))[0] == EditionState.DRAFT
    each = [arg for name in workflow.CHECKLIST for arg in ("--checked", name)]
    approved = carnews(tmp_path, *base, *each)
    assert approved.returncode == 0, approved.stderr
    assert f"Edition {edition_id} approved by Dr Jane" in approved.stdout
    assert (await edition(db, edition_id))[0] == EditionState.APPROVED
    assert [event["checklist"] for event in await approvals(db)] == [list(workflow.CHECKLIST)]


async def test_the_page_records_the_checklist_too(
    db: Database, clock: Clock, settings: Settings
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    with logged_in(settings, clock) as (client, token):
        ticked = {FIELD: token, **{name: "yes" for name in workflow.CHECKLIST}}
        answer = client.post(f"/review/editions/{edition_id}/approve", data=ticked)
        assert answer.status_code == 200 and "Approved." in answer.text
    assert [event["checklist"] for event in await approvals(db)] == [list(workflow.CHECKLIST)]


async def test_an_edit_on_the_command_line_tells_the_editors(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    with smtp_server(tmp_path / "mail") as port:
        edited = carnews(tmp_path, "--set", f"database.url={settings.database.url}",
                         "--set", "smtp.host=127.0.0.1", "--set", f"smtp.port={port}",
                         "--set", "mail.from_address=news@carnews.test", "edition", "intro",
                         str(edition_id), "--text", "Hello.",
                         "--by", "helper@example.org")  # fmt: skip
        assert edited.returncode == 0, edited.stderr
    assert "approval is withdrawn" in edited.stdout
    assert subjects_to_editors(tmp_path / "mail") == [f"Approval of edition {edition_id} withdrawn"]


async def test_an_edit_on_the_page_tells_the_editors(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    with smtp_server(tmp_path / "mail") as port:
        configured = mailing(settings, port, tmp_path)
        with logged_in(configured, clock) as (client, token):
            answer = client.post(f"/review/editions/{edition_id}/intro",
                                 data={FIELD: token, "intro": "Hello."})  # fmt: skip
            assert answer.status_code == 200
    assert subjects_to_editors(tmp_path / "mail") == [f"Approval of edition {edition_id} withdrawn"]


Door = Callable[[Database, Settings, Clock, int], Awaitable[object]]


async def by_send(db: Database, settings: Settings, clock: Clock, edition_id: int) -> object:
    return await send_due(db, settings, clock, edition_id, actor="cli")


async def by_worker(db: Database, settings: Settings, clock: Clock, edition_id: int) -> object:
    return await send_all_due(db, settings, clock, actor="worker")


async def by_scheduler(db: Database, settings: Settings, clock: Clock, edition_id: int) -> object:
    jobs = {job.id: job.func for job in build_scheduler(db, settings, clock).get_jobs()}
    return await jobs["send"]()


@pytest.mark.parametrize("door", [by_send, by_worker, by_scheduler])
async def test_a_finished_send_reports_to_the_editors_once(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path, door: Door
) -> None:
    edition_id = await seed_draft(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    await editors(db, clock)
    await subscribe(db, clock, "reader@example.org", ["lupus"])
    with smtp_server(tmp_path / "mail") as port:
        configured = mailing(settings, port, tmp_path)
        await door(db, configured, clock, edition_id)
        await door(db, configured, clock, edition_id)  # a second pass: nothing new to tell
    assert subjects_to_editors(tmp_path / "mail") == [f"Edition {edition_id} sent"]


async def test_settling_the_last_rows_reports_to_the_editors(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """A sender died holding every row; once the operator decides them (``carnews send
    ID --resolve-unknown``), the settle step finishes the edition and tells the editors."""
    edition_id = await claimed_by(db, clock, Holder(this_process().host, dead_pid()), 2)
    await editors(db, clock)
    with smtp_server(tmp_path / "mail") as port:
        configured = mailing(settings, port, tmp_path)
        stalled = await send_edition(db, configured, clock, edition_id, actor="t")
        assert (stalled.unknown, stalled.finished) == (2, False)
        await resolve_unknown(db, clock, edition_id, as_sent=True, actor="cli")
        report = await settle(db, configured, clock, edition_id, actor="cli")
        assert report.finished
        await settle(db, configured, clock, edition_id, actor="cli")
    assert subjects_to_editors(tmp_path / "mail") == [f"Edition {edition_id} sent"]
