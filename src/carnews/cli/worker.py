"""``carnews worker``: a delivery worker that sends every approved edition.

Several workers may run at once against one PostgreSQL: each claims its batches
with SKIP LOCKED, so no delivery is claimed twice. On SQLite, run one.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from carnews.cli.common import console, errors, now, with_database
from carnews.editions.publish import publish
from carnews.errors import CarnewsError
from carnews.jobs import approved_edition_ids
from carnews.mail.deliver import SendReport, send_edition
from carnews.settings import Settings
from carnews.storage import Database


async def send_all_approved(db: Database, settings: Settings) -> list[SendReport]:
    """One pass: every approved or sending edition, as far as it will go now."""
    reports = []
    for edition_id in await approved_edition_ids(db):
        try:
            report = await send_edition(db, settings, now, edition_id, actor="worker")
        except CarnewsError as exc:  # the next pass tries again; the ledger keeps its place
            errors.print(f"edition {edition_id}: {exc.message}", highlight=False)
            continue
        reports.append(report)
        if report.finished:
            await publish(db, settings)
    return reports


def register(root: typer.Typer) -> None:
    @root.command("worker")
    def worker(
        ctx: typer.Context,
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 30.0,
    ) -> None:
        """Send approved editions, pass after pass, until stopped.

        Example: carnews worker --interval 60
        """

        async def work(db: Database, settings: Settings) -> None:
            while True:
                for report in await send_all_approved(db, settings):
                    console.print(f"edition {report.edition_id}: {report.sent} sent, "
                                  f"finished: {report.finished}")  # fmt: skip
                if once:
                    return
                await asyncio.sleep(interval)

        with_database(ctx, work)
