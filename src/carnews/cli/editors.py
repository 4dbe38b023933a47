"""``carnews editors add|list|remove``: who may log in to the review pages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from carnews.cli.common import console, now, print_json, with_database
from carnews.cli.terminal import cells, text_table
from carnews.errors import AccessError
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.accounts import EditorRole

app = typer.Typer(help="Editors and contributors of the review pages.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@app.command("add")
def add(
    ctx: typer.Context,
    email: str,
    role: Annotated[EditorRole, typer.Option("--role", help="editor approves and sends; "
                                             "contributor only edits.")] = EditorRole.EDITOR,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from stdin.")] = False,
) -> None:  # fmt: skip
    """Add an editor; the password is asked for (twice), or read from stdin.

    Example: carnews editors add jane@example.org --role contributor
    """

    from carnews.web.auth import add_editor

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise AccessError(
            "no password was given", hint="Type one, or pipe it with --password-stdin."
        )

    async def work(db: Database, settings: Settings) -> None:
        added = await add_editor(db, now, email, password, role, actor="cli")
        console.print(f"{added.email} can now log in at {settings.site.base_url}/review/ "
                      f"as {added.role.value}.")  # fmt: skip

    with_database(ctx, work)


@app.command("list")
def list_command(ctx: typer.Context, json_: JsonFlag = False) -> None:
    """List editors and their roles.

    Example: carnews editors list --json
    """

    from carnews.web.auth import list_editors

    async def work(db: Database, settings: Settings) -> None:
        found = await list_editors(db)
        if json_:
            print_json([{"email": e.email, "role": e.role.value} for e in found])
            return
        table = text_table("email", "role")
        for editor in found:
            table.add_row(*cells(editor.email, editor.role.value))
        console.print(table)

    with_database(ctx, work)


@app.command("remove")
def remove(ctx: typer.Context, email: str) -> None:
    """Remove an editor; their sessions end at once.

    Example: carnews editors remove jane@example.org
    """

    from carnews.web.auth import remove_editor

    async def work(db: Database, settings: Settings) -> None:
        await remove_editor(db, now, email, actor="cli")
        console.print(f"{email.strip()} can no longer log in.")

    with_database(ctx, work)
