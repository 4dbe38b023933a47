"""``carnews status``: what ``/healthz`` and ``/metrics`` report, for a person at a terminal.

The same snapshot (``monitor.snapshot``) and the same judgement (``monitor.health``);
source names and errors are the sources' text, printed through SafeConsole as data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli.common import console, now, print_json, with_database
from carnews.cli.terminal import cells, styled, text_table
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.monitor.health import HealthReport
    from carnews.monitor.snapshot import Snapshot

UNHEALTHY_EXIT = 1


def register(root: typer.Typer) -> None:
    @root.command("status")
    def status(
        ctx: typer.Context,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Health, scheduler, sources, stories, deliveries and bounces at a glance
        (exit status 1 when unhealthy, as /healthz answers 503).

        Example: carnews status --json
        """

        from carnews.monitor.health import judge
        from carnews.monitor.snapshot import take_snapshot

        async def work(db: Database, settings: Settings) -> tuple[Snapshot, HealthReport]:
            snapshot = await take_snapshot(db, now())
            return snapshot, judge(snapshot, settings.ops)

        snapshot, report = with_database(ctx, work)
        if json_:
            print_json({"health": report.body, "snapshot": snapshot})
        else:
            show(snapshot, report)
        if not report.healthy:
            raise typer.Exit(UNHEALTHY_EXIT)


def scheduler_line(report: HealthReport) -> str:
    """The scheduler line: its state, holder and heartbeat age."""
    scheduler = report.body["scheduler"]
    if scheduler["holder"] is None:
        return "scheduler: not running (no process holds the lease)"
    return (
        f"scheduler: {scheduler['state']}, held by {scheduler['holder']}, last heartbeat "
        f"{scheduler['heartbeat_age_seconds']:.0f} s ago"
    )


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"


def show(snapshot: Snapshot, report: HealthReport) -> None:
    if report.healthy:
        console.print(styled("[bold green]healthy[/]  ({})", snapshot.taken_at.isoformat()))
    for problem in report.problems:
        console.print(styled("[bold red]unhealthy:[/] {}", problem))
    console.print(scheduler_line(report))
    sources = text_table("source", "health", "last success", "last poll", "errors",
                         "polls ok/304/err", "last error", title="Sources")  # fmt: skip
    for row in snapshot.sources:
        health = row.health if row.enabled else "disabled"
        polls = "/".join(str(row.fetches[key]) for key in ("ok", "not_modified", "error"))
        sources.add_row(*cells(row.name, health, _when(row.last_success_at),
                               _when(row.last_checked_at), row.consecutive_errors, polls,
                               row.last_error or ""))  # fmt: skip
    console.print(sources)
    figures = text_table("what", "count", title="Pipeline")
    rows: list[tuple[str, object]] = [
        ("entries stored", snapshot.entries),
        ("stories kept", snapshot.stories_kept),
        ("stories dropped", snapshot.stories_dropped),
        *((f"editions {state}", n) for state, n in snapshot.editions.items() if n),
        *((f"deliveries {state}", n) for state, n in snapshot.deliveries.items() if n),
        ("queue depth", snapshot.queue_depth),
        ("last send", _when(snapshot.last_send_at)),
        *((f"bounces {kind}", n) for kind, n in snapshot.bounces.items()),
    ]
    for what, count in rows:
        figures.add_row(*cells(what, count))
    console.print(figures)
