"""Builders for the review tests: a draft whose items carry cards, and editors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from carnews.clock import Clock
from carnews.editions.review import draft_edition
from carnews.storage import Database
from carnews.storage.accounts import EditorRole
from carnews.storage.models import EditionStory, Story
from carnews.web.auth import add_editor
from tests.helpers import add_stories

PASSWORD = "correct horse battery staple"


def card_for(title: str, **changes: Any) -> dict[str, Any]:
    card = {
        "headline": title, "study_type": "Case series (a few people)",
        "what_was_tested": "Researchers tested CAR-T cells made from each patient.",
        "who_took_part": "Five adults with lupus took part.",
        "what_happened": "All five were in remission after three months.",
        "side_effects": "Side effects were mild.", "unknowns": ["How long it lasts."],
        "what_it_means": "An early hint, in a few people.", "quote": "All five responded.",
        "quote_intro": "In the researchers' words", "terms_explained": [], "fallback": False,
        "backend": "template",
    }  # fmt: skip
    card.update(changes)
    return card


async def seed_draft(db: Database, clock: Clock, *, stories: int = 3, in_draft: int = 2) -> int:
    """A draft of ``in_draft`` carded stories; the rest stay relevant and unused, and one
    more story carnews dropped (not relevant, with its reasons) waits to be added."""
    now: datetime = clock()
    specs = [
        (f"Story number {n}", ["lupus"] if n % 2 else ["myositis"]) for n in range(1, stories + 1)
    ]
    ids = await add_stories(db, now, specs)
    async with db.session() as session:
        for story in (await session.scalars(select(Story).where(Story.id.in_(ids)))).all():
            story.card = card_for(story.title)
        dropped = Story(canonical_key="doi:10.1000/dropped", title="A mouse study of CAR-T",
                        link="https://doi.org/10.1000/dropped", published_at=now, relevant=False,
                        reasons=["animal study only (-3.0)"], diseases=[], evidence="lab study",
                        summary="Mice were treated.", what_it_means="Not yet for people.",
                        created_at=now)  # fmt: skip
        session.add(dropped)
    result = await draft_edition(db, clock, lookback_days=30, max_stories=in_draft,
                                 title="CAR-T News", actor="test")  # fmt: skip
    assert result.edition_id is not None
    async with db.session() as session:
        items = await session.scalars(
            select(EditionStory).where(EditionStory.edition_id == result.edition_id)
        )
        for item in items:
            item.card = card_for(item.headline)
    return result.edition_id


async def editors(db: Database, clock: Clock) -> None:
    await add_editor(db, clock, "editor@example.org", PASSWORD, EditorRole.EDITOR, actor="test")
    await add_editor(
        db, clock, "helper@example.org", PASSWORD, EditorRole.CONTRIBUTOR, actor="test"
    )
