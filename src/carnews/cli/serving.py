"""``carnews serve``: uvicorn with the web app, and the scheduler in the same loop.

The app and the scheduler share one ``Database``: on SQLite its in-process writer lock
is what lets a web request and a scheduled job take turns fairly. The scheduler starts
and stops inside the app's lifespan: uvicorn re-raises SIGTERM once the app has shut
down, which ends the process before code after ``serve()`` runs, so that is where the
scheduler gives its lease back (``/healthz`` must not take a stopped scheduler for a
dead one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from carnews.clock import utc_now
from carnews.logs import configure_logging
from carnews.schedule import LEASE, build_scheduler
from carnews.settings import Settings
from carnews.storage import Database, open_database
from carnews.storage.leases import holder_name, release
from carnews.storage.sitekey import site_key
from carnews.web.app import create_app


def with_scheduler(app: FastAPI, db: Database, settings: Settings) -> None:
    """Run the scheduler for as long as the app runs, and give its lease up after."""
    inner = app.router.lifespan_context
    holder = holder_name()

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        async with inner(application):  # the app's own: the site key
            scheduler = build_scheduler(db, settings, utc_now, holder)
            scheduler.start()
            try:
                yield
            finally:
                scheduler.shutdown(wait=False)
                await release(db, LEASE, holder)

    app.router.lifespan_context = lifespan


def serve_forever(
    settings: Settings, host: str, port: int, scheduler: bool, *, log_json: bool = False
) -> None:
    configure_logging(json_lines=log_json or settings.ops.log_json)

    async def run() -> None:
        db = await open_database(settings.database.url)
        await site_key(db, settings, utc_now)  # refuse to start without one, as a clear error
        app = create_app(settings, db)
        if scheduler:
            with_scheduler(app, db, settings)
        try:
            await uvicorn.Server(uvicorn.Config(app, host=host, port=port)).serve()
        finally:
            await db.close()

    asyncio.run(run())
