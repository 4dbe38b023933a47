"""Web: the public pages (archive, feeds, unsubscribe) as a FastAPI app.

An app factory takes its settings, so every test builds its own app with its
own database. Unsubscribe acts on POST only (RFC 8058): mail scanners GET
every link, so a GET shows a page with a button and changes nothing. Bounces
come in on POST /webhooks/bounces with a bearer token ('carnews bounces token').
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from carnews.audience.subscriptions import read_unsubscribe_token, unsubscribe
from carnews.clock import Clock, utc_now
from carnews.editions.publish import build_feed, sent_edition_views
from carnews.editions.render import render
from carnews.errors import CarnewsError, NotFoundError, SubscriberError
from carnews.mail.bounces import parse_webhook, record_bounces, webhook_authorised
from carnews.settings import Settings
from carnews.storage import Database, open_database
from carnews.storage.models import BounceSource


def create_app(settings: Settings, clock: Clock = utc_now) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = await open_database(settings.database.url)
        try:
            yield
        finally:
            await app.state.db.close()

    app = FastAPI(title=settings.site.title, lifespan=lifespan)
    templates = settings.templates.dir

    def page(template: str, status: int = 200, **context: object) -> HTMLResponse:
        body = render(template, templates, site_title=settings.site.title,
                      base_url=settings.site.base_url, **context)  # fmt: skip
        return HTMLResponse(body, status_code=status)

    @app.exception_handler(CarnewsError)
    async def carnews_error(request: Request, exc: CarnewsError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 400
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)
        return page("web/message.html", status, heading="Sorry", message=exc.message, hint=exc.hint)

    def db(request: Request) -> Database:
        database: Database = request.app.state.db
        return database

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    async def archive(request: Request) -> HTMLResponse:
        views = await sent_edition_views(db(request), settings)
        return page("publish/index.html", editions=list(reversed(views)))

    @app.get("/editions/{edition_id}.html", response_class=HTMLResponse)
    async def edition_page(request: Request, edition_id: int) -> HTMLResponse:
        views = {v.edition_id: v for v in await sent_edition_views(db(request), settings)}
        if edition_id not in views:
            raise NotFoundError(f"there is no published issue {edition_id}")
        return page("publish/edition.html", edition=views[edition_id])

    @app.get("/feed.xml")
    async def rss(request: Request) -> Response:
        feed = build_feed(await sent_edition_views(db(request), settings), settings)
        return Response(feed.rss_str(pretty=True), media_type="application/rss+xml")

    @app.get("/atom.xml")
    async def atom(request: Request) -> Response:
        feed = build_feed(await sent_edition_views(db(request), settings), settings)
        return Response(feed.atom_str(pretty=True), media_type="application/atom+xml")

    @app.get("/unsubscribe/{token}", response_class=HTMLResponse)
    async def unsubscribe_page(token: str) -> HTMLResponse:
        read_unsubscribe_token(settings.site.secret_key.reveal(), token)
        return page("web/unsubscribe.html", token=token)

    @app.post("/unsubscribe/{token}", response_class=HTMLResponse)
    async def unsubscribe_now(request: Request, token: str) -> HTMLResponse:
        subscriber_id = read_unsubscribe_token(settings.site.secret_key.reveal(), token)
        await unsubscribe(db(request), clock, subscriber_id, via="web")
        return page("web/message.html", heading="You are unsubscribed",
                    message="You will get no more newsletters from us.", hint="")  # fmt: skip

    @app.post("/webhooks/bounces")
    async def bounce_webhook(request: Request) -> JSONResponse:
        secret = settings.site.secret_key.reveal()
        if not secret:
            off = "the bounce webhook is off: site.secret_key is not set"
            hint = "Set CARNEWS_SITE_SECRET_KEY."
            return JSONResponse({"error": off, "hint": hint}, status_code=503)
        if not webhook_authorised(secret, request.headers.get("authorization")):
            return JSONResponse(
                {"error": "missing or wrong bearer token",
                 "hint": "Send 'Authorization: Bearer TOKEN'; 'carnews bounces token' prints it."},
                status_code=401, headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        try:
            notices = parse_webhook(await request.body())
        except SubscriberError as exc:
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)
        report = await record_bounces(db(request), clock, notices, source=BounceSource.WEBHOOK)
        return JSONResponse(report.summary())

    return app
