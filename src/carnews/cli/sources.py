"""``carnews sources`` and ``carnews inspect``: source health, and one feed read as ingest would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carnews.cli.common import console, now, options, print_json, with_database
from carnews.cli.terminal import cells, counted, styled, text_table
from carnews.errors import FetchError
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.gather.fetch import FetchedEntry
    from carnews.gather.sources import SourceStatus

app = typer.Typer(help="Show each source's health; re-enable a failing one.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.callback(invoke_without_command=True)
def show(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """List sources: ok / failing / gone, last success, last error, entries seen.

    Example: carnews sources
    """

    from carnews.gather.sources import source_statuses

    if ctx.invoked_subcommand is not None:
        return

    async def work(db: Database, settings: Settings) -> None:
        rows = await source_statuses(db)
        if json_:
            print_json(rows)
            return
        table = text_table("source", "health", "kind", "last success", "errors", "entries",
                           "next poll", "last error")  # fmt: skip
        for row in rows:
            health = row.health if row.enabled else "disabled"
            success = f"{row.last_success_at:%Y-%m-%d %H:%M}" if row.last_success_at else "never"
            table.add_row(*cells(row.name, health, row.kind, success, row.consecutive_errors,
                                 row.entries_seen, _next_poll(row),
                                 row.last_error or ""))  # fmt: skip
        console.print(table)

    with_database(ctx, work)


def _next_poll(row: SourceStatus) -> str:
    if not row.polled:
        return "not polled: 'carnews sources enable'" if row.enabled else "not polled"
    return f"{row.next_check_at:%Y-%m-%d %H:%M}" if row.next_check_at else "now"


@app.command("enable")
def enable(ctx: typer.Context, name: str) -> None:
    """Give a failing or gone source another try at the next fetch.

    Example: carnews sources enable pubmed
    """

    from carnews.gather.sources import enable_source

    async def work(db: Database, settings: Settings) -> None:
        await enable_source(db, name, now())
        console.print(f"Source {name} is enabled; it is polled at the next 'carnews fetch'.")

    with_database(ctx, work)


def _entry_json(entry: FetchedEntry) -> dict[str, Any]:
    from carnews.gather.identify import entry_guid

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
    """Parse one feed file exactly as ingest parses downloaded bytes; what it says is data."""

    from carnews.gather.fetch import parse_feed

    try:
        body = path.read_bytes()
    except OSError as exc:  # the operator's mistake, not the feed's: exit 2
        raise FetchError(
            f"cannot read {path}: {exc.strerror}", hint="Give a feed file's path or an http(s) URL."
        ) from None
    parsed = parse_feed(body, path.resolve().as_uri())
    return _report(parsed.error, parsed.entries)


async def read_url(url: str, settings: Settings) -> dict[str, Any]:
    """Fetch and parse one feed URL exactly as ingest would; its failure is data."""

    from carnews.gather.fetch import FetchRequest, Poll
    from carnews.gather.http import make_client
    from carnews.gather.kinds import fetch_kind

    options = settings.fetch
    async with make_client(
        contact_url=options.contact_url,
        timeout=options.timeout_seconds,
        connect_timeout=options.connect_timeout_seconds,
    ) as client:
        poll = Poll(FetchRequest(url), options.max_bytes, options.timeout_seconds, now(),
                    options.first_fetch_window_days,
                    parse_timeout=options.parse_timeout_seconds)  # fmt: skip
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
        console.print(f"\n{counted(len(report['entries']), 'entry')}.")
