"""``carnews sources`` and ``carnews inspect``: source health, and one feed read as ingest would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from carnews.cli.common import console, now, options, print_json, with_database
from carnews.cli.terminal import cells, styled
from carnews.gather.fetch import FetchedEntry, FetchRequest, Poll, parse_feed
from carnews.gather.http import make_client
from carnews.gather.identify import entry_guid
from carnews.gather.kinds import fetch_kind
from carnews.gather.sources import enable_source, source_statuses
from carnews.settings import Settings
from carnews.storage import Database

app = typer.Typer(help="Show each source's health; re-enable a failing one.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.callback(invoke_without_command=True)
def show(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """List sources: ok / failing / gone, last success, last error, entries seen.

    Example: carnews sources
    """
    if ctx.invoked_subcommand is not None:
        return

    async def work(db: Database, settings: Settings) -> None:
        rows = await source_statuses(db)
        if json_:
            print_json(rows)
            return
        table = Table("source", "health", "kind", "last success", "errors", "entries",
                      "next poll", "last error")  # fmt: skip
        for row in rows:
            health = row.health if row.enabled else "disabled"
            table.add_row(*cells(
                row.name, health, row.kind,
                f"{row.last_success_at:%Y-%m-%d %H:%M}" if row.last_success_at else "never",
                str(row.consecutive_errors), str(row.entries_seen),
                f"{row.next_check_at:%Y-%m-%d %H:%M}" if row.next_check_at else "now",
                row.last_error or "",
            ))  # fmt: skip
        console.print(table)

    with_database(ctx, work)


@app.command("enable")
def enable(ctx: typer.Context, name: str) -> None:
    """Give a failing or gone source another try at the next fetch.

    Example: carnews sources enable pubmed
    """

    async def work(db: Database, settings: Settings) -> None:
        await enable_source(db, name, now())
        console.print(f"Source {name} is enabled; it is polled at the next 'carnews fetch'.")

    with_database(ctx, work)


def _entry_json(entry: FetchedEntry) -> dict[str, Any]:
    return {
        "id": entry_guid(entry.guid, entry.link, entry.title, entry.text),
        "title": entry.title,
        "link": entry.link,
        "published": entry.published_at.isoformat() if entry.published_at else None,
        "html": entry.clean_html,
        "text": entry.text,
    }


def _report(error: str | None, entries: tuple[FetchedEntry, ...]) -> dict[str, Any]:
    return {
        "status": "error" if error else "ok",
        "error": error,
        "entries": [_entry_json(entry) for entry in entries],
    }


def read_file(path: Path) -> dict[str, Any]:
    """Parse one feed file exactly as ingest parses downloaded bytes."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        return _report(f"cannot read {path}: {exc.strerror}", ())
    parsed = parse_feed(body, path.resolve().as_uri())
    return _report(parsed.error, parsed.entries)


async def read_url(url: str, settings: Settings) -> dict[str, Any]:
    """Fetch and parse one feed URL exactly as ingest would; its failure is data."""
    options = settings.fetch
    async with make_client(
        contact_url=options.contact_url,
        timeout=options.timeout_seconds,
        connect_timeout=options.connect_timeout_seconds,
    ) as client:
        poll = Poll(FetchRequest(url), options.max_bytes, options.timeout_seconds, now(),
                    options.first_fetch_window_days)  # fmt: skip
        result = await fetch_kind("feed", client, poll)
    return _report(result.error, result.entries)


def register_inspect(root: typer.Typer) -> None:
    @root.command("inspect")
    def inspect(ctx: typer.Context, target: str, json_: JsonFlag = False) -> None:
        """Read one feed file or URL as ingest would and print its entries or its error.

        Example: carnews inspect https://www.nature.com/nm.rss --json
        """
        if target.startswith(("http://", "https://")):
            report = asyncio.run(read_url(target, options(ctx).settings()))
        else:
            report = read_file(Path(target))
        if json_:
            print_json(report)
            return
        if report["error"]:
            console.print(styled("[red]{}:[/] {}", report["status"], report["error"]))
        for entry in report["entries"]:
            console.print(styled("\n[bold]{}[/]", entry["title"]))
            console.print(
                styled("[dim]id {} · {}[/]", entry["id"], entry["published"] or "no date")
            )
            console.print(entry["link"] or "(no link)", highlight=False)
            console.print(entry["text"][:600], highlight=False)
        console.print(f"\n{len(report['entries'])} entries.")
