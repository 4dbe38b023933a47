"""Views: read an edition from the database into the render stage's context object.

render is a pure function of ``EditionView``; this is the one place that turns
stored rows into it, for the email, the archive, the feed and the web app alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from carnews.curate.stories import sources_of
from carnews.editions.cardview import stored_card
from carnews.editions.render import EditionView, StoryView, TermView, build_view
from carnews.storage.models import Edition, EditionKind, EditionStory
from carnews.text.readability import fk_grade, smog_grade
from carnews.text.urls import safe_url


async def edition_view(
    session: AsyncSession, edition: Edition, *, base_url: str, site_title: str
) -> EditionView:
    """``edition`` must have its items and their stories loaded (see ``load_edition``)."""
    stories = await story_views(session, sorted(edition.items, key=lambda item: item.position))
    view = build_view(
        edition_id=edition.id,
        title=edition.title,
        intro=edition.intro,
        date=edition.sent_at or edition.approved_at or edition.created_at,
        site_title=site_title,
        base_url=base_url,
        stories=stories,
    )
    # A digest has no page of its own in the archive: its mail links to none.
    return replace(view, on_web=edition.kind == EditionKind.EDITION)


async def story_views(session: AsyncSession, items: Sequence[EditionStory]) -> list[StoryView]:
    """Each item as readers see it: the edition's wording, the story's tags and sources
    (``items`` with their stories loaded)."""
    sources = await sources_of(session, [item.story_id for item in items])
    return [
        StoryView(
            story_id=item.story_id,
            headline=item.headline,
            summary=item.summary,
            what_it_means=item.what_it_means,
            link=safe_url(item.story.link),  # rows stored before links were checked, too
            published_at=item.story.published_at,
            diseases=tuple(item.story.diseases),
            evidence=card.study_type if card else item.story.evidence,
            sources=tuple(sources.get(item.story_id, [])),
            terms=() if card else _glossary_terms(item.story.terms_explained),
            unexplained=tuple(item.story.unexplained_terms),
            card=card,
            source_kind=item.story.source_kind,
            source_title=item.story.title,
        )
        for item in items
        for card in [stored_card(item.card, item.story.card)]
    ]


def _glossary_terms(stored: list[Any]) -> tuple[TermView, ...]:
    """The glossary of a story explained before cards; a card explains its terms inline."""
    return tuple(TermView(t["term"], t["plain"]) for t in stored)


@dataclass(frozen=True)
class ReadingGrades:
    """What the editor sees: how hard each summary and the whole issue are to read."""

    stories: dict[int, tuple[float, float]]  # story id -> (Flesch-Kincaid, SMOG) of its summary
    edition_fk: float  # the newsletter as a reader gets it: intro, summaries, glossary
    edition_smog: float


def reading_grades(view: EditionView) -> ReadingGrades:
    parts = [view.intro]
    for story in view.stories:
        parts += [story.summary, story.what_it_means]
    parts += [f"{term.term}: {term.plain}" for term in view.glossary]
    whole = "\n\n".join(part for part in parts if part)
    return ReadingGrades(
        stories={s.story_id: (fk_grade(s.summary), smog_grade(s.summary)) for s in view.stories},
        edition_fk=fk_grade(whole),
        edition_smog=smog_grade(whole),
    )
