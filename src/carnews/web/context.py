"""What every route needs, held once on the app: settings, the one database, the clock.

Routes reach it through ``site(request)``; a page is rendered through ``page`` (or
``render``, for the cached public pages), so every HTML answer goes through the same
autoescaping templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import HTMLResponse

from carnews.audience.oneclick import OptoutApplier
from carnews.clock import Clock
from carnews.editions.render import render
from carnews.settings import Settings
from carnews.storage import Database
from carnews.web.cache import PageCache
from carnews.web.csrf import FIELD, csrf_token


@dataclass
class Site:
    settings: Settings
    clock: Clock
    db: Database | None = None  # set by the lifespan before the first request
    key: str = ""  # the site key, likewise (``storage.sitekey``)
    cache: PageCache = field(init=False)  # public pages and feeds, until the next send
    optouts: OptoutApplier | None = None  # SQLite: lands journalled unsubscribes (lifespan)

    def __post_init__(self) -> None:
        self.cache = PageCache(self.settings.web.cache_check_seconds)

    @property
    def database(self) -> Database:
        if self.db is None:
            raise RuntimeError("the web app's database is not open yet")
        return self.db

    def page(
        self, template: str, status: int = 200, request: Request | None = None, **context: object
    ) -> HTMLResponse:
        """``template`` rendered; with ``request``, forms on it get their CSRF token."""
        if request is not None:
            context.setdefault("csrf_token", csrf_token(request))
            context.setdefault("csrf_field", FIELD)
        return HTMLResponse(self.render(template, **context), status_code=status)

    def render(self, template: str, **context: object) -> str:
        return render(template, self.settings.templates.dir, site_title=self.settings.site.title,
                      base_url=self.settings.site.base_url, **context)  # fmt: skip


def site(request: Request) -> Site:
    current: Site = request.app.state.site
    return current
