"""One door for sending: test mode, the approval gate and publish-after-send hold for the
CLI, the worker and the scheduler alike (they all go through ``jobs.send_due``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carnews.clock import Clock
from carnews.editions.review import approve, draft_edition
from carnews.errors import EditionStateError
from carnews.jobs import send_all_due, send_due
from carnews.schedule import build_scheduler
from carnews.settings import MailSettings, PublishSettings, Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import Delivery, Edition, EditionState
from tests.helpers import add_stories, inbox, smtp_server, subscribe

TEST_ADDRESS = "qa@example.org"


async def approved_edition(db: Database, clock: Clock) -> int:
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    result = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert result.edition_id is not None
    await approve(db, clock, result.edition_id, "Dr Jane")
    await subscribe(db, clock, "reader@example.org", ["lupus"])
    return result.edition_id


def configured(settings: Settings, port: int, out: Path, *, test_mode: bool) -> Settings:
    return replace(
        settings,
        smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5),
        mail=MailSettings(from_address="news@carnews.test",
                          test_mode_address=TEST_ADDRESS if test_mode else ""),
        publish=PublishSettings(dir=out / "public"),
    )  # fmt: skip


async def assert_only_test_address_and_edition_untouched(
    db: Database, edition_id: int, mail: Path
) -> None:
    recipients = {str(message["To"]) for message in inbox(mail)}
    assert recipients == {TEST_ADDRESS}, "test mode never reaches a real subscriber"
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert (await session.get_one(Edition, edition_id)).state == EditionState.APPROVED


def run_cli(folder: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "carnews.toml").write_text(
        f"[database]\nurl = '{settings.database.url}'\n"
        f"[smtp]\nhost = '127.0.0.1'\nport = {settings.smtp.port}\n"
        f"[mail]\nfrom_address = 'news@carnews.test'\n"
        f"test_mode_address = '{settings.mail.test_mode_address}'\n"
        f"[publish]\ndir = '{settings.publish.dir}'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    env["CARNEWS_SITE_SECRET_KEY"] = "test-secret"
    return subprocess.run([sys.executable, "-m", "carnews", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("door", ["cli", "worker"])
async def test_command_line_doors_honour_test_mode(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path, door: str
) -> None:
    edition_id = await approved_edition(db, clock)
    with smtp_server(tmp_path / "mail") as port:
        run = configured(settings, port, tmp_path, test_mode=True)
        args = ("send", str(edition_id)) if door == "cli" else ("worker", "--once")
        result = await asyncio.to_thread(run_cli, tmp_path, run, *args)
        assert result.returncode == 0, result.stderr
    assert "test mode" in result.stdout.lower()
    await assert_only_test_address_and_edition_untouched(db, edition_id, tmp_path / "mail")
    assert not (tmp_path / "public" / "feed.xml").exists(), "nothing was sent, so nothing published"


@pytest.mark.both_databases
async def test_scheduler_send_job_honours_test_mode_once_per_edition(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    with smtp_server(tmp_path / "mail") as port:
        scheduler = build_scheduler(db, configured(settings, port, tmp_path, test_mode=True), clock)
        send_job = scheduler.get_job("send").func
        await send_job()
        await send_job()  # a second pass does not mail the test address again
    assert len(inbox(tmp_path / "mail")) == 1
    await assert_only_test_address_and_edition_untouched(db, edition_id, tmp_path / "mail")


async def test_a_pass_without_test_mode_sends_to_readers_then_publishes(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    edition_id = await approved_edition(db, clock)
    errors: list[int] = []
    with smtp_server(tmp_path / "mail") as port:
        run = configured(settings, port, tmp_path, test_mode=False)
        (outcome,) = await send_all_due(db, run, clock, actor="worker",
                                        on_error=lambda e, _exc: errors.append(e))  # fmt: skip
    assert errors == [] and outcome.edition_id == edition_id
    assert outcome.report is not None and outcome.report.sent == 1
    assert outcome.published and (tmp_path / "public" / "feed.xml").exists()
    assert {str(m["To"]) for m in inbox(tmp_path / "mail")} == {"reader@example.org"}


async def test_send_due_checks_the_approval_gate_in_test_mode_too(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    draft = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N", actor="e")
    assert draft.edition_id is not None
    with smtp_server(tmp_path / "mail") as port:
        run = configured(settings, port, tmp_path, test_mode=True)
        with pytest.raises(EditionStateError, match="not approved"):
            await send_due(db, run, clock, draft.edition_id, actor="cli")
    assert inbox(tmp_path / "mail") == []
