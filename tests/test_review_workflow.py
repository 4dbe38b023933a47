"""The review workflow: every state transition, the refusals, the content hash, the audit
trail, and the editors' mail (draft ready, approval withdrawn, send report)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from carnews.clock import Clock, fixed_clock
from carnews.editions import workflow
from carnews.editions.review import approve, content_hash, load_edition, submit_for_review
from carnews.errors import EditionStateError, FormError
from carnews.jobs import approved_edition_ids, draft, send_due
from carnews.settings import MailSettings, PublishSettings, Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import AuditEvent, Edition, EditionState, EditionStory
from tests.helpers import add_stories, inbox, smtp_server, subscribe
from tests.review_helpers import editors, seed_draft

Step = Callable[[Database, Clock, int], Awaitable[object]]

# No editor is on file where these are used, so an approval withdrawn mails nobody.
SETTINGS = Settings()


async def state_of(db: Database, edition_id: int) -> EditionState:
    async with db.read() as session:
        return (await session.get_one(Edition, edition_id)).state


async def force_state(db: Database, edition_id: int, state: EditionState) -> None:
    async with db.session() as session:
        await session.execute(update(Edition).where(Edition.id == edition_id).values(state=state))


async def ids(db: Database, edition_id: int) -> list[int]:
    async with db.read() as session:
        return [i.story_id for i in (await load_edition(session, edition_id)).items]


async def digest(db: Database, edition_id: int) -> str:
    async with db.read() as session:
        return content_hash(await load_edition(session, edition_id))


def _approve(db: Database, clock: Clock, e: int) -> Awaitable[object]:
    return approve(db, clock, e, "Dr Jane")


def _edit(db: Database, clock: Clock, e: int) -> Awaitable[object]:
    return workflow.set_intro(db, SETTINGS, clock, e, "A new intro.", actor="ed")


def _withdraw(db: Database, clock: Clock, e: int) -> Awaitable[object]:
    return workflow.withdraw(db, clock, e, actor="ed")


def _discard(db: Database, clock: Clock, e: int) -> Awaitable[object]:
    return workflow.discard(db, clock, e, actor="ed")


def _submit(db: Database, clock: Clock, e: int) -> Awaitable[object]:
    return submit_for_review(db, clock, e, "ed")


D, R, A = EditionState.DRAFT, EditionState.IN_REVIEW, EditionState.APPROVED
S, X, P, SENT = EditionState.SENDING, EditionState.DISCARDED, EditionState.PAUSED, EditionState.SENT
ALLOWED = [
    (D, _submit, R), (D, _approve, A), (R, _approve, A), (A, _withdraw, R), (A, _edit, R),
    (D, _edit, D), (R, _edit, R), (D, _discard, X), (R, _discard, X), (A, _discard, X),
]  # fmt: skip
REFUSED = [
    (R, _submit), (A, _approve), (D, _withdraw), (R, _withdraw), (X, _approve), (X, _edit),
    (X, _discard), (S, _edit), (S, _discard), (P, _edit), (SENT, _edit), (SENT, _discard),
    (SENT, _approve), (SENT, _withdraw),
]  # fmt: skip


@pytest.mark.parametrize(("start", "step", "end"), ALLOWED)
async def test_each_allowed_transition(
    db: Database, clock: Clock, start: EditionState, step: Step, end: EditionState
) -> None:
    edition_id = await seed_draft(db, clock)
    await force_state(db, edition_id, start)
    await step(db, clock, edition_id)
    assert await state_of(db, edition_id) == end


@pytest.mark.parametrize(("start", "step"), REFUSED)
async def test_each_refused_transition_changes_nothing(
    db: Database, clock: Clock, start: EditionState, step: Step
) -> None:
    edition_id = await seed_draft(db, clock)
    await force_state(db, edition_id, start)
    before = await digest(db, edition_id)
    with pytest.raises(EditionStateError):
        await step(db, clock, edition_id)
    assert await state_of(db, edition_id) == start
    assert await digest(db, edition_id) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda db, c, e, s: workflow.edit_story(
            db, SETTINGS, c, e, s, {"headline": "New"}, actor="ed"
        ),
        lambda db, c, e, s: workflow.edit_story(
            db, SETTINGS, c, e, s, {"quote": "Other words"}, actor="ed"
        ),
        lambda db, c, e, s: workflow.edit_story(
            db, SETTINGS, c, e, s, {"unknowns": "a\nb"}, actor="ed"
        ),
        lambda db, c, e, s: workflow.edit_story(
            db, SETTINGS, c, e, s, {"side_effects": ""}, actor="ed"
        ),
        lambda db, c, e, s: workflow.move_story(db, SETTINGS, c, e, s, 1, actor="ed"),
        lambda db, c, e, s: workflow.drop_story(db, SETTINGS, c, e, s, actor="ed"),
        lambda db, c, e, s: workflow.set_intro(db, SETTINGS, c, e, "Hello", actor="ed"),
        lambda db, c, e, s: workflow.set_subject(db, SETTINGS, c, e, "Another subject", actor="ed"),
    ],
    ids=["headline", "quote", "unknowns", "side_effects", "order", "drop", "intro", "subject"],
)
async def test_the_content_hash_covers_what_readers_see(
    db: Database, clock: Clock, change: Callable[..., Awaitable[workflow.Change]]
) -> None:
    edition_id = await seed_draft(db, clock)
    first = (await ids(db, edition_id))[0]
    await approve(db, clock, edition_id, "Dr Jane")
    before = await digest(db, edition_id)
    result = await change(db, clock, edition_id, first)
    assert result.changed and result.withdrawn
    assert await digest(db, edition_id) != before
    assert await state_of(db, edition_id) == EditionState.IN_REVIEW


async def test_scheduling_and_unchanged_text_keep_the_approval(db: Database, clock: Clock) -> None:
    edition_id = await seed_draft(db, clock)
    first = (await ids(db, edition_id))[0]
    await approve(db, clock, edition_id, "Dr Jane")
    await workflow.schedule(db, clock, edition_id, clock() + timedelta(days=1), actor="ed")
    async with db.read() as session:
        headline = (await load_edition(session, edition_id)).items[0].headline
    same = await workflow.edit_story(db, SETTINGS, clock, edition_id, first,
                                     {"headline": f" {headline} "}, actor="ed")  # fmt: skip
    assert not same.changed
    assert await state_of(db, edition_id) == EditionState.APPROVED


@pytest.mark.both_databases
async def test_text_edits_are_audited_with_before_and_after(db: Database, clock: Clock) -> None:
    edition_id = await seed_draft(db, clock)
    first = (await ids(db, edition_id))[0]
    await workflow.edit_story(db, SETTINGS, clock, edition_id, first,
                              {"what_happened": "They got better.", "unknowns": "One\n\nTwo"},
                              actor="jane@example.org")  # fmt: skip
    async with db.read() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "edit")
                                        .order_by(AuditEvent.id))).all()  # fmt: skip
        item = await session.scalar(select(EditionStory).where(EditionStory.story_id == first))
    assert [(e.actor, e.detail["field"]) for e in events] == [
        ("jane@example.org", "what_happened"), ("jane@example.org", "unknowns")]  # fmt: skip
    assert events[0].detail["before"] == "All five were in remission after three months."
    assert events[0].detail["after"] == "They got better."
    assert item is not None and item.card["unknowns"] == ["One", "Two"]


async def test_bad_edits_are_refused_with_a_reason(db: Database, clock: Clock) -> None:
    edition_id = await seed_draft(db, clock)
    first = (await ids(db, edition_id))[0]
    for texts in ({"headline": "  "}, {"colour": "red"}, {"summary": "x" * 6000}):
        with pytest.raises(FormError):
            await workflow.edit_story(db, SETTINGS, clock, edition_id, first, texts, actor="ed")
    with pytest.raises(FormError):
        await workflow.add_story(db, SETTINGS, clock, edition_id, first, actor="ed")


async def test_a_discarded_drafts_stories_are_free_for_the_next_draft(
    db: Database, clock: Clock, settings: Settings
) -> None:
    edition_id = await seed_draft(db, clock, stories=2, in_draft=2)
    await workflow.discard(db, clock, edition_id, actor="ed")
    again = await draft(db, settings, clock, actor="test")
    assert again.story_count == 3 - 1  # both stories; the dropped mouse study is not relevant
    with pytest.raises(EditionStateError):
        await send_due(db, settings, clock, edition_id, actor="cli")


@pytest.mark.both_databases
async def test_send_waits_for_the_scheduled_time_in_every_door(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    later = clock() + timedelta(hours=2)
    await workflow.schedule(db, clock, edition_id, later, actor="ed")
    assert await approved_edition_ids(db, clock) == []  # the worker and scheduler pass it by
    with pytest.raises(EditionStateError, match="scheduled for"):
        await send_due(db, settings, clock, edition_id, actor="cli")
    assert await approved_edition_ids(db, fixed_clock(later)) == [edition_id]


def mailing(settings: Settings, port: int, out: Path) -> Settings:
    return replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5),
                   mail=MailSettings(from_address="news@carnews.test"),
                   publish=PublishSettings(dir=out / "public"))  # fmt: skip


async def test_editors_hear_of_a_ready_draft_a_withdrawal_and_a_finished_send(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await editors(db, clock)
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    await subscribe(db, clock, "reader@example.org", ["lupus"])
    with smtp_server(tmp_path / "mail") as port:
        configured = mailing(settings, port, tmp_path)
        result = await draft(db, configured, clock, actor="scheduler")
        assert result.edition_id is not None
        edition_id = result.edition_id
        ready = inbox(tmp_path / "mail")
        assert {str(m["To"]) for m in ready} == {"editor@example.org", "helper@example.org"}
        assert f"http://news.test/review/editions/{edition_id}" in ready[0].get_content()

        await approve(db, clock, edition_id, "Dr Jane")
        change = await workflow.set_intro(db, configured, clock, edition_id, "Hi",
                                          actor="helper@example.org")  # fmt: skip
        assert change.withdrawn  # the workflow itself tells the editors
        await approve(db, clock, edition_id, "Dr Jane")
        outcome = await send_due(db, configured, clock, edition_id, actor="cli")
        assert outcome.report is not None and outcome.report.finished
    subjects = [str(m["Subject"]) for m in inbox(tmp_path / "mail") if "example.org" in str(m["To"])
                and str(m["To"]) != "reader@example.org"]  # fmt: skip
    assert any(f"Approval of edition {edition_id} withdrawn" in s for s in subjects)
    report = next(m for m in inbox(tmp_path / "mail") if "sent" in str(m["Subject"]).lower()
                  and str(m["To"]) == "editor@example.org")  # fmt: skip
    body = report.get_content().replace("\r\n", "\n")
    assert "Sent: 1\nFailed: 0\nBounced since: 0\nUnsubscribed since: 0" in body
