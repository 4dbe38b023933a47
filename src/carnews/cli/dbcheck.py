"""Which database a command uses, and what to do when it cannot be used.

The default database.url is a relative SQLite path, so a command run outside the
project folder used to create a new, empty database there and report an empty list
as if it were the real one. Only ``init`` and ``fetch`` (and the demo, in its own
folder) may create a database now; every other command refuses, naming the path.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from carnews.cli.terminal import SafeConsole
from carnews.errors import StorageError

# What SQLite says, and what the operator should do about it.
_TROUBLES = (
    ("database is locked", "Another carnews process holds the database (a send, a worker or "
     "'carnews serve'?): let it finish, or stop it, and try again."),
    ("readonly database", "The database file is read-only: check its permissions (carnews "
     "must be able to write the file and its folder)."),
    ("unable to open database file", "The database file cannot be opened: check that its "
     "folder exists and that carnews may write there."),
    ("database or disk is full", "The disk holding the database is full: free some space."),
)  # fmt: skip


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite database.url names; None for PostgreSQL, memory or a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # open_database explains a bad URL
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    name = str(parsed.database)
    if str(parsed.query.get("uri", "")).lower() in ("true", "1") and name.startswith("file:"):
        name = name.removeprefix("file:").split("?", 1)[0]
    return Path(name)


def require_database(url: str, *, create: bool, errors: SafeConsole) -> None:
    """Refuse to run on a SQLite database that does not exist, unless this command may create it."""
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    if create:
        errors.print(f"Creating a new database at {path.resolve()}")
        return
    raise StorageError(
        f"there is no database at {path.resolve()} (database.url = {url})",
        hint="Run carnews in your project folder, or point --config or CARNEWS_CONFIG at its "
        "carnews.toml; to start a new project here, run 'carnews init'.",
        context={"url": url},
    )


def trouble_hint(exc: BaseException) -> str | None:
    """The operator's next step for a database failure SQLite explains, else None."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return next((hint for needle, hint in _TROUBLES if needle in text), None)


def explained(exc: StorageError | DBAPIError, url: str) -> StorageError | None:
    """A StorageError whose hint says what is actually wrong, or None (a bug: keep it)."""
    cause = exc.__cause__ if isinstance(exc, StorageError) else exc
    hint = trouble_hint(cause) if cause is not None else None
    if isinstance(exc, StorageError):
        return StorageError(exc.message, hint=hint or exc.hint, context=exc.context)
    if hint is None:
        return None
    where = make_url(url).render_as_string(hide_password=True)
    first = str(exc.orig or exc).strip().splitlines()[0]
    return StorageError(f"the database at {where} failed: {first}", hint=hint,
                        context={"url": url})  # fmt: skip
