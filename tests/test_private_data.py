"""Personal data and secrets at rest: files for their owner only, passwords never printed."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from carnews.clock import Clock
from carnews.errors import StorageError
from carnews.jobs import publish_site
from carnews.settings import Settings
from carnews.storage import Database, open_database
from tests.helpers import subscribe
from tests.test_cli import carnews

PASSWORD_URL = "postgresql+asyncpg://carnews:hunter2@127.0.0.1:1/carnews"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    """The usual 022, which leaves new files readable by every local user."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


async def test_the_database_and_its_wal_files_are_for_the_owner_only(
    tmp_path: Path, clock: Clock, umask: None
) -> None:
    path = tmp_path / "data" / "carnews.db"
    db = await open_database(f"sqlite+aiosqlite:///{path}")
    try:
        await subscribe(db, clock, "ana@example.org", ["lupus"])
        files = [path, path.with_name("carnews.db-wal"), path.with_name("carnews.db-shm")]
        assert all(file.exists() for file in files), "WAL mode keeps both while open"
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        assert mode(path.parent) == 0o700
    finally:
        await db.close()


async def test_a_database_made_world_readable_before_is_tightened(
    tmp_path: Path, umask: None
) -> None:
    path = tmp_path / "carnews.db"
    path.touch(mode=0o644)
    db = await open_database(f"sqlite+aiosqlite:///{path}")
    await db.close()
    assert mode(path) == 0o600


def test_an_exported_csv_is_for_the_owner_only(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0  # only init creates the database
    assert carnews(tmp_path, "subscribers", "add", "ana@example.org", "--confirmed").returncode == 0
    (tmp_path / "old.csv").write_text("left by an earlier export\n")
    os.chmod(tmp_path / "old.csv", 0o644)
    for name in ("new.csv", "old.csv"):
        assert carnews(tmp_path, "subscribers", "export", name).returncode == 0
        assert mode(tmp_path / name) == 0o600, name
        assert "ana@example.org" in (tmp_path / name).read_text()


def test_a_database_password_is_never_printed(tmp_path: Path) -> None:
    env = {"CARNEWS_DATABASE_URL": PASSWORD_URL}
    table = carnews(tmp_path, "config", "show", env=env)
    shown = carnews(tmp_path, "config", "show", "--json", env=env)
    assert json.loads(shown.stdout)["settings"]["database.url"] == (
        "postgresql+asyncpg://carnews:********@127.0.0.1:1/carnews"
    )
    failed = carnews(tmp_path, "subscribers", "list", env=env)  # nothing listens on port 1
    assert failed.returncode == 2 and "cannot open the database" in failed.stderr
    for output in (table, shown, failed):
        assert "hunter2" not in output.stdout + output.stderr


async def test_storage_errors_carry_no_password() -> None:
    with pytest.raises(StorageError) as caught:
        await open_database(PASSWORD_URL)
    assert "hunter2" not in caught.value.message + str(caught.value.context)


async def test_published_files_stay_readable_under_the_services_private_umask(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """The unit's UMask=0077 must not hide the feeds from the web server."""
    before = os.umask(0o077)
    try:
        report = await publish_site(db, settings, tmp_path / "public" / "site")
    finally:
        os.umask(before)
    assert {mode(file) for file in report.files} == {0o644}
    assert mode(tmp_path / "public") == mode(tmp_path / "public" / "site") == 0o755


def test_every_systemd_unit_sets_a_private_umask() -> None:
    units = list((Path(__file__).parents[1] / "deploy" / "systemd").glob("*.service"))
    assert units
    for unit in units:
        service = unit.read_text().split("[Service]", 1)[1].split("\n[", 1)[0]
        assert "\nUMask=0077\n" in service, unit.name
