"""Publish: RSS 2.0 and Atom feeds of sent editions, and a static web archive.

Every file is written to a temporary name and renamed into place, so a reader
(or nginx) never sees half a feed, and a crash leaves the previous files whole.

Feed readers treat an RSS <description> as HTML, so an item's summary is the
headlines as *escaped* text and its content the autoescaped HTML of the edition:
a headline that reads "<script>" stays those characters in every reader.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carnews.editions.render import EditionView, render
from carnews.editions.views import edition_view
from carnews.settings import SiteSettings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionKind, EditionState, EditionStory
from carnews.text.urls import site_url

FEED_LIMIT = 20


@dataclass(frozen=True)
class PublishReport:
    directory: Path
    editions: int
    files: tuple[Path, ...]


def write_atomically(path: Path, content: str | bytes) -> Path:
    _public_folder(path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _public_folder(folder: Path) -> None:
    """Folders of what is published are for the web server to read, whatever the umask
    (the systemd unit sets 0077, so that the database is private)."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, 0o755)


def build_feed(
    views: Sequence[EditionView], site: SiteSettings, *, author: str, templates_dir: str = ""
) -> FeedGenerator:
    base = site_url(site.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/")
    feed.title(site.title)
    feed.description("Plain-language news on CAR-T and cell therapies in autoimmune disease.")
    feed.link(href=f"{base}/", rel="alternate")
    feed.link(href=f"{base}/atom.xml", rel="self")
    feed.language("en")
    feed.author({"name": author})
    for view in views[-FEED_LIMIT:]:
        url = site_url(view.url)
        entry = feed.add_entry(order="prepend")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(view.title)
        entry.link(href=url)
        entry.published(view.date)
        entry.updated(view.date)
        item_html = render("publish/feed_item.html", templates_dir, edition=view)
        entry.content(item_html, type="html")
        # After content(), so it becomes the RSS <description> and the Atom <summary>.
        headlines = ", ".join(story.headline for story in view.stories)
        entry.summary(html.escape(headlines, quote=False), type="html")
    return feed


async def sent_edition_views(db: Database, site: SiteSettings) -> list[EditionView]:
    async with db.read() as session:
        editions = (
            await session.scalars(
                select(Edition)
                # A digest repeats stories the archive already has.
                .where(Edition.state == EditionState.SENT, Edition.kind == EditionKind.EDITION)
                .options(selectinload(Edition.items).selectinload(EditionStory.story))
                .order_by(Edition.sent_at, Edition.id)
            )
        ).all()
        return [
            await edition_view(session, e, base_url=site.base_url, site_title=site.title)
            for e in editions
        ]


async def publish(
    db: Database, site: SiteSettings, directory: Path, *, author: str, templates_dir: str = ""
) -> PublishReport:
    """Write feed.xml, atom.xml, index.html, its stylesheet and one page per sent edition."""
    out = directory
    views = await sent_edition_views(db, site)
    feed = build_feed(views, site, author=author, templates_dir=templates_dir)
    templates = templates_dir
    files = [
        write_atomically(out / "feed.xml", feed.rss_str(pretty=True)),
        write_atomically(out / "atom.xml", feed.atom_str(pretty=True)),
        write_atomically(
            out / "index.html",
            render(
                "publish/index.html",
                templates,
                editions=list(reversed(views)),
                site_title=site.title,
                base_url=site.base_url,
            ),
        ),
    ]
    files.append(write_atomically(out / "carnews.css", render("publish/carnews.css", templates)))
    for view in views:
        page = render("publish/edition.html", templates, edition=view)
        files.append(write_atomically(out / "editions" / f"{view.edition_id}.html", page))
    return PublishReport(out, len(views), tuple(files))
