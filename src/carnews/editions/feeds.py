"""Feeds: RSS 2.0 and Atom, of the newest editions or of one disease's story cards.

Feed readers treat an RSS <description> as HTML, so an entry's summary is *escaped*
text and its content autoescaped HTML from the templates: a headline that reads
"<script>" stays those characters in every reader.

Each format names itself as the feed (``atom:link rel="self"``: feed.xml in RSS,
atom.xml in Atom) and the HTML archive as its home (the RSS channel <link>). A feed's
dates come from its entries, never from the clock, so the same editions give the same
bytes in every process (and the same ETag in the web app).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from carnews.editions.archive import DiseaseStory
from carnews.editions.render import EditionView, render
from carnews.settings import SiteSettings
from carnews.text.urls import site_url

FEED_LIMIT = 20  # entries per feed
DESCRIPTION = "Plain-language news on CAR-T and cell therapies in autoimmune disease."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the date of a feed with no entries


@dataclass
class Feed:
    """One feed in both formats; ``home`` is the HTML page, ``folder`` holds the feeds."""

    generator: FeedGenerator
    home: str
    folder: str

    def rss_str(self, pretty: bool = True) -> bytes:
        self._link_to(f"{self.folder}/feed.xml")
        data: bytes = self.generator.rss_str(pretty=pretty)
        return data

    def atom_str(self, pretty: bool = True) -> bytes:
        self._link_to(f"{self.folder}/atom.xml")
        data: bytes = self.generator.atom_str(pretty=pretty)
        return data

    def _link_to(self, self_url: str) -> None:
        self.generator.link(href=self_url, rel="self", replace=True)
        # feedgen makes the last link added the RSS channel <link>: the archive page.
        self.generator.link(href=self.home, rel="alternate")


def _feed(site: SiteSettings, *, path: str, title: str, description: str, author: str,
          updated: datetime) -> Feed:  # fmt: skip
    base = site_url(site.base_url).rstrip("/")
    home = f"{base}{path}"
    generator = FeedGenerator()
    generator.id(home)
    generator.title(title)
    generator.description(description)
    generator.language("en")
    generator.author({"name": author})
    generator.updated(updated)
    generator.lastBuildDate(updated)
    feed = Feed(generator, home, home.rstrip("/"))
    feed._link_to(f"{feed.folder}/atom.xml")
    return feed


def build_feed(
    views: Sequence[EditionView], site: SiteSettings, *, author: str, templates_dir: str = ""
) -> Feed:
    """The site's feed: one entry per edition, of the newest ``FEED_LIMIT`` of ``views``
    (oldest first, as the static archive holds them)."""
    shown = list(reversed(views[-FEED_LIMIT:]))
    updated = max((view.date for view in shown), default=EPOCH)
    feed = _feed(site, path="/", title=site.title, description=DESCRIPTION, author=author,
                 updated=updated)  # fmt: skip
    for view in shown:
        url = site_url(view.url)
        entry = feed.generator.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(view.title)
        entry.link(href=url)
        entry.published(view.date)
        entry.updated(view.date)
        entry.content(render("publish/feed_item.html", templates_dir, edition=view), type="html")
        # After content(), so it becomes the RSS <description> and the Atom <summary>.
        headlines = ", ".join(story.headline for story in view.stories)
        entry.summary(html.escape(headlines, quote=False), type="html")
    return feed


def build_disease_feed(
    stories: Sequence[DiseaseStory], site: SiteSettings, *, disease: str, slug: str,
    author: str, templates_dir: str = "",
) -> Feed:  # fmt: skip
    """One disease's feed: one entry per story card, newest first, linking to the card's
    place on its issue's page."""
    updated = max((item.date for item in stories), default=EPOCH)
    feed = _feed(site, path=f"/diseases/{slug}/", title=f"{site.title}: {disease}",
                 description=f"{DESCRIPTION} Only the news about {disease}.", author=author,
                 updated=updated)  # fmt: skip
    for item in stories[:FEED_LIMIT]:
        url = site_url(item.url)
        entry = feed.generator.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(item.story.headline)
        entry.link(href=url)
        entry.published(item.entry_time)
        entry.updated(item.entry_time)
        entry.content(render("publish/_card.html", templates_dir, story=item.story), type="html")
        entry.summary(html.escape(item.story.summary, quote=False), type="html")
    return feed
