"""``carnews worker``: a delivery worker that sends every approved edition.

Several workers may run at once against one PostgreSQL: each claims its batches
with SKIP LOCKED, so no delivery is claimed twice. On SQLite, run one.

Each pass prints a line per edition for a person and logs one summary line (job
``send``, its outcome and counts, as the scheduler's send job does) through
``carnews.logs``: plain text, or JSON lines with ``--log-json`` or ``ops.log_json``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli.common import console, errors, now, options, run_with_database
from carnews.errors import CarnewsError
from carnews.logs import configure_logging
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.jobs import SendOutcome

log = logging.getLogger("carnews.worker")


def register(root: typer.Typer) -> None:
    @root.command("worker")
    def worker(
        ctx: typer.Context,
        once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 30.0,
        log_json: Annotated[
            bool, typer.Option("--log-json", help="Log one JSON object a line (ops.log_json).")
        ] = False,
    ) -> None:
        """Send approved editions, pass after pass, until stopped.

        Example: carnews worker --interval 60 --log-json
        """
        settings = options(ctx).settings()
        configure_logging(json_lines=log_json or settings.ops.log_json)

        async def work(db: Database, settings: Settings) -> None:
            while True:
                await one_pass(db, settings)
                if once:
                    return
                await asyncio.sleep(interval)

        run_with_database(settings, work, create=False)


async def one_pass(db: Database, settings: Settings) -> None:
    from carnews.jobs import send_all_due
    from carnews.schedule import send_pass

    refused: list[int] = []

    def report_error(edition_id: int, exc: CarnewsError) -> None:
        refused.append(edition_id)
        errors.print(f"edition {edition_id}: {exc.message}", markup=False, highlight=False)

    outcomes = await send_all_due(db, settings, now, actor="worker", on_error=report_error)
    for outcome in outcomes:
        console.print(describe(outcome), highlight=False)
    summary = send_pass(outcomes, refused)
    log.info("%s", summary.message, extra={"job": "send", "outcome": summary.outcome,
                                           **summary.counts})  # fmt: skip


def describe(outcome: SendOutcome) -> str:
    if outcome.test_mode is not None:
        return (f"edition {outcome.edition_id}: test mode, {len(outcome.test_mode.sent)} "
                "sent to the test address")  # fmt: skip
    if outcome.report is None:
        return f"edition {outcome.edition_id}: test mode, already sent to the test address"
    return (f"edition {outcome.edition_id}: {outcome.report.sent} sent, "
            f"finished: {outcome.report.finished}")  # fmt: skip
