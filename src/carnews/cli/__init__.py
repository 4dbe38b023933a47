"""The ``carnews`` command: a thin shell over the same services the web and scheduler use.

Expected failures (``CarnewsError``) print a message and a hint and exit 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli import (
    backup,
    bounces,
    contracts,
    digest,
    editing,
    editions,
    editors,
    sources,
    status,
    subscribers,
    worker,
)
from carnews.cli import optout as optout  # registers its commands on `subscribers`
from carnews.cli.common import (
    Options,
    console,
    errors,
    now,
    options,
    parse_overrides,
    print_json,
    report_error,
    run_with_database,
    with_database,
)
from carnews.cli.dbcheck import require_database, sqlite_file
from carnews.cli.starter import settings_markdown, starter_config
from carnews.cli.terminal import cells, counted, styled, text_table
from carnews.errors import CarnewsError, ConfigError
from carnews.settings import Settings, effective_values, load_settings

if TYPE_CHECKING:  # the jobs (and what they import) load only for the command that runs one
    from carnews.editions.review import DraftResult
    from carnews.storage import Database

app = typer.Typer(
    name="carnews",
    help="CAR-T and cell-therapy news for people with autoimmune disease, in plain language.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(editions.app, name="edition")
app.add_typer(subscribers.app, name="subscribers")
app.add_typer(sources.app, name="sources")
app.add_typer(bounces.app, name="bounces")
app.add_typer(editors.app, name="editors")
editing.register(editions.app)
app.add_typer(digest.app, name="digest")
editions.register_send(app)
worker.register(app)
backup.register(app)
sources.register_inspect(app)
status.register(app)
contracts.register(app, lambda ctx: options(ctx).settings())

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Settings file (default: CARNEWS_CONFIG, ./carnews.toml)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one setting, e.g. --set smtp.port=2525."),
    ] = None,
) -> None:
    """Settings come from defaults, carnews.toml, CARNEWS_* variables and --set, in that order."""
    ctx.obj = Options(config=config, overrides=parse_overrides(set_ or []))


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the file.")] = Path("carnews.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    organisation: Annotated[
        str | None, typer.Option(help="Who sends the newsletter (site.organisation).")
    ] = None,
    postal_address: Annotated[
        str | None, typer.Option(help="Its postal address on one line (site.postal_address).")
    ] = None,
) -> None:
    """Write a commented starter carnews.toml and create the database it names.

    Every email's footer names the sender and its postal address: init asks for both
    at a terminal (or takes --organisation and --postal-address).

    Example: carnews init --organisation "Lupus Patients UK" --postal-address "1 High St, Leeds"
    """
    keep = path.exists() and not force
    if not keep:
        sender = {
            "site.organisation": _ask(organisation, "Organisation that sends the newsletter"),
            "site.postal_address": _ask(postal_address, "Its postal address, on one line"),
        }
        path.write_text(starter_config({k: v for k, v in sender.items() if v}), encoding="utf-8")
        console.print(f"Wrote {path}. Edit it, then run 'carnews config show'.")
    settings = load_settings(path, overrides=options(ctx).overrides)
    database = sqlite_file(settings.database.url)
    if keep and (database is None or database.exists()):
        raise ConfigError(f"{path} already exists", hint="Pass --force to overwrite it.")
    run_with_database(settings, _nothing, create=True)


def _ask(given: str | None, question: str) -> str:
    """``given``, else the answer at a terminal; a script without a terminal is not asked."""
    if given is not None:
        return given.strip()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return ""
    return str(typer.prompt(f"{question} (Enter: later)", default="", show_default=False)).strip()


async def _nothing(db: Database, settings: Settings) -> None:
    """Opening the database creates and migrates it: that is all ``init`` asks of it."""


@config_app.command("show")
def config_show(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """Print the effective settings, secrets masked.

    Example: CARNEWS_SMTP_PORT=2525 carnews config show
    """
    settings = options(ctx).settings()
    rows = effective_values(settings)
    if json_:
        print_json({
            "settings": {spec.key: value for spec, value in rows},
            "sources": [source.__dict__ for source in settings.sources],
        })  # fmt: skip
        return
    table = text_table("setting", "value", "help")
    for spec, value in rows:
        table.add_row(*cells(spec.key, value, spec.help))
    console.print(table)
    console.print(
        counted(len(settings.sources), "source")
        + ": "
        + ", ".join(s.name for s in settings.sources)
    )


@config_app.command("docs")
def config_docs() -> None:
    """Print the settings reference as Markdown (the source of docs/settings.md).

    Example: carnews config docs > docs/settings.md
    """
    sys.stdout.write(settings_markdown())


@app.command()
def fetch(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Poll every source, due or not.")] = False,
    json_: JsonFlag = False,
) -> None:
    """Poll due sources, store new entries, curate and explain them.

    Example: carnews fetch --all
    """

    from carnews.jobs import gather

    async def work(db: Database, settings: Settings) -> None:
        if json_:
            print_json(await gather(db, settings, now, force=all_))
            return
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Fetching", total=len(settings.sources) or None)
            report = await gather(db, settings, now, force=all_,
                                  on_source_done=lambda _: progress.advance(task))  # fmt: skip
        table = text_table("source", "status", "new", "updated", "unchanged", "time", "error")
        for row in report.sources:
            table.add_row(*cells(row.name, row.outcome, row.new, row.updated, row.unchanged,
                                 f"{row.seconds:.2f}s", row.error or ""))  # fmt: skip
        console.print(table)
        for row in report.sources:
            for warning in row.warnings:  # the source's own text: printed, never interpreted
                console.print(f"warning: {row.name}: {warning}", markup=False, highlight=False)
        pages = report.enrichment
        if pages is not None and (pages.read or pages.cached or pages.deferred):
            console.print(
                f"Landing pages read: {pages.read} ({pages.disallowed} refused by robots.txt, "
                f"{len(pages.failed)} failed, {pages.deferred} left for the next run); "
                f"entries enriched: {pages.enriched}"
            )
        console.print(
            f"Stories kept: {len(report.curation.kept)}, dropped: {len(report.curation.dropped)}"
        )
        for warning in report.curation.warnings:
            console.print(styled("[yellow]warning:[/] {}", warning))

    with_database(ctx, work, create=True)


@app.command("draft")
def draft_command(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """Assemble a draft edition from relevant stories no edition carries yet.

    Example: carnews draft && carnews edition list
    """

    from carnews.jobs import draft

    async def work(db: Database, settings: Settings) -> None:
        result = await draft(db, settings, now, actor="cli")
        if json_:
            print_json(result)
            return
        if result.edition_id is None:
            console.print(f"No draft: {result.reason}.")
        else:
            console.print(
                f"Drafted edition {result.edition_id} with {counted(result.story_count, 'story')}. "
                f"Review it: carnews edition show {result.edition_id}"
            )
        for line in left_out(result, settings):
            console.print(line)

    with_database(ctx, work)


def left_out(result: DraftResult, settings: Settings) -> list[str]:
    """Where the relevant stories a draft did not take went, so none seem lost."""
    lines = []
    if result.over_limit:
        waiting = counted(result.over_limit, "more relevant story", "more relevant stories")
        limit = settings.edition.max_stories
        lines.append(f"Left for the next edition: {waiting} (edition.max_stories = {limit}).")
    if result.outside_window:
        older = counted(result.outside_window, "relevant story", "relevant stories")
        days = counted(settings.edition.lookback_days, "day")
        lines.append(f"Left out: {older} published more than {days} ago "
                     "(edition.lookback_days), or undated.")  # fmt: skip
    return lines


@app.command("publish")
def publish_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write (default: publish.dir).")
    ] = None,
) -> None:
    """Write feed.xml, atom.xml, the web archive of sent editions and each disease's page
    and feeds (diseases/SLUG/).

    Example: carnews publish --out public/
    """

    from carnews.jobs import publish_site

    async def work(db: Database, settings: Settings) -> None:
        report = await publish_site(db, settings, out)
        console.print(f"Published {counted(report.editions, 'edition')} to {report.directory}/")

    with_database(ctx, work)


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the demo's mail, feeds and database.")
    ] = Path("demo-out"),
) -> None:
    """Run the whole pipeline offline on bundled sample feeds.

    Example: carnews demo --out demo-out
    """
    from carnews.demo.run import run_demo

    run_demo(out)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: web.port).")] = None,
    scheduler: Annotated[bool, typer.Option(help="Also run the scheduled jobs.")] = False,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object a line (ops.log_json).")
    ] = False,
) -> None:
    """Serve the archive, feeds and unsubscribe pages (and, optionally, the scheduler).

    Example: carnews serve --port 8000
    """
    from carnews.cli.serving import serve_forever

    settings = options(ctx).settings()
    require_database(settings.database.url, create=False, errors=errors)
    serve_forever(
        settings, host or settings.web.host, port or settings.web.port, scheduler, log_json=log_json
    )


def main() -> None:
    try:
        app()
    except CarnewsError as exc:
        report_error(exc)
        sys.exit(2)
