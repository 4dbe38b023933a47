"""Archive reads: what one public page or feed shows, and nothing more.

Each read fetches by id or with a LIMIT (one edition, the newest N, the newest N stories
about one disease), so a page costs the same with ten sent editions or ten thousand; the
archive index reads one short row per edition, never the editions' stories.

``publish_generation`` is what the web app's cache keys on: it changes exactly when an
edition is sent (a sent edition is never edited again), and every process reading the
same database computes the same value, so several web workers agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, TextClause, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from carnews.editions.render import EditionView, StoryView
from carnews.editions.views import edition_view, story_views
from carnews.settings import SiteSettings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionKind, EditionState, EditionStory, Story

# Published: sent, and an edition of its own (a monthly digest repeats stories already
# published and has no page of its own).
SENT = and_(Edition.state == EditionState.SENT, Edition.kind == EditionKind.EDITION)
EPOCH_SENT = datetime(1970, 1, 1, tzinfo=UTC)  # a sent edition always has sent_at; types aside
NEWEST_FIRST = (Edition.sent_at.desc(), Edition.id.desc())


@dataclass(frozen=True)
class Generation:
    """Which sent editions exist: equal values mean the public pages are the same."""

    token: str
    latest: datetime | None  # when the newest sent edition was sent


@dataclass(frozen=True)
class ArchiveLine:
    """One line of the archive index: an issue's title, link and size."""

    edition_id: int
    title: str
    date: datetime
    story_count: int
    url: str


@dataclass(frozen=True)
class DiseaseStory:
    """A story card as one disease's feed shows it, with the issue it came in."""

    story: StoryView
    edition_id: int
    edition_title: str
    date: datetime  # when its issue was sent
    url: str  # the story's place on its issue's page
    position: int  # its place in the issue

    @property
    def entry_time(self) -> datetime:
        """A feed entry's time: the send time less a second per place in the issue, so a
        reader that sorts by date keeps the issue's order, and no two entries share a time
        (the W3C validator warns of two equal atom:updated)."""
        return self.date - timedelta(seconds=self.position)


async def publish_generation(db: Database) -> Generation:
    async with db.read() as session:
        count, newest_id, latest = (
            await session.execute(
                select(func.count(), func.max(Edition.id), func.max(Edition.sent_at)).where(SENT)
            )
        ).one()
    stamp = latest.isoformat() if latest else "-"
    return Generation(f"{count}.{newest_id or 0}.{stamp}", latest)


async def sent_edition(db: Database, site: SiteSettings, edition_id: int) -> EditionView | None:
    views = await _views(db, site, select(Edition).where(SENT, Edition.id == edition_id))
    return views[0] if views else None


async def latest_editions(db: Database, site: SiteSettings, limit: int) -> list[EditionView]:
    """The newest ``limit`` sent editions, newest first."""
    return await _views(db, site, select(Edition).where(SENT).order_by(*NEWEST_FIRST).limit(limit))


async def _views(db: Database, site: SiteSettings, query: Select[Edition]) -> list[EditionView]:
    async with db.read() as session:
        loaded = query.options(selectinload(Edition.items).selectinload(EditionStory.story))
        editions = (await session.scalars(loaded)).all()
        return [
            await edition_view(session, e, base_url=site.base_url, site_title=site.title)
            for e in editions
        ]


async def archive_lines(db: Database, site: SiteSettings) -> list[ArchiveLine]:
    """Every sent edition's title and story count, newest first, in one query."""
    base = site.base_url.rstrip("/")
    async with db.read() as session:
        rows = await session.execute(
            select(Edition.id, Edition.title, Edition.sent_at, func.count(EditionStory.id))
            .outerjoin(EditionStory, EditionStory.edition_id == Edition.id)
            .where(SENT)
            .group_by(Edition.id, Edition.title, Edition.sent_at)
            .order_by(*NEWEST_FIRST)
        )
        return [
            ArchiveLine(id_, title, sent_at or EPOCH_SENT, count, f"{base}/editions/{id_}.html")
            for id_, title, sent_at, count in rows.all()
        ]


async def disease_stories(
    db: Database, site: SiteSettings, disease: str, limit: int
) -> list[DiseaseStory]:
    """The newest ``limit`` stories of sent editions about ``disease``, newest first.

    A story tagged with no disease (class-wide safety news) is for every reader, so it is
    in every disease's feed, as it is in every reader's email."""
    base = site.base_url.rstrip("/")
    async with db.read() as session:
        items = (
            await session.scalars(
                select(EditionStory)
                .join(Edition, Edition.id == EditionStory.edition_id)
                .join(Story, Story.id == EditionStory.story_id)
                .where(SENT, _about(session, disease))
                .order_by(*NEWEST_FIRST, EditionStory.position)
                .limit(limit)
                .options(selectinload(EditionStory.story), selectinload(EditionStory.edition))
            )
        ).all()
        views = await story_views(session, items)
    return [
        DiseaseStory(view, item.edition_id, item.edition.title,
                     item.edition.sent_at or item.edition.created_at,
                     f"{base}/editions/{item.edition_id}.html#story-{item.story_id}",
                     item.position)
        for item, view in zip(items, views, strict=True)
    ]  # fmt: skip


def _about(session: AsyncSession, disease: str) -> TextClause:
    """Stories tagged with ``disease`` or with none, filtered in SQL (a JSON list column)."""
    if session.get_bind().dialect.name == "postgresql":
        clause = text(
            "(json_array_length(stories.diseases) = 0"
            " OR stories.diseases::jsonb @> jsonb_build_array(CAST(:disease AS text)))"
        )
    else:
        clause = text(
            "(json_array_length(stories.diseases) = 0 OR EXISTS"
            " (SELECT 1 FROM json_each(stories.diseases) WHERE json_each.value = :disease))"
        )
    return clause.bindparams(disease=disease)
