"""Publish: the static web archive of sent editions, with its RSS 2.0 and Atom feeds,
and a page and feeds per disease (diseases/SLUG/index.html, feed.xml, atom.xml).

Every file is written to a temporary name and renamed into place, so a reader
(or nginx) never sees half a feed, and a crash leaves the previous files whole.
The feeds themselves are built in ``feeds``; the web app serves the same artefacts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carnews.editions.archive import archive_lines, disease_stories
from carnews.editions.feeds import build_disease_feed, build_feed
from carnews.editions.render import EditionView, render
from carnews.editions.views import edition_view
from carnews.settings import SiteSettings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionKind, EditionState, EditionStory

__all__ = ["DiseaseFiles", "PublishReport", "build_feed", "disease_artefacts", "publish",
           "write_atomically"]  # fmt: skip
DISEASE_PAGE_LIMIT = 50  # story cards on a disease's archive page (its feeds show 20)


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
    db: Database, site: SiteSettings, directory: Path, *, author: str, templates_dir: str = "",
    diseases: Mapping[str, str] | None = None,
) -> PublishReport:  # fmt: skip
    """Write feed.xml, atom.xml, index.html, its stylesheet, one page per sent edition and,
    for each disease (slug -> name), diseases/SLUG/ with its page and feeds."""
    out = directory
    views = await sent_edition_views(db, site)
    feed = build_feed(views, site, author=author, templates_dir=templates_dir)
    templates = templates_dir
    index = render("publish/index.html", templates, editions=await archive_lines(db, site),
                   diseases=dict(diseases or {}), site_title=site.title,
                   base_url=site.base_url)  # fmt: skip
    files = [
        write_atomically(out / "feed.xml", feed.rss_str(pretty=True)),
        write_atomically(out / "atom.xml", feed.atom_str(pretty=True)),
        write_atomically(out / "index.html", index),
    ]
    files.append(write_atomically(out / "carnews.css", render("publish/carnews.css", templates)))
    for view in views:
        page = render("publish/edition.html", templates, edition=view)
        files.append(write_atomically(out / "editions" / f"{view.edition_id}.html", page))
    for slug, name in (diseases or {}).items():
        disease = await disease_artefacts(db, site, name, slug, author=author,
                                          templates_dir=templates)  # fmt: skip
        folder = out / "diseases" / slug
        files += [write_atomically(folder / file, data) for file, data in disease.files.items()]
    return PublishReport(out, len(views), tuple(files))


@dataclass(frozen=True)
class DiseaseFiles:
    files: dict[str, bytes]  # index.html, feed.xml, atom.xml
    modified: datetime | None  # when the newest story on them was sent


async def disease_artefacts(
    db: Database, site: SiteSettings, disease: str, slug: str, *, author: str,
    templates_dir: str = "",
) -> DiseaseFiles:  # fmt: skip
    """One disease's archive page and feeds, by file name (index.html, feed.xml, atom.xml):
    the newest ``DISEASE_PAGE_LIMIT`` story cards about it."""
    stories = await disease_stories(db, site, disease, DISEASE_PAGE_LIMIT)
    feed = build_disease_feed(stories, site, disease=disease, slug=slug, author=author,
                              templates_dir=templates_dir)  # fmt: skip
    page = render("publish/disease.html", templates_dir, disease=disease, stories=stories,
                  feed_base=f"{site.base_url.rstrip('/')}/diseases/{slug}",
                  site_title=site.title, base_url=site.base_url)  # fmt: skip
    files = {"index.html": page.encode(), "feed.xml": feed.rss_str(pretty=True),
             "atom.xml": feed.atom_str(pretty=True)}  # fmt: skip
    return DiseaseFiles(files, max((item.date for item in stories), default=None))
