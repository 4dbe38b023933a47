"""``carnews backup``: a consistent copy of the live database, taken while carnews runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carnews.cli.common import console, options, run_with_database
from carnews.settings import Settings
from carnews.storage import Database


def register(root: typer.Typer) -> None:
    @root.command("backup")
    def backup_command(
        ctx: typer.Context,
        target: Annotated[Path, typer.Argument(help="File to write (replaced when whole).")],
    ) -> None:
        """Back up the database while carnews keeps running (SQLite online backup; pg_dump).

        Example: carnews backup backups/carnews-$(date +%F).db
        """

        from carnews.storage.backup import backup

        async def work(db: Database, settings: Settings) -> None:
            how = await backup(settings.database.url, target)
            console.print(f"Wrote {target} ({how}), readable by you only.")

        run_with_database(options(ctx).settings(), work, create=False)
