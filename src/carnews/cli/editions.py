"""``carnews edition …`` and ``carnews send``: the review gate from the command line."""

from __future__ import annotations

import enum
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carnews.cli.common import console, now, print_json, to_jsonable, with_database
from carnews.cli.terminal import cells, counted, styled, text_table
from carnews.editions import workflow
from carnews.errors import DeliveryError
from carnews.settings import Settings
from carnews.storage import Database

if TYPE_CHECKING:  # imported where used, so other commands start without them
    from carnews.jobs import SendOutcome
    from carnews.mail.deliver import SendProgress, SendReport
    from carnews.mail.testsend import TestSendReport

CHECKLIST = workflow.CHECKLIST
app = typer.Typer(help="List, review, approve and preview editions.", no_args_is_help=True)
# 'carnews send' when the run paused after too many failures in a row (errors exit 2).
PAUSED_EXIT = 3


class Resolution(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command("list")
def list_command(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """List editions, newest first.

    Example: carnews edition list --json
    """

    from carnews.editions.review import list_editions

    async def work(db: Database, settings: Settings) -> None:
        rows = [
            {"id": e.id, "title": e.title, "state": e.state.value, "stories": len(e.items),
             "created_at": e.created_at, "approved_by": e.approved_by, "sent_at": e.sent_at}
            for e in await list_editions(db)
        ]  # fmt: skip
        if json_:
            print_json(rows)
            return
        table = text_table("id", "title", "state", "stories", "approved by")
        for row in rows:
            table.add_row(*cells(row["id"], row["title"], row["state"], row["stories"],
                                 row["approved_by"] or ""))  # fmt: skip
        console.print(table)

    with_database(ctx, work)


@app.command("show")
def show(ctx: typer.Context, edition_id: int, json_: JsonFlag = False) -> None:
    """Show an edition's stories, summaries and state.

    Example: carnews edition show 1
    """

    from carnews.editions.review import load_edition
    from carnews.editions.views import edition_view, reading_grades

    async def work(db: Database, settings: Settings) -> None:
        async with db.read() as session:
            edition = await load_edition(session, edition_id)
            view = await edition_view(session, edition, base_url=settings.site.base_url,
                                      site_title=settings.site.title)  # fmt: skip
            state, approved_by = edition.state.value, edition.approved_by
        grades = reading_grades(view)
        if json_:
            print_json({"state": state, "approved_by": approved_by, "edition": view,
                        "reading_grades": grades})  # fmt: skip
            return
        approval = f", approved by {approved_by}" if approved_by else ""
        # Titles, summaries and names come from feeds and editors: styled() escapes them, so
        # "[link=…]" in a title prints as those characters and never becomes a hyperlink.
        console.print(styled("[bold]{}[/]  ({}{})", view.title, state, approval))
        console.print(f"Reading grade of the whole issue: FK {grades.edition_fk:.1f}, "
                      f"SMOG {grades.edition_smog:.1f} (aim for 8 or lower)")  # fmt: skip
        for position, story in enumerate(view.stories, start=1):
            console.print(
                styled("\n[bold]{}. {}[/]  [dim]story {}[/]", position, story.headline,
                       story.story_id)
            )  # fmt: skip
            fk, smog = grades.stories[story.story_id]
            tags = [story.evidence, ", ".join(story.diseases), ", ".join(story.sources),
                    f"FK {fk:.1f}", f"SMOG {smog:.1f}"]  # fmt: skip
            console.print(styled("[dim]{}[/]", " · ".join(tags)))
            if story.source_title and story.source_title != story.headline:
                console.print(styled("[dim]Source:[/] {}", story.source_title))
            console.print(story.summary)
            console.print(styled("[italic]What this means:[/] {}", story.what_it_means))
            if story.unexplained:
                console.print(styled("[yellow]Jargon with no glossary entry:[/] {}",
                                     ", ".join(story.unexplained)))  # fmt: skip

    with_database(ctx, work)


@app.command("approve")
def approve_command(
    ctx: typer.Context,
    edition_id: int,
    by: Annotated[str, typer.Option("--by", help="Name of the approving editor.")],
    checked: Annotated[
        list[str] | None,
        typer.Option("--checked", help="A checklist line you confirmed, by name (repeat it): "
                     + ", ".join(f"{name} ({label})" for name, label in CHECKLIST.items()) + "."),
    ] = None,
    confirm_checklist: Annotated[
        bool, typer.Option("--confirm-checklist",
                           help="You confirmed every line of the checklist (--checked each).")
    ] = False,
) -> None:  # fmt: skip
    """Approve an edition as it is now, once you confirm every line of the review checklist
    (as the review page asks); any later edit withdraws the approval.

    Example: carnews edition approve 1 --by "Dr Jane Editor" --confirm-checklist
    """
    lines = list(CHECKLIST) if confirm_checklist else checked or []

    async def work(db: Database, settings: Settings) -> None:
        digest = await workflow.approve(db, now, edition_id, by, lines)
        console.print(styled("Edition {} approved by {} (content {}).", edition_id, by,
                             digest[:12]))  # fmt: skip

    with_database(ctx, work)


@app.command("preview")
def preview(
    ctx: typer.Context,
    edition_id: int,
    text: Annotated[
        bool, typer.Option("--text", help="The plain-text part instead of HTML.")
    ] = False,
    disease: Annotated[
        list[str] | None, typer.Option(help="Preview as a subscriber of these diseases.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Render the email exactly as subscribers will get it.

    Example: carnews edition preview 1 --out preview.html
    """

    from carnews.editions.render import render_email
    from carnews.editions.review import load_edition
    from carnews.editions.views import edition_view
    from carnews.mail.message import footer_for

    async def work(db: Database, settings: Settings) -> None:
        async with db.read() as session:
            edition = await load_edition(session, edition_id)
            view = await edition_view(session, edition, base_url=settings.site.base_url,
                                      site_title=settings.site.title)  # fmt: skip
        rendered = render_email(view.for_diseases(disease or []), settings.templates.dir,
                                footer_for(settings.site))  # fmt: skip
        # Each subscriber's mail carries their own links; show where they will go.
        base = settings.site.base_url.rstrip("/")
        rendered = rendered.personalise(f"{base}/unsubscribe/SAMPLE-LINK-IN-PREVIEW",
                                        f"{base}/preferences/SAMPLE-LINK-IN-PREVIEW")  # fmt: skip
        body = rendered.text if text else rendered.html
        if out is None:
            typer.echo(body)
        else:
            out.write_text(body, encoding="utf-8")
            console.print(f"Wrote {out}")

    with_database(ctx, work)


def print_send_report(report: SendReport) -> None:
    console.print(
        f"Edition {report.edition_id}: {report.sent} sent, "
        f"{report.failed_temporary} failed temporarily (4xx, retried with back-off), "
        f"{report.failed_permanent} bounced, {report.unknown} unknown (check by hand), "
        f"{report.skipped_no_matching_story} skipped (no story for their diseases)."
    )
    if report.unknown:
        console.print(styled("[yellow]{} unknown[/]: a sender stopped "
                             "mid-batch. 'carnews send ID --status' lists their Message-IDs; "
                             "then '--resolve-unknown sent' or '--resolve-unknown retry'.",
                             counted(report.unknown, "delivery")))  # fmt: skip
    if report.paused:
        console.print(styled("[red]Paused[/] after too many failures in a row. Check the "
                             "relay, then 'carnews send {} --resume'.",
                             report.edition_id))  # fmt: skip
    elif not report.finished:
        console.print(f"Not finished: run 'carnews send {report.edition_id}' again to retry.")


def message_ids_in(path: Path) -> set[str]:
    """Every <Message-ID> a relay log (or a folder of received mail) mentions."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DeliveryError(f"cannot read the relay log {path}: {exc.strerror}") from None
    return set(re.findall(r"<[^<>@\s]+@[^<>\s]+>", text))


async def _send_with_progress(
    db: Database, settings: Settings, edition_id: int, resume: bool
) -> SendOutcome:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from carnews.jobs import send_due

    columns = (
        BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[sent]:,} sent, {task.fields[failed]:,} failed"),
        TextColumn("{task.fields[rate]:,.0f} msg/s"), TimeRemainingColumn(),
    )  # fmt: skip
    started = time.monotonic()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Sending", total=None, sent=0, failed=0, rate=0.0)

        def show(progress: SendProgress) -> None:
            rate = progress.settled / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=progress.settled, total=progress.total,
                       sent=progress.sent, failed=progress.failed, rate=rate)  # fmt: skip

        return await send_due(db, settings, now, edition_id, actor="cli", resume=resume,
                              on_progress=show)  # fmt: skip


async def _test_send(
    db: Database, settings: Settings, edition_id: int, addresses: list[str], json_: bool
) -> None:
    from carnews.mail.testsend import send_test

    report = await send_test(db, settings, now, edition_id, addresses, actor="cli")
    _print_test_report(report, json_)


def _print_test_report(report: TestSendReport, json_: bool) -> None:
    if json_:
        print_json(report)
        return
    console.print(f"Test sent to {', '.join(report.sent) or 'nobody'}; nothing was recorded "
                  "as sent to subscribers.")  # fmt: skip
    for address, answer in report.refused:
        console.print(f"  refused {address}: {answer}", highlight=False)


def register_send(root: typer.Typer) -> None:
    @root.command("send")
    def send(
        ctx: typer.Context,
        edition_id: int,
        test: Annotated[
            list[str] | None,
            typer.Option("--test", help="Send only to this address, subject [TEST] (repeatable)."),
        ] = None,
        status: Annotated[
            bool, typer.Option("--status", help="Only report the ledger; send nothing.")
        ] = False,
        resume: Annotated[
            bool, typer.Option("--resume", help="Go on with a send that paused after errors.")
        ] = False,
        resolve_unknown: Annotated[
            Resolution | None,
            typer.Option("--resolve-unknown", help="Rows a dead sender left: 'sent' or 'retry'."),
        ] = None,
        relay_log: Annotated[
            Path | None,
            typer.Option(help="With --resolve-unknown: Message-IDs in this log count as sent."),
        ] = None,
        json_: JsonFlag = False,
    ) -> None:
        """Send an approved edition to every active subscriber (resumes where it stopped).

        With --test the whole edition goes only to the given addresses, in any state, and
        nothing is recorded as sent. With mail.test_mode_address set, every send goes there.
        A send that paused after too many failures in a row exits with status 3.

        Example: carnews send 1 --test editor@example.org
        """

        from carnews.jobs import send_due

        async def work(db: Database, settings: Settings) -> SendReport | None:
            unknown: list[tuple[str, str | None]] | None = None
            if resolve_unknown is not None or status:
                report, unknown = await _settle_unknown(
                    db, settings, edition_id, resolve_unknown, relay_log, json_
                )
            elif test:
                await _test_send(db, settings, edition_id, test, json_)
                return None
            else:
                outcome = await (
                    send_due(db, settings, now, edition_id, actor="cli", resume=resume)
                    if json_ else _send_with_progress(db, settings, edition_id, resume)
                )  # fmt: skip
                if outcome.test_mode is not None:
                    target = settings.mail.test_mode_address
                    console.print(f"Test mode: everything went to {target}.", highlight=False)
                    _print_test_report(outcome.test_mode, json_)
                    return None
                assert outcome.report is not None  # test mode is off, so this was a real send
                report = outcome.report
            if json_ and unknown is not None:
                listed = [{"address": address, "message_id": mid} for address, mid in unknown]
                print_json({**to_jsonable(report), "unknown_deliveries": listed})
            elif json_:
                print_json(report)
            else:
                print_send_report(report)
            return report

        report = with_database(ctx, work)
        if report is not None and report.paused:
            raise typer.Exit(PAUSED_EXIT)  # a script or timer must not take a pause for done


async def _settle_unknown(
    db: Database,
    settings: Settings,
    edition_id: int,
    resolution: Resolution | None,
    relay_log: Path | None,
    json_: bool,
) -> tuple[SendReport, list[tuple[str, str | None]] | None]:
    """``--status`` (the ledger, and the unknown rows listed) or ``--resolve-unknown``."""

    from carnews.jobs import settle
    from carnews.mail.recovery import mark_abandoned, unknown_rows
    from carnews.mail.recovery import resolve_unknown as resolve_unknown_rows

    # A sender that died on this host is seen at once, not after its lease.
    await mark_abandoned(db, now, edition_id, settings.smtp.claim_lease_seconds, "cli")
    if resolution is None:
        report = await settle(db, settings, now, edition_id, actor="cli")
        unknown = await unknown_rows(db, edition_id)
        if not json_:
            for address, message_id in unknown:
                console.print(f"  unknown: {address} {message_id}", highlight=False)
        return report, unknown
    as_sent = resolution == Resolution.SENT
    seen = message_ids_in(relay_log) if relay_log else None
    count = await resolve_unknown_rows(db, now, edition_id, as_sent=as_sent,
                                       relay_accepted=seen, actor="cli")  # fmt: skip
    if not json_:
        decision = "by the relay's log" if seen is not None else (
            "sent" if as_sent else "to send again")  # fmt: skip
        resolved = counted(count, "unknown delivery", "unknown deliveries")
        console.print(f"{resolved} resolved ({decision}).")
    return await settle(db, settings, now, edition_id, actor="cli"), None
