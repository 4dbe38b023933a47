"""``carnews subscribers …``: add, list, import and export subscribers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carnews.audience.subscriptions import add_subscriber, export_csv, import_csv, list_subscribers
from carnews.cli.common import console, now, print_json, with_database
from carnews.cli.terminal import cells
from carnews.curate.lexicon import load_lexicon
from carnews.errors import SubscriberError
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

    async def work(db: Database, settings: Settings) -> None:
        rows = [
            {"id": s.id, "email": s.email, "name": s.name, "status": s.status.value,
             "diseases": s.diseases}
            for s in await list_subscribers(db, status)
        ]  # fmt: skip
        if json_:
            print_json(rows)
            return
        table = Table("id", "email", "name", "status", "diseases")
        for row in rows:
            table.add_row(*cells(row["id"], row["email"], row["name"], row["status"],
                                 ", ".join(row["diseases"]) or "all"))  # type: ignore[arg-type]  # fmt: skip
        console.print(table)

    with_database(ctx, work)


@app.command("import")
def import_command(ctx: typer.Context, path: Path, confirmed: Confirmed = False) -> None:
    """Import subscribers from a CSV with columns email[,name,diseases].

    Example: carnews subscribers import subscribers/sample.csv --confirmed
    """

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubscriberError(f"cannot read {path}: {exc}", hint="Give a UTF-8 CSV file.") from None

    async def work(db: Database, settings: Settings) -> None:
        report = await import_csv(db, now, load_lexicon(), text, confirmed=confirmed, actor="cli")
        console.print(f"Added {report.added}, already there {report.unchanged}, "
                      f"rejected {len(report.rejected)}.")  # fmt: skip
        for line, address, why in report.rejected:
            console.print(f"  line {line}: {address!r}: {why}", highlight=False)

    with_database(ctx, work)


@app.command("export")
def export(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Export every subscriber as CSV.

    Example: carnews subscribers export subscribers/export.csv
    """

    async def work(db: Database, settings: Settings) -> None:
        text = await export_csv(db)
        if path is None:
            sys.stdout.write(text)
        else:
            path.write_text(text, encoding="utf-8")
            console.print(f"Wrote {path}")

    with_database(ctx, work)
