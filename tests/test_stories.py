"""Curation's transactions: stories judged in one short write, explained outside any.

The explainer may be an LLM taking a minute a story. It must never run while the
curation holds SQLite's one write lock, and a run that stops while it works must leave
nothing half done: the story waits, out of drafts, for the next run to explain it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from carnews.audience.subscriptions import add_subscriber, unsubscribe
from carnews.clock import Clock, fixed_clock
from carnews.curate.explaining import Explainer, ToExplain
from carnews.curate.lexicon import load_lexicon
from carnews.curate.stories import Knowledge, curate_new_entries
from carnews.editions.review import draft_edition
from carnews.explain.card import Card
from carnews.explain.checks import Story as CheckedStory
from carnews.explain.checks import explain_story
from carnews.jobs import knowledge
from carnews.storage import Database
from carnews.storage.models import Entry, Story, Subscriber, SubscriberStatus
from tests.helpers import LONG_NAMES_TEXT, LONG_NAMES_TITLE, LUPUS_TITLE, add_entry

HANG = 5.0  # a bound on a hang: the unsubscribe below takes milliseconds
NEW_TEXT = (
    "Researchers treated six patients with severe systemic lupus erythematosus using "
    "CD19 CAR T cells. All six were in drug-free remission after a year."
)


def explained(story: ToExplain) -> CheckedStory:
    return explain_story(story.title, story.text, lexicon=load_lexicon(), link=story.link)


def using(explainer: Explainer) -> Knowledge:
    return replace(knowledge(2.0), explainer=explainer)


async def dies(story: ToExplain) -> CheckedStory:
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

    async def explainer(story: ToExplain) -> CheckedStory:
        async with asyncio.timeout(HANG):
            await unsubscribe(db, clock, reader.id, via="web")
        return explained(story)

    report = await curate_new_entries(db, using(explainer), clock)

    assert [title for _, title in report.kept] == [LUPUS_TITLE]
    story = await only_story(db)
    assert story.card["headline"] and not story.awaiting_explanation
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

    async def overtaken(story: ToExplain) -> CheckedStory:
        async with db.session() as session:  # an update, as ingest stores one
            entry = await session.get_one(Entry, entry_id)
            entry.text, entry.story_id = NEW_TEXT, None
        with pytest.raises(RuntimeError):  # another run judges it again, then stops
            await curate_new_entries(db, using(dies), later)
        return explained(story)

    await curate_new_entries(db, using(overtaken), clock)

    story = await only_story(db)
    assert story.awaiting_explanation and story.summary == ""
    texts: list[str] = []

    async def recording(story: ToExplain) -> CheckedStory:
        texts.append(story.text)
        return explained(story)

    await curate_new_entries(db, using(recording), later)

    assert texts == [NEW_TEXT]
    stored = await only_story(db)
    assert stored.summary == Card.from_dict(stored.card).summary
    assert "6 people with lupus were treated" in stored.summary


# --------------------------------------------------------------------------- the stored card

DEV = Path(__file__).parent / "data" / "stories_dev.jsonl"


def dev_item(ident: str) -> dict[str, Any]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return next(item for item in map(json.loads, lines) if item["id"] == ident)


async def test_curation_stores_the_checked_card_and_its_summary(db: Database, clock: Clock) -> None:
    await add_entry(db, clock(), "a1")
    await curate_new_entries(db, knowledge(2.0), clock)

    story = await only_story(db)
    card = Card.from_dict(story.card)
    assert not card.fallback and card.backend == "template"
    assert story.summary == card.summary and story.what_it_means == card.what_it_means
    assert story.fk_grade is not None and story.fk_grade <= 10
    assert story.source_kind == "peer-reviewed journal"
    assert card.side_effects and "Nobody had severe CRS" in card.side_effects
    assert [term["term"] for term in story.terms_explained] == list(card.terms_explained)
    assert all(term["plain"] for term in story.terms_explained)


async def test_a_card_that_fails_its_checks_is_stored_as_the_flagged_safe_card(
    db: Database, clock: Clock
) -> None:
    """Never the raw abstract: the editor is told, and the safe card waits for them."""
    item = {"title": LONG_NAMES_TITLE, "text": LONG_NAMES_TEXT}  # reads above the grade limit
    await add_entry(db, clock(), "fda", title=item["title"], text=item["text"])

    report = await curate_new_entries(db, knowledge(2.0), clock)

    story = await only_story(db)
    card = Card.from_dict(story.card)
    assert card.fallback and card.backend == "fallback"
    assert story.summary == card.summary and "An editor will summarise this." in story.summary
    for sentence in re.split(r"(?<=\.)\s+", item["text"]):
        assert sentence not in " ".join([story.summary, *card.sections().values()])
    assert any("failed grade" in warning for warning in report.warnings)


async def test_the_sources_own_labels_decide_the_study_type(db: Database, clock: Clock) -> None:
    """PubMed's publication types, kept on the entry at ingest, beat the text rules."""
    entry_id = await add_entry(db, clock(), "a1")
    async with db.session() as session:
        entry = await session.get_one(Entry, entry_id)
        entry.source_labels = {"publication_types": ["Journal Article", "Review"]}

    await curate_new_entries(db, knowledge(2.0), clock)

    story = await only_story(db)
    assert story.card["study_type"] == "review" and story.source_kind == "peer-reviewed journal"


