"""``carnews serve``: uvicorn with the web app, and the scheduler in the same loop."""

from __future__ import annotations

import asyncio

import uvicorn

from carnews.clock import utc_now
from carnews.schedule import build_scheduler
from carnews.settings import Settings
from carnews.storage import open_database
from carnews.web.app import create_app


def serve_forever(settings: Settings, host: str, port: int, with_scheduler: bool) -> None:
    async def run() -> None:
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port))
        if not with_scheduler:
            await server.serve()
            return
        db = await open_database(settings.database.url)
        scheduler = build_scheduler(db, settings, utc_now)
        scheduler.start()
        try:
            await server.serve()
        finally:
            scheduler.shutdown(wait=False)
            await db.close()

    asyncio.run(run())
