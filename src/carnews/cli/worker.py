"""``carnews worker``: a delivery worker that sends every approved edition.

Several workers may run at once against one PostgreSQL: each claims its batches
with SKIP LOCKED, so no delivery is claimed twice. On SQLite, run one.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from carnews.cli.common import console, errors, now, with_database
from carnews.errors import CarnewsError
from carnews.jobs import SendOutcome, send_all_due
from carnews.settings import Settings
from carnews.storage import Database


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
                for outcome in await send_all_due(db, settings, now, actor="worker",
                                                  on_error=report_error):  # fmt: skip
                    console.print(describe(outcome), highlight=False)
                if once:
                    return
                await asyncio.sleep(interval)

        with_database(ctx, work)


def describe(outcome: SendOutcome) -> str:
    if outcome.test_mode is not None:
        return (f"edition {outcome.edition_id}: test mode, {len(outcome.test_mode.sent)} "
                "sent to the test address")  # fmt: skip
    if outcome.report is None:
        return f"edition {outcome.edition_id}: test mode, already sent to the test address"
    return (f"edition {outcome.edition_id}: {outcome.report.sent} sent, "
            f"finished: {outcome.report.finished}")  # fmt: skip


def report_error(edition_id: int, exc: CarnewsError) -> None:
    errors.print(f"edition {edition_id}: {exc.message}", markup=False, highlight=False)
