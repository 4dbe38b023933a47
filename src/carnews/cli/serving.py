"""``carnews serve``: uvicorn with the web app, and the scheduler in the same loop.

The app and the scheduler share one ``Database``: on SQLite its in-process writer lock
is what lets a web request and a scheduled job take turns fairly. The scheduler's lease
is given back at a clean stop, so ``/healthz`` does not take a stopped scheduler for a
dead one.
"""

from __future__ import annotations

import asyncio

import uvicorn

from carnews.clock import utc_now
from carnews.logs import configure_logging
from carnews.schedule import LEASE, build_scheduler
from carnews.settings import Settings
from carnews.storage import open_database
from carnews.storage.leases import holder_name, release
from carnews.storage.sitekey import site_key
from carnews.web.app import create_app


def serve_forever(
    settings: Settings, host: str, port: int, with_scheduler: bool, *, log_json: bool = False
) -> None:
    configure_logging(json_lines=log_json or settings.ops.log_json)

    async def run() -> None:
        db = await open_database(settings.database.url)
        await site_key(db, settings, utc_now)  # refuse to start without one, as a clear error
        app = create_app(settings, db)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port))
        holder = holder_name()
        scheduler = build_scheduler(db, settings, utc_now, holder) if with_scheduler else None
        if scheduler is not None:
            scheduler.start()
        try:
            await server.serve()
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
                await release(db, LEASE, holder)
            await db.close()

    asyncio.run(run())
