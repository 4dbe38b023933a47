"""``carnews digest …``: the monthly digest for readers who chose one mail a month."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli.common import console, now, print_json, with_database
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.editions.digest import DigestResult

app = typer.Typer(help="Draft the monthly digest (sent like any edition).", no_args_is_help=True)


@app.command("draft")
def draft(
    ctx: typer.Context,
    month: Annotated[
        str | None, typer.Option(help="The month, YYYY-MM (default: the last month that is over).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Draft the digest of a month's sent stories for readers of the monthly digest.

    It waits in review like any edition: approve it, then 'carnews send ID' (or the
    worker) sends it to readers who chose the digest, exactly once each. Drafting a
    month again finds the digest already made.

    Example: carnews digest draft --month 2026-11
    """

    from carnews.editions.digest import Month
    from carnews.jobs import draft_digest

    chosen = Month.parse(month) if month else None

    async def work(db: Database, settings: Settings) -> DigestResult | None:
        return await draft_digest(db, settings, now, month=chosen, actor="cli")

    result = with_database(ctx, work)
    assert result is not None  # only the scheduler asks for 'only if wanted'
    if json_:
        print_json(result)
    elif result.edition_id is None:
        console.print(f"No digest for {result.month}: {result.reason}.")
    else:
        console.print(f"Digest of {result.month}: edition {result.edition_id}, "
                      f"{result.story_count} stories ({result.reason}). Next: carnews edition "
                      f"show {result.edition_id}, then approve it and send it.")  # fmt: skip
