"""``carnews subscribers …``: add, list, import and export subscribers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from carnews.cli.common import console, now, print_json, with_database
from carnews.cli.terminal import cells, counted, text_table
from carnews.errors import DeliveryError, SubscriberError
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import SubscriberStatus

app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Confirmed = Annotated[
    bool,
    typer.Option(help="Consent is already confirmed (active at once); otherwise pending."),
]


@app.command("add")
def add(
    ctx: typer.Context,
    email: str,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    disease: Annotated[
        list[str] | None, typer.Option(help="A disease to follow (repeatable).")
    ] = None,
    confirmed: Confirmed = False,
) -> None:
    """Add one subscriber.

    Example: carnews subscribers add ana@example.org --disease lupus --confirmed
    """

    from carnews.audience.subscriptions import add_subscriber
    from carnews.curate.lexicon import load_lexicon

    async def work(db: Database, settings: Settings) -> None:
        subscriber = await add_subscriber(
            db, now, load_lexicon(), email=email, name=name, diseases=disease or [],
            confirmed=confirmed, consent_source="cli", actor="cli",
        )  # fmt: skip
        console.print(f"Added {subscriber.email} ({subscriber.status.value}).")

    with_database(ctx, work)


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[SubscriberStatus | None, typer.Option(help="Only this status.")] = None,
    json_: JsonFlag = False,
) -> None:
    """List subscribers.

    Example: carnews subscribers list --status active
    """

    from carnews.audience.subscriptions import list_subscribers

    async def work(db: Database, settings: Settings) -> None:
        rows = [
            {"id": s.id, "email": s.email, "name": s.name, "status": s.status.value,
             "diseases": s.diseases}
            for s in await list_subscribers(db, status)
        ]  # fmt: skip
        if json_:
            print_json(rows)
            return
        table = text_table("id", "email", "name", "status", "diseases")
        for row in rows:
            table.add_row(*cells(row["id"], row["email"], row["name"], row["status"],
                                 ", ".join(row["diseases"]) or "all"))  # type: ignore[arg-type]  # fmt: skip
        console.print(table)

    with_database(ctx, work)


@app.command("import")
def import_command(ctx: typer.Context, path: Path, confirmed: Confirmed = False) -> None:
    """Import subscribers from a CSV with columns email[,name,diseases].

    Without --confirmed they are pending, and each is mailed a confirmation link (once;
    running the import again mails those the relay could not reach before). Erased and
    blocked addresses are rejected.

    Example: carnews subscribers import subscribers/sample.csv --confirmed
    """

    from carnews.audience.subscriptions import import_csv
    from carnews.curate.lexicon import load_lexicon
    from carnews.storage.sitekey import site_key

    check_utf8(path)

    async def work(db: Database, settings: Settings) -> None:
        key = await site_key(db, settings, now)
        with path.open(encoding="utf-8-sig", newline="") as lines:
            report = await import_csv(db, now, load_lexicon, lines, confirmed=confirmed,
                                      actor="cli", site_key=key)  # fmt: skip
        console.print(f"Added {report.added}, already there {report.unchanged}, "
                      f"rejected {report.rejected_total}.")  # fmt: skip
        for line, address, why in report.rejected:
            console.print(f"  line {line}: {address!r}: {why}")
        if report.rejected_total > len(report.rejected):
            more = report.rejected_total - len(report.rejected)
            console.print(f"  … and {counted(more, 'more rejected line')} not shown.")
        if not confirmed:
            await mail_confirmations(db, settings)

    with_database(ctx, work)


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 before anything is imported, naming the first bad line."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise SubscriberError(
                        f"line {number} of {path} is not UTF-8 text; nothing was imported",
                        hint="Save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8') and import "
                        "it again.",
                    ) from None
    except OSError as exc:
        raise SubscriberError(f"cannot read {path}: {exc.strerror}",
                              hint="Give the path of a readable CSV file.") from None  # fmt: skip


@app.command("export")
def export(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Export every subscriber as CSV.

    Example: carnews subscribers export subscribers/export.csv
    """

    from carnews.audience.subscriptions import write_csv
    from carnews.storage.private import private_file

    async def work(db: Database, settings: Settings) -> None:
        if path is None:
            await write_csv(db, sys.stdout)
            return
        try:
            # Addresses and diseases: for the owner's eyes only, even over an older file.
            private_file(path)
            with path.open("w", encoding="utf-8", newline="") as out:
                await write_csv(db, out)
        except OSError as exc:
            raise SubscriberError(
                f"cannot write {path}: {exc.strerror}",
                hint="Give a path in a folder you may write to.",
            ) from None
        console.print(f"Wrote {path} (readable by you only)")

    with_database(ctx, work)


async def mail_confirmations(db: Database, settings: Settings) -> None:
    """The import's own step: a confirmation link to every imported address not yet asked."""

    from carnews.audience.signup import links_for_imported, withdraw_links
    from carnews.mail.notices import confirmation_message, send_messages

    links = await links_for_imported(db, now)
    if links:
        try:
            sent = await send_messages(settings, [confirmation_message(settings, p, now())
                                                  for p in links])  # fmt: skip
        except DeliveryError as exc:
            await withdraw_links(db, links)
            raise DeliveryError(
                f"the rows were imported, but no confirmation link could be mailed: {exc.message}",
                hint="Fix smtp.* and run the same import again: the addresses already there are "
                "skipped, and every one not yet asked is mailed its link.",
            ) from None
        console.print(f"Mailed {counted(sent, 'confirmation link')}; an address is active "
                      "once its owner follows the link.")  # fmt: skip
