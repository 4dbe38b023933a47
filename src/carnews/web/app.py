"""Web: the app factory. Routes live with what they serve (``public``, ``signup``,
``preferences``, ``ops``, the editors' ``login``, ``review`` and ``review_actions``).

The factory takes its settings and, when the caller has one, the database: ``serve``
shares one ``Database`` between the app and the scheduler, so on SQLite a single
in-process writer lock covers both. Without one, the app opens its own for its lifetime.
On start it reads the site key (``storage.sitekey``), making it the first time.
Every answer gets the security headers of ``headers``; the API docs exist only when
``web.api_docs`` is on, the admin API (``api``) only when ``web.api_token`` is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from carnews.audience.oneclick import OptoutApplier
from carnews.clock import Clock, utc_now
from carnews.errors import CarnewsError, FormError, NotFoundError
from carnews.settings import Settings
from carnews.storage import Database, open_database
from carnews.storage.sitekey import site_key
from carnews.web import login, ops, preferences, public, review, review_actions, signup, webhooks
from carnews.web.api import add_admin_api
from carnews.web.apidocs import OPENAPI_URL, add_api_docs
from carnews.web.context import Site, site
from carnews.web.csrf import CsrfCookie
from carnews.web.headers import SECURITY_HEADERS, SecurityHeaders


def create_app(settings: Settings, db: Database | None = None, clock: Clock = utc_now) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = site_of(app)
        if db is not None:
            current.db = db
            current.key = await site_key(db, settings, clock)
            async with _optouts(current, db):
                yield
            return
        current.db = await open_database(settings.database.url)
        try:
            # No start without the site key: made once and kept, never a new one per start.
            current.key = await site_key(current.db, settings, clock)
            async with _optouts(current, current.db):
                yield
        finally:
            await current.db.close()
            current.db = None

    docs = settings.web.api_docs
    app = FastAPI(title=settings.site.title, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=OPENAPI_URL if docs else None)  # fmt: skip
    app.state.site = Site(settings, clock, db)
    app.add_middleware(CsrfCookie)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(CarnewsError)
    async def carnews_error(request: Request, exc: CarnewsError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 400
        if isinstance(exc, FormError):
            status = exc.status
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)
        return site(request).page("web/message.html", status, heading="Sorry",
                                  message=exc.message, hint=exc.hint)  # fmt: skip

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # Starlette answers a crash outside every middleware, so this page would lack the
        # security headers unless it sets them itself. The error is still logged.
        page = site(request).page("web/message.html", 500, heading="Sorry",
                                  message="Something went wrong on our side.",
                                  hint="Please try again in a few minutes.")  # fmt: skip
        page.headers.update(SECURITY_HEADERS)
        return page

    app.include_router(public.router)
    app.include_router(signup.router)
    app.include_router(preferences.router)
    app.include_router(ops.router)
    app.include_router(webhooks.router)
    login.install(app)
    app.include_router(login.router)
    app.include_router(review.router)
    app.include_router(review_actions.router)
    if settings.web.api_token:  # no token, no API: every /api/ path is a 404
        add_admin_api(app)
    if docs:
        add_api_docs(app, settings.site.title)
    return app


@asynccontextmanager
async def _optouts(current: Site, db: Database) -> AsyncIterator[None]:
    """On SQLite, a background task lands one-click unsubscribes (``audience.oneclick``),
    starting with any a killed process answered but never applied."""
    journal = db.optouts
    if journal is None:
        yield
        return
    current.optouts = OptoutApplier(db, journal)
    current.optouts.start()
    try:
        yield
    finally:
        await current.optouts.stop()
        current.optouts = None


def site_of(app: FastAPI) -> Site:
    current: Site = app.state.site
    return current
