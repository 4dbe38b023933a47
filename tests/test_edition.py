"""The review gate: drafting, approval bound to content, edits withdraw approval."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.editions.review import (
    approve,
    draft_edition,
    edit,
    ensure_sendable,
    load_edition,
    submit_for_review,
)
from carnews.editions.views import edition_view
from carnews.errors import EditionStateError, NotFoundError
from carnews.explain.card import Card
from carnews.storage import Database
from carnews.storage.models import AuditEvent, EditionState, Story
from tests.helpers import add_stories

pytestmark = pytest.mark.both_databases

STORIES = [("Lupus CAR-T", ["lupus"]), ("Myositis CAR-T", ["myositis"]),
           ("SSc CAR-T", ["systemic sclerosis"])]  # fmt: skip


async def drafted(db: Database, clock: Clock) -> int:
    await add_stories(db, clock(), STORIES)
    result = await draft_edition(
        db, clock, lookback_days=14, max_stories=10, title="News", actor="editor"
    )
    assert result.edition_id is not None
    return result.edition_id


async def test_draft_takes_ranked_stories_once(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        assert [item.headline for item in edition.items] == ["Lupus CAR-T", "Myositis CAR-T",
                                                             "SSc CAR-T"]  # fmt: skip
        assert edition.state == EditionState.DRAFT
    again = await draft_edition(db, clock, lookback_days=14, max_stories=10, title="N", actor="e")
    assert again.edition_id is None and "no new relevant stories" in again.reason


async def test_a_draft_says_which_relevant_stories_it_left_out_and_why(
    db: Database, clock: Clock
) -> None:
    await add_stories(db, clock(), STORIES)  # published 1, 2 and 3 days ago
    result = await draft_edition(db, clock, lookback_days=2, max_stories=1, title="N", actor="e")
    assert (result.story_count, result.over_limit, result.outside_window) == (1, 1, 1)
    again = await draft_edition(db, clock, lookback_days=1, max_stories=5, title="N", actor="e")
    assert again.edition_id is None and (again.over_limit, again.outside_window) == (0, 2)


async def test_drafts_of_one_day_get_distinct_titles(db: Database, clock: Clock) -> None:
    titles = []
    for number in range(3):
        (story_id,) = await add_stories(db, clock(), [(f"Lupus CAR-T {number}", ["lupus"])])
        async with db.session() as session:  # add_stories numbers keys from 1 on every call
            (await session.get_one(Story, story_id)).canonical_key = f"round-{number}"
        result = await draft_edition(db, clock, lookback_days=14, max_stories=5,
                                     title="News 100% [x]", actor="e")  # fmt: skip
        assert result.edition_id is not None
        async with db.session() as session:
            titles.append((await load_edition(session, result.edition_id)).title)
    day = f"{clock():%-d %B %Y}"
    assert titles == [f"News 100% [x] — {day}", f"News 100% [x] — {day} (2)",
                      f"News 100% [x] — {day} (3)"]  # fmt: skip


async def test_an_approver_name_on_several_lines_or_with_controls_is_refused(
    db: Database, clock: Clock
) -> None:
    edition_id = await drafted(db, clock)
    for name in ("Jo\r\nBcc: x@example.org", "Jo\x1b[31m", "J" * 201):
        with pytest.raises(EditionStateError, match="not a name"):
            await approve(db, clock, edition_id, name)
    assert await approve(db, clock, edition_id, "Dr Jo [editor]")


async def test_unapproved_edition_cannot_be_sent(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        with pytest.raises(EditionStateError, match="not approved"):
            ensure_sendable(edition)


async def test_approval_records_who_when_and_hash(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    await submit_for_review(db, clock, edition_id, "editor")
    digest = await approve(db, clock, edition_id, "Dr Jane")
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        assert (edition.state, edition.approved_by, edition.approved_at) == (
            EditionState.APPROVED, "Dr Jane", clock(),
        )  # fmt: skip
        assert edition.approved_hash == digest
        ensure_sendable(edition)
        events = (await session.scalars(select(AuditEvent.action))).all()
    assert list(events) == ["draft", "submit", "approve"]


async def test_any_edit_withdraws_approval(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    async with db.session() as session:
        story_ids = [item.story_id for item in (await load_edition(session, edition_id)).items]
    await edit(db, clock, edition_id, "Dr Jane", order=list(reversed(story_ids)))
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        assert edition.state == EditionState.IN_REVIEW and edition.approved_by is None
        assert [i.story_id for i in sorted(edition.items, key=lambda i: i.position)] == list(
            reversed(story_ids)
        )
        with pytest.raises(EditionStateError):
            ensure_sendable(edition)


async def test_edit_that_changes_nothing_keeps_approval(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    await edit(db, clock, edition_id, "ed", intro="Hello")
    await approve(db, clock, edition_id, "Dr Jane")
    await edit(db, clock, edition_id, "ed", intro="Hello")
    async with db.session() as session:
        assert (await load_edition(session, edition_id)).state == EditionState.APPROVED


async def test_change_behind_the_gate_is_caught(db: Database, clock: Clock) -> None:
    """Even a change that bypassed edit() (say, by hand in SQL) stops the send."""
    edition_id = await drafted(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        edition.items[0].summary = "Something the editor never saw."
    async with db.session() as session:
        with pytest.raises(EditionStateError, match="changed after it was approved"):
            ensure_sendable(await load_edition(session, edition_id))


async def test_drop_and_reword_stories(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    async with db.session() as session:
        first, second, _ = [i.story_id for i in (await load_edition(session, edition_id)).items]
    await edit(db, clock, edition_id, "ed", drop=[second], wording={first: ("New", "Plain.")})
    async with db.session() as session:
        items = (await load_edition(session, edition_id)).items
    assert (items[0].headline, items[0].position) == ("New", 1)
    assert second not in [i.story_id for i in items] and len(items) == 2
    with pytest.raises(NotFoundError):
        await edit(db, clock, edition_id, "ed", drop=[99999])


async def test_approval_needs_a_name_and_stories(db: Database, clock: Clock) -> None:
    edition_id = await drafted(db, clock)
    with pytest.raises(EditionStateError, match="approver"):
        await approve(db, clock, edition_id, "  ")
    with pytest.raises(NotFoundError):
        await approve(db, clock, 424242, "Dr Jane")


# --------------------------------------------------------------------------- the story card

CARD = Card(headline="CAR-T for lupus: 5 people in a small study", study_type="case series",
            what_was_tested="The study tested CAR-T.", who_took_part="5 people took part.",
            what_happened="All 5 went into remission.", side_effects=None,
            unknowns=("The study was small.",), what_it_means="This is early evidence.",
            quote="All five patients were in remission.", quote_intro="In the researchers' words",
            terms_explained=())  # fmt: skip


async def carded(db: Database, clock: Clock) -> tuple[int, int]:
    """A draft whose first story has its card (the others were explained before cards)."""
    first, *_ = await add_stories(db, clock(), STORIES)
    async with db.session() as session:
        story = await session.get_one(Story, first)
        story.card, story.summary = CARD.to_dict(), CARD.summary
    result = await draft_edition(db, clock, lookback_days=14, max_stories=10, title="N",
                                 actor="editor")  # fmt: skip
    assert result.edition_id is not None
    return result.edition_id, first


async def test_a_draft_copies_each_story_card_and_its_plain_headline(
    db: Database, clock: Clock
) -> None:
    edition_id, first = await carded(db, clock)
    async with db.session() as session:
        edition = await load_edition(session, edition_id)
        view = await edition_view(session, edition, base_url="https://n.test", site_title="S")
    by_story = {item.story_id: item for item in edition.items}
    assert by_story[first].card == CARD.to_dict()
    assert by_story[first].headline == CARD.headline, "the card's headline, not the title"
    older = next(item for item in edition.items if item.story_id != first)
    assert older.card == {} and older.headline == older.story.title
    shown = {story.story_id: story for story in view.stories}
    assert shown[first].card == CARD and shown[first].source_title == "Lupus CAR-T"
    assert shown[older.story_id].card is None and shown[older.story_id].terms


async def test_a_card_changed_after_approval_stops_the_send(db: Database, clock: Clock) -> None:
    edition_id, first = await carded(db, clock)
    await approve(db, clock, edition_id, "Dr Jane")
    async with db.session() as session:
        item = next(i for i in (await load_edition(session, edition_id)).items
                    if i.story_id == first)  # fmt: skip
        item.card = {**item.card, "side_effects": "Something the editor never saw."}
    async with db.session() as session:
        with pytest.raises(EditionStateError, match="changed after it was approved"):
            ensure_sendable(await load_edition(session, edition_id))


async def test_an_editors_wording_is_what_the_card_shows(db: Database, clock: Clock) -> None:
    edition_id, first = await carded(db, clock)
    await edit(db, clock, edition_id, "ed", wording={first: ("Plain news", "In plain words.")})
    async with db.session() as session:
        item = next(i for i in (await load_edition(session, edition_id)).items
                    if i.story_id == first)  # fmt: skip
    card = Card.from_dict(item.card)
    assert (card.headline, card.summary) == ("Plain news", "In plain words.")
    assert card.side_effects is None and card.unknowns == CARD.unknowns, "the rest is kept"
