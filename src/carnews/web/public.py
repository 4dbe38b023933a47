"""Public pages: the archive, one issue, the feeds, each disease's page and feeds, the
stylesheet, and unsubscribe.

Every page and feed is built from only what it shows (one edition, the newest N) and
kept in ``cache`` until the next send, with an ETag and Last-Modified (``cache``).

Unsubscribe acts on POST only (RFC 8058): mail scanners GET every link, so a GET
shows a page with a button and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from carnews.audience.diseases import disease_catalogue
from carnews.audience.oneclick import unsubscribe_now
from carnews.audience.subscriptions import subscriber_for_token
from carnews.editions.archive import Generation, archive_lines, latest_editions, sent_edition
from carnews.editions.feeds import FEED_LIMIT, Feed, build_feed
from carnews.editions.publish import disease_artefacts
from carnews.editions.render import environment, render
from carnews.errors import NotFoundError
from carnews.web.cache import Built
from carnews.web.context import Site, site

router = APIRouter()


HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"


@router.get("/", response_class=HTMLResponse)
async def archive(request: Request) -> Response:
    current = site(request)

    async def build(generation: Generation) -> Built:
        lines = await archive_lines(current.database, current.settings.site)
        page = current.render("publish/index.html", editions=lines, diseases=_catalogue(current))
        return Built(page.encode(), HTML, generation.latest)

    return await current.cache.answer(request, current.database, "/", build)


@router.get("/editions/{edition_id}.html", response_class=HTMLResponse)
async def edition_page(request: Request, edition_id: int) -> Response:
    current = site(request)

    async def build(generation: Generation) -> Built:
        view = await sent_edition(current.database, current.settings.site, edition_id)
        if view is None:
            raise NotFoundError(f"there is no published issue {edition_id}")
        return Built(current.render("publish/edition.html", edition=view).encode(), HTML,
                     view.date)  # fmt: skip

    return await current.cache.answer(request, current.database, f"/editions/{edition_id}", build)


@router.get("/feed.xml")
async def rss(request: Request) -> Response:
    return await _site_feed(request, "rss")


@router.get("/atom.xml")
async def atom(request: Request) -> Response:
    return await _site_feed(request, "atom")


async def _site_feed(request: Request, kind: str) -> Response:
    current = site(request)
    settings = current.settings

    async def build(generation: Generation) -> Built:
        views = await latest_editions(current.database, settings.site, FEED_LIMIT)
        feed = build_feed(list(reversed(views)), settings.site, author=_author(current),
                          templates_dir=settings.templates.dir)  # fmt: skip
        return _feed_answer(feed, kind, generation.latest)

    return await current.cache.answer(request, current.database, f"/{kind}", build)


@router.get("/diseases/{slug}/", response_class=HTMLResponse)
async def disease_page(request: Request, slug: str) -> Response:
    return await _disease(request, slug, "index.html")


@router.get("/diseases/{slug}/feed.xml")
async def disease_rss(request: Request, slug: str) -> Response:
    return await _disease(request, slug, "feed.xml")


@router.get("/diseases/{slug}/atom.xml")
async def disease_atom(request: Request, slug: str) -> Response:
    return await _disease(request, slug, "atom.xml")


async def _disease(request: Request, slug: str, file: str) -> Response:
    """One disease's page or feed, the same bytes ``carnews publish`` writes."""
    current = site(request)
    settings = current.settings
    disease = _catalogue(current).get(slug)
    if disease is None:
        raise NotFoundError(f"there is no disease page {slug!r}",
                            hint="The archive's front page lists every condition.")  # fmt: skip

    async def build(generation: Generation) -> Built:
        made = await disease_artefacts(current.database, settings.site, disease, slug,
                                       author=_author(current),
                                       templates_dir=settings.templates.dir)  # fmt: skip
        types = {"index.html": HTML, "feed.xml": RSS, "atom.xml": ATOM}
        return Built(made.files[file], types[file], made.modified)

    return await current.cache.answer(request, current.database, f"/diseases/{slug}/{file}", build)


def _feed_answer(feed: Feed, kind: str, modified: datetime | None) -> Built:
    if kind == "rss":
        return Built(feed.rss_str(pretty=True), RSS, modified)
    return Built(feed.atom_str(pretty=True), ATOM, modified)


def _author(current: Site) -> str:
    return current.settings.mail.from_name or current.settings.site.title


def _catalogue(current: Site) -> dict[str, str]:
    return disease_catalogue(current.settings.curate.lexicon_file)


@router.get("/carnews.css")
async def stylesheet(request: Request) -> Response:
    """The pages' one stylesheet, from the templates (so an override in templates.dir wins)."""
    current = site(request)

    async def build(generation: Generation) -> Built:
        templates = current.settings.templates.dir
        css = render("publish/carnews.css", templates).encode()
        changed = _template_changed(templates, "publish/carnews.css")
        return Built(css, "text/css; charset=utf-8", changed, "public, max-age=3600")

    return await current.cache.answer(request, current.database, "/carnews.css", build)


def _template_changed(templates: str, name: str) -> datetime | None:
    """When the template file in use (an override or the built-in one) last changed."""
    source = environment(templates).get_template(name).filename
    return datetime.fromtimestamp(Path(source).stat().st_mtime, UTC) if source else None


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    current = site(request)
    await subscriber_for_token(current.database, token)
    return current.page("web/unsubscribe.html", token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_post(request: Request, token: str) -> HTMLResponse:
    current = site(request)
    subscriber_id = await subscriber_for_token(current.database, token)
    # Durable and honoured by every send when this returns, without waiting for SQLite's
    # write lock (``audience.oneclick``).
    await unsubscribe_now(current.database, current.clock, subscriber_id, via="web",
                          applier=current.optouts)  # fmt: skip
    return current.page("web/message.html", heading="You are unsubscribed",
                        message="You will get no more newsletters from us.", hint="")  # fmt: skip
