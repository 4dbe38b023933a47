"""What every command shares: settings from the global options, the database, output."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.exc import DBAPIError

from carnews.cli.dbcheck import explained, require_database
from carnews.cli.terminal import SafeConsole, styled
from carnews.clock import utc_now
from carnews.errors import CarnewsError, ConfigError, StorageError
from carnews.settings import Settings, load_settings
from carnews.storage import Database, open_database

T = TypeVar("T")
# Plain strings printed on these are data: see carnews.cli.terminal for how to style output.
console = SafeConsole()
errors = SafeConsole(stderr=True)


@dataclasses.dataclass
class Options:
    config: Path | None = None
    overrides: dict[str, str] = dataclasses.field(default_factory=dict)

    def settings(self) -> Settings:
        return load_settings(self.config, overrides=self.overrides)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"--set {pair!r} is not KEY=VALUE", hint="For example: --set smtp.port=2525"
            )
        found[key.strip()] = value
    return found


def options(ctx: typer.Context) -> Options:
    found = ctx.find_object(Options)
    return found if found is not None else Options()


def with_database(
    ctx: typer.Context, work: Callable[[Database, Settings], Awaitable[T]], *, create: bool = False
) -> T:
    """Load settings, open (and migrate) the database, run ``work``, close.

    Only a command that fills a new database (``fetch``) passes ``create``: any other on a
    missing SQLite file is run in the wrong folder, and an empty list would mislead.
    """
    return run_with_database(options(ctx).settings(), work, create=create)


def run_with_database(
    settings: Settings, work: Callable[[Database, Settings], Awaitable[T]], *, create: bool
) -> T:
    url = settings.database.url
    require_database(url, create=create, errors=errors)

    async def run() -> T:
        db = await open_database(url)
        try:
            return await work(db, settings)
        finally:
            await db.close()

    try:
        return asyncio.run(run())
    except (StorageError, DBAPIError) as exc:
        better = explained(exc, url)
        if better is None:
            raise
        raise better from None


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def report_error(exc: CarnewsError) -> None:
    # Messages quote what the user or a feed gave (an address, a title): values, not markup.
    errors.print(styled("[bold red]error:[/] {}", exc.message))
    if exc.hint:
        errors.print(styled("[yellow]hint:[/] {}", exc.hint))


def now() -> datetime:
    return utc_now()
