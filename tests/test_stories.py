"""Curation's transactions: stories judged in one short write, explained outside any.

The explainer may be an LLM taking a minute a story. It must never run while the
curation holds SQLite's one write lock, and a run that stops while it works must leave
nothing half done: the story waits, out of drafts, for the next run to explain it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from carnews.audience.subscriptions import add_subscriber, unsubscribe
from carnews.clock import Clock, fixed_clock
from carnews.curate.explaining import Explainer
from carnews.curate.lexicon import load_lexicon
from carnews.curate.stories import Knowledge, curate_new_entries
from carnews.editions.review import draft_edition
from carnews.explain.extractive import Explanation
from carnews.jobs import knowledge
from carnews.storage import Database
from carnews.storage.models import Entry, Story, Subscriber, SubscriberStatus
from tests.helpers import LUPUS_TITLE, add_entry

HANG = 5.0  # a bound on a hang: the unsubscribe below takes milliseconds
NEW_TEXT = (
    "Researchers treated six patients with severe systemic lupus erythematosus using "
    "CD19 CAR T cells. All six were in drug-free remission after a year."
)


def explained(text: str) -> Explanation:
    return Explanation(summary=f"In short: {text}", what_it_means="Early days.", fk_grade=6.0,
                       terms=(), unexplained_terms=())  # fmt: skip


def using(explainer: Explainer) -> Knowledge:
    return replace(knowledge(2.0), explainer=explainer)


async def dies(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
    raise RuntimeError("the process was killed while the LLM wrote")


async def only_story(db: Database) -> Story:
    async with db.read() as session:
        return (await session.scalars(select(Story))).one()


async def draft(db: Database, clock: Clock) -> int:
    result = await draft_edition(db, clock, lookback_days=14, max_stories=10, title="News",
                                 actor="test")  # fmt: skip
    return result.story_count


async def test_the_explainer_runs_outside_any_transaction(db: Database, clock: Clock) -> None:
    """While a story is explained, a reader who unsubscribes is not kept waiting."""
    await add_entry(db, clock(), "a1")
    reader = await add_subscriber(db, clock, load_lexicon(), email="r@example.org",
                                  confirmed=True, consent_source="test", actor="test")  # fmt: skip

    async def explainer(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
        async with asyncio.timeout(HANG):
            await unsubscribe(db, clock, reader.id, via="web")
        return explained(text)

    report = await curate_new_entries(db, using(explainer), clock)

    assert [title for _, title in report.kept] == [LUPUS_TITLE]
    story = await only_story(db)
    assert story.summary.startswith("In short:") and not story.awaiting_explanation
    async with db.read() as session:
        assert (await session.get_one(Subscriber, reader.id)).status == (
            SubscriberStatus.UNSUBSCRIBED
        )


async def test_a_run_stopped_while_explaining_leaves_the_story_to_the_next(
    db: Database, clock: Clock
) -> None:
    await add_entry(db, clock(), "a1")
    with pytest.raises(RuntimeError, match="killed"):
        await curate_new_entries(db, using(dies), clock)

    story = await only_story(db)
    assert story.relevant and story.awaiting_explanation and story.summary == ""
    assert await draft(db, clock) == 0, "a story without its summary is not drafted"

    report = await curate_new_entries(db, knowledge(2.0), clock)

    assert [title for _, title in report.kept] == [LUPUS_TITLE]
    story = await only_story(db)
    assert story.summary and not story.awaiting_explanation
    assert await draft(db, clock) == 1


async def test_an_explanation_of_an_outdated_judgement_is_not_stored(
    db: Database, clock: Clock
) -> None:
    """The entry changed and its story was judged again while the old text was explained:
    the old explanation is dropped and the next run explains the new text."""
    entry_id = await add_entry(db, clock(), "a1")
    later = fixed_clock(clock() + timedelta(minutes=5))

    async def overtaken(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
        async with db.session() as session:  # an update, as ingest stores one
            entry = await session.get_one(Entry, entry_id)
            entry.text, entry.story_id = NEW_TEXT, None
        with pytest.raises(RuntimeError):  # another run judges it again, then stops
            await curate_new_entries(db, using(dies), later)
        return explained(text)

    await curate_new_entries(db, using(overtaken), clock)

    story = await only_story(db)
    assert story.awaiting_explanation and story.summary == ""
    texts: list[str] = []

    async def recording(title: str, text: str, evidence: str, patients: int | None) -> Explanation:
        texts.append(text)
        return explained(text)

    await curate_new_entries(db, using(recording), later)

    assert texts == [NEW_TEXT]
    assert (await only_story(db)).summary == explained(NEW_TEXT).summary
