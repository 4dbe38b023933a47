"""What the review pages show, read from the database into plain dataclasses.

The draft page needs more than a reader sees: why each story was kept, its badges, every
source link merged into it, the checks its card passes now (after the editor's edits),
and reading grades. Templates only print these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.editions.notify import EditionReport, edition_report
from carnews.editions.render import EditionView, evidence_label
from carnews.editions.review import load_edition
from carnews.editions.views import ReadingGrades, edition_view, reading_grades
from carnews.editions.workflow import candidate_stories
from carnews.explain.card import Card
from carnews.explain.checks import check_card
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionStory, Entry, Source, Story
from carnews.text.urls import safe_url

RECENT_DAYS = 60  # how far back the "add a story" list looks


@dataclass(frozen=True)
class SourceLink:
    source: str
    title: str
    url: str | None


@dataclass(frozen=True)
class StoryCard:
    story_id: int
    position: int
    headline: str
    summary: str
    what_it_means: str
    card: dict[str, Any]
    study_type: str
    source_kind: str
    diseases: tuple[str, ...]
    patients: int | None
    reasons: tuple[str, ...]
    links: tuple[SourceLink, ...]
    checks: dict[str, bool]
    grade: tuple[float, float]
    needs_editor: bool

    @property
    def unknowns_text(self) -> str:
        return "\n".join(str(u) for u in self.card.get("unknowns") or [])


@dataclass(frozen=True)
class Candidate:
    story_id: int
    title: str
    relevant: bool
    reasons: tuple[str, ...]
    published_at: datetime | None


@dataclass(frozen=True)
class DraftPage:
    edition_id: int
    title: str
    intro: str
    state: str
    approved_by: str | None
    approved_at: datetime | None
    send_at: datetime | None
    created_at: datetime
    stories: tuple[StoryCard, ...]
    grades: ReadingGrades
    candidates: tuple[Candidate, ...]
    diseases: tuple[str, ...]
    report: EditionReport | None = None


@dataclass(frozen=True)
class EditionRow:
    id: int
    title: str
    state: str
    created_at: datetime
    approved_by: str | None
    send_at: datetime | None
    sent_at: datetime | None
    stories: int
    report: EditionReport | None = field(default=None)


async def edition_rows(db: Database) -> list[EditionRow]:
    async with db.read() as session:
        counts = dict(
            (
                await session.execute(
                    select(EditionStory.edition_id, func.count()).group_by(EditionStory.edition_id)
                )
            ).all()
        )
        editions = (await session.scalars(select(Edition).order_by(Edition.id.desc()))).all()
        return [
            EditionRow(e.id, e.title, e.state.value, e.created_at, e.approved_by, e.send_at,
                       e.sent_at, counts.get(e.id, 0), await edition_report(session, e.id))
            for e in editions
        ]  # fmt: skip


async def draft_page(db: Database, settings: Settings, edition_id: int, now: datetime) -> DraftPage:
    async with db.read() as session:
        edition = await load_edition(session, edition_id)
        view = await edition_view(session, edition, base_url=settings.site.base_url,
                                  site_title=settings.site.title)  # fmt: skip
        grades = reading_grades(view)
        ids = [item.story_id for item in edition.items]
        links, texts = await _sources(session, ids)
        cards = tuple(
            _card(item, grades, links.get(item.story_id, ()), texts.get(item.story_id, ""))
            for item in sorted(edition.items, key=lambda i: i.position)
        )
        since = now - timedelta(days=RECENT_DAYS)
        candidates = tuple(
            Candidate(s.id, s.title, s.relevant, tuple(map(str, s.reasons)), s.published_at)
            for s in await candidate_stories(session, edition, since)
        )
        return DraftPage(edition.id, edition.title, edition.intro, edition.state.value,
                         edition.approved_by, edition.approved_at, edition.send_at,
                         edition.created_at, cards, grades, candidates, _diseases(view),
                         await edition_report(session, edition.id))  # fmt: skip


def _diseases(view: EditionView) -> tuple[str, ...]:
    return tuple(sorted(view.diseases))


async def _sources(
    session: AsyncSession, story_ids: list[int]
) -> tuple[dict[int, tuple[SourceLink, ...]], dict[int, str]]:
    """Every entry merged into each story (its link and source), and their text together."""
    rows = await session.execute(
        select(Entry.story_id, Source.name, Entry.title, Entry.link, Entry.text,
               Entry.landing_text)
        .join(Source, Entry.source_id == Source.id)
        .where(Entry.story_id.in_(story_ids))
        .order_by(Entry.id)
    )  # fmt: skip
    links: dict[int, list[SourceLink]] = {}
    texts: dict[int, list[str]] = {}
    for story_id, name, title, link, text, landing in rows:
        if story_id is None:
            continue
        links.setdefault(story_id, []).append(SourceLink(name, title, safe_url(link)))
        texts.setdefault(story_id, []).extend(t for t in (text, landing) if t)
    return ({k: tuple(v) for k, v in links.items()},
            {k: "\n\n".join(v) for k, v in texts.items()})  # fmt: skip


def _card(
    item: EditionStory, grades: ReadingGrades, links: tuple[SourceLink, ...], text: str
) -> StoryCard:
    story: Story = item.story
    card = dict(item.card or {})
    checks: dict[str, bool] = {}
    if card:
        checks = check_card(Card.from_dict(card), story.title, text or story.summary)
    return StoryCard(
        story_id=item.story_id,
        position=item.position,
        headline=item.headline,
        summary=item.summary,
        what_it_means=item.what_it_means,
        card=card,
        study_type=str(card.get("study_type") or evidence_label(story.evidence)),
        source_kind=story.source_kind or "",
        diseases=tuple(map(str, story.diseases)),
        patients=story.patients,
        reasons=tuple(map(str, story.reasons)),
        links=links,
        checks=checks,
        grade=grades.stories.get(item.story_id, (0.0, 0.0)),
        needs_editor=bool(card.get("fallback")),
    )
