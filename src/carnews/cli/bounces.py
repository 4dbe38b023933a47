"""``carnews bounces …``: feed bounce and complaint reports back; print the webhook token."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli.common import console, now, print_json, with_database
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.mail.bounces import (
        BounceNotice,
        BounceReport,
    )

app = typer.Typer(help="Bounces and complaints.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command("import")
def import_command(
    ctx: typer.Context,
    maildir: Annotated[Path, typer.Argument(help="Maildir the bounce address delivers to.")],
    json_: JsonFlag = False,
) -> None:
    """Record the bounces (RFC 3464) and complaints (RFC 5965) in a maildir's new/ and cur/.

    One hard bounce, three soft ones within 30 days or one complaint stop mail to an
    address. Importing the same mail again records nothing twice; mail is left in place.

    Example: carnews bounces import /var/mail/bounces --json
    """

    from carnews.mail.bounces import read_maildir, record_bounces
    from carnews.storage.models import BounceSource

    files = list(read_maildir(maildir))

    async def work(db: Database, settings: Settings) -> None:
        notices = [notice for _, found in files for notice in found]
        report = await record_bounces(db, now, notices, source=BounceSource.DSN)
        outcomes = iter(report.outcomes)
        results = [(path, [(n, next(outcomes)) for n in found]) for path, found in files]
        if json_:
            print_json({"files": [
                {"file": str(path), "notices": [
                    {"address": n.address, "kind": n.kind.value, "diagnostic": n.diagnostic,
                     "outcome": outcome} for n, outcome in pairs]}
                for path, pairs in results
            ], **report.summary()})  # fmt: skip
        else:
            _print_text(results, report)

    with_database(ctx, work)


@app.command("token")
def token(ctx: typer.Context) -> None:
    """Print the bearer token for POST /webhooks/bounces (derived from the site key).

    The key is CARNEWS_SITE_SECRET_KEY when set; otherwise the one carnews made on first
    use and keeps in the database, so the token is the same after every restart.

    Example: carnews bounces token
    """

    from carnews.mail.webhook import webhook_token
    from carnews.storage.sitekey import site_key

    async def work(db: Database, settings: Settings) -> None:
        sys.stdout.write(webhook_token(await site_key(db, settings, now)) + "\n")

    with_database(ctx, work)


def _print_text(
    results: list[tuple[Path, list[tuple[BounceNotice, str]]]], report: BounceReport
) -> None:
    for path, pairs in results:
        console.print(f"{path}: {'not a bounce' if not pairs else ''}".rstrip(), highlight=False)
        for notice, outcome in pairs:
            console.print(f"  {notice.address} {notice.kind.value}: {outcome}", highlight=False)
    console.print(f"Recorded {report.recorded}, already recorded {report.duplicates}, "
                  f"for no subscriber {len(report.unknown)}.")  # fmt: skip
    for change in report.status_changes:
        console.print(f"{change.address}: {change.before.value} → {change.after.value} "
                      f"({change.reason})", highlight=False)  # fmt: skip
