"""Public pages: the archive, one issue, the feeds, the stylesheet, and unsubscribe.

Unsubscribe acts on POST only (RFC 8058): mail scanners GET every link, so a GET
shows a page with a button and changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from feedgen.feed import FeedGenerator

from carnews.audience.subscriptions import subscriber_for_token, unsubscribe
from carnews.editions.publish import build_feed, sent_edition_views
from carnews.editions.render import render
from carnews.errors import NotFoundError
from carnews.web.context import site

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def archive(request: Request) -> HTMLResponse:
    current = site(request)
    views = await sent_edition_views(current.database, current.settings.site)
    return current.page("publish/index.html", editions=list(reversed(views)))


@router.get("/editions/{edition_id}.html", response_class=HTMLResponse)
async def edition_page(request: Request, edition_id: int) -> HTMLResponse:
    current = site(request)
    views = {
        v.edition_id: v for v in await sent_edition_views(current.database, current.settings.site)
    }
    if edition_id not in views:
        raise NotFoundError(f"there is no published issue {edition_id}")
    return current.page("publish/edition.html", edition=views[edition_id])


@router.get("/feed.xml")
async def rss(request: Request) -> Response:
    feed = await _feed(request)
    return Response(feed.rss_str(pretty=True), media_type="application/rss+xml")


@router.get("/atom.xml")
async def atom(request: Request) -> Response:
    feed = await _feed(request)
    return Response(feed.atom_str(pretty=True), media_type="application/atom+xml")


async def _feed(request: Request) -> FeedGenerator:
    current = site(request)
    settings = current.settings
    return build_feed(await sent_edition_views(current.database, settings.site), settings.site,
                      author=settings.mail.from_name or settings.site.title,
                      templates_dir=settings.templates.dir)  # fmt: skip


@router.get("/carnews.css")
async def stylesheet(request: Request) -> Response:
    """The pages' one stylesheet, from the templates (so an override in templates.dir wins)."""
    current = site(request)
    css = render("publish/carnews.css", current.settings.templates.dir)
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    current = site(request)
    await subscriber_for_token(current.database, token)
    return current.page("web/unsubscribe.html", token=token)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe_now(request: Request, token: str) -> HTMLResponse:
    current = site(request)
    subscriber_id = await subscriber_for_token(current.database, token)
    await unsubscribe(current.database, current.clock, subscriber_id, via="web")
    return current.page("web/message.html", heading="You are unsubscribed",
                        message="You will get no more newsletters from us.", hint="")  # fmt: skip