async def test_a_preprint_label_marks_the_card(db: Database, clock: Clock) -> None:
    entry_id = await add_entry(db, clock(), "a1")
    async with db.session() as session:
        (await session.get_one(Entry, entry_id)).source_labels = {"source_kind": "preprint"}

    await curate_new_entries(db, knowledge(2.0), clock)

    story = await only_story(db)
    assert story.source_kind == "preprint"
    assert "checked by other scientists" in " ".join(story.card["unknowns"])


NEWS_RETELLING = (
    "Doctors say a new cell therapy helped people with lupus. Two patients were treated "
    "at the hospital last year. Both are doing well, the doctors said. More tests are "
    "planned. The treatment is still experimental."
)
STUDY_RECORD = (
    "We treated 24 patients with refractory systemic lupus erythematosus with CD19 CAR T "
    "cells. After 12 months, all 24 patients were in drug-free remission. Cytokine release "
    "syndrome of grade 1 occurred in 10 patients. No deaths occurred. Larger trials with a "
    "control group are needed."
)


async def test_the_card_is_written_from_the_study_not_a_news_retelling(
    db: Database, clock: Clock
) -> None:
    """A story seen both as a plain news item and as the study's PubMed record: the
    card's facts are the study's own (24 treated), not the retelling's."""
    news = await add_entry(db, clock(), "news-item", text=NEWS_RETELLING)
    record = await add_entry(db, clock(), "pubmed-record", text=STUDY_RECORD)
    async with db.session() as session:
        for entry_id in (news, record):
            (await session.get_one(Entry, entry_id)).doi = "10.1000/lupus.24"
        study = await session.get_one(Entry, record)
        study.pmid = "40000024"
        study.source_labels = {"publication_types": ["Journal Article"]}

    await curate_new_entries(db, knowledge(2.0), clock)

    story = await only_story(db)
    async with db.read() as session:
        merged = (await session.scalars(select(Entry.story_id))).all()
    assert merged == [story.id, story.id]
    assert "24" in story.card["who_took_part"] and "Two" not in story.card["who_took_part"]
    assert story.link == "https://news.test/pubmed-record"


async def test_the_registry_record_beats_a_news_item_that_names_it(
    db: Database, clock: Clock
) -> None:
    """Both carry the NCT number; the registration itself writes the card."""
    longer = NEWS_RETELLING + " The hospital hopes to treat more people next year." * 4
    news = await add_entry(db, clock(), "news-item", text=longer)
    record = await add_entry(db, clock(), "registry", text=STUDY_RECORD)
    async with db.session() as session:
        for entry_id in (news, record):
            (await session.get_one(Entry, entry_id)).nct = "NCT07000024"
        (await session.get_one(Entry, record)).link = "https://clinicaltrials.gov/study/NCT07000024"

    await curate_new_entries(db, knowledge(2.0), clock)

    assert (await only_story(db)).link == "https://clinicaltrials.gov/study/NCT07000024"
