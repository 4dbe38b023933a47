"""``carnews edition edit|drop|add|move|intro|subject|withdraw|discard|schedule``: the
review page's actions for operators without a browser, through the same workflow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from carnews.cli.common import console, now, with_database
from carnews.cli.terminal import styled
from carnews.editions import workflow
from carnews.errors import EditionStateError
from carnews.settings import Settings
from carnews.storage import Database

By = Annotated[str, typer.Option("--by", help="Who makes the change (for the audit log).")]
DEFAULT_BY = "operator"
Action = Callable[[Database, Settings], Awaitable[workflow.Change]]


def register(app: typer.Typer) -> None:
    """Add the commands to ``carnews edition``."""
    for command in (edit, drop, add, move, intro, subject, withdraw, discard, schedule):
        app.command(command.__name__)(command)


def _report(change: workflow.Change) -> None:
    if not change.changed:
        console.print("Nothing changed.")
        return
    console.print(styled("Edition {}: {}.", change.edition_id, change.what))
    if change.withdrawn:
        console.print("Its approval is withdrawn: an editor must approve it again.")


def _apply(ctx: typer.Context, by: str, action: Action) -> None:
    async def work(db: Database, settings: Settings) -> None:
        _report(await action(db, settings))  # a withdrawn approval: the workflow tells editors

    with_database(ctx, work)


def edit(
    ctx: typer.Context,
    edition_id: int,
    story_id: int,
    field: Annotated[str, typer.Option("--field", help="One of: " + ", ".join(workflow.FIELDS))],
    text: Annotated[str, typer.Option("--text", help="The new text ('unknowns': one a line).")],
    by: By = DEFAULT_BY,
) -> None:
    """Rewrite one part of a story in an edition (its headline or a card section).

    Example: carnews edition edit 1 42 --field what_happened --text "All five got better."
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.edit_story(
            db, settings, now, edition_id, story_id, {field: text}, actor=by
        ),
    )


def drop(ctx: typer.Context, edition_id: int, story_id: int, by: By = DEFAULT_BY) -> None:
    """Remove a story from an edition.

    Example: carnews edition drop 1 42
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.drop_story(db, settings, now, edition_id, story_id, actor=by),
    )


def add(ctx: typer.Context, edition_id: int, story_id: int, by: By = DEFAULT_BY) -> None:
    """Add a story (even one carnews dropped) at the end of an edition.

    Example: carnews edition add 1 57
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.add_story(db, settings, now, edition_id, story_id, actor=by),
    )


def move(
    ctx: typer.Context,
    edition_id: int,
    story_id: int,
    by_places: Annotated[int, typer.Option("--by-places", help="Places to move; negative: up.")],
    by: By = DEFAULT_BY,
) -> None:
    """Move a story up or down in an edition.

    Example: carnews edition move 1 42 --by-places -1
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.move_story(
            db, settings, now, edition_id, story_id, by_places, actor=by
        ),
    )


def intro(
    ctx: typer.Context,
    edition_id: int,
    text: Annotated[str, typer.Option("--text", help="The intro; empty: none.")],
    by: By = DEFAULT_BY,
) -> None:
    """Set the intro readers see above the stories.

    Example: carnews edition intro 1 --text "Three studies this month."
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.set_intro(db, settings, now, edition_id, text, actor=by),
    )


def subject(
    ctx: typer.Context,
    edition_id: int,
    text: Annotated[str, typer.Option("--text", help="The email's subject (and page title).")],
    by: By = DEFAULT_BY,
) -> None:
    """Set the subject of an edition.

    Example: carnews edition subject 1 --text "CAR-T news: three new lupus studies"
    """
    _apply(
        ctx,
        by,
        lambda db, settings: workflow.set_subject(db, settings, now, edition_id, text, actor=by),
    )


def withdraw(ctx: typer.Context, edition_id: int, by: By = DEFAULT_BY) -> None:
    """Withdraw an edition's approval: it is in review again and cannot be sent.

    Example: carnews edition withdraw 1 --by "Dr Jane Editor"
    """

    async def work(db: Database, settings: Settings) -> None:
        await workflow.withdraw(db, now, edition_id, actor=by)
        console.print(f"Edition {edition_id}: approval withdrawn.")

    with_database(ctx, work)


def discard(ctx: typer.Context, edition_id: int, by: By = DEFAULT_BY) -> None:
    """Discard a draft: kept for the record, never sent; its stories are free again.

    Example: carnews edition discard 1
    """

    async def work(db: Database, settings: Settings) -> None:
        await workflow.discard(db, now, edition_id, actor=by)
        console.print(f"Edition {edition_id} discarded.")

    with_database(ctx, work)


def schedule(
    ctx: typer.Context,
    edition_id: int,
    at: Annotated[str, typer.Option("--at", help="When to send, in UTC: YYYY-MM-DD HH:MM.")] = "",
    send_now: Annotated[bool, typer.Option("--now", help="Send as soon as approved.")] = False,
    by: By = DEFAULT_BY,
) -> None:
    """Set when an approved edition goes out (the worker and scheduler wait until then).

    Example: carnews edition schedule 1 --at "2026-12-07 09:00"
    """
    if send_now == bool(at):
        raise EditionStateError("give either --at TIME or --now",
                                hint='For example: --at "2026-12-07 09:00" (UTC)')  # fmt: skip
    when = None if send_now else _utc(at)

    async def work(db: Database, settings: Settings) -> None:
        await workflow.schedule(db, now, edition_id, when, actor=by)
        shown = f"{when:%Y-%m-%d %H:%M} UTC" if when else "as soon as it is approved"
        console.print(f"Edition {edition_id} will be sent {shown}.")

    with_database(ctx, work)


def _utc(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise EditionStateError(f"{value!r} is not a date and time",
                                hint='Give it as "YYYY-MM-DD HH:MM" (UTC).') from exc  # fmt: skip
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
