"""The review page's actions from the command line, run as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from carnews.clock import Clock
from carnews.editions.review import approve, load_edition
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import EditionState
from tests.cli_helpers import assert_clean_failure, carnews
from tests.review_helpers import PASSWORD, seed_draft


async def test_an_operator_edits_schedules_and_discards_from_the_command_line(
    settings: Settings, db: Database, clock: Clock, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock, stories=3, in_draft=2)
    await approve(db, clock, edition_id, "Dr Jane")
    base = ("--set", f"database.url={settings.database.url}", "edition")
    e = str(edition_id)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = carnews(tmp_path, *base, *args)
        assert result.returncode == 0, result.stderr
        return result

    edited = run("edit", e, "1", "--field", "what_happened", "--text", "[bold]All[/bold] well.")
    assert "approval is withdrawn" in edited.stdout
    run("move", e, "1", "--by-places", "1")
    run("add", e, "3")
    run("drop", e, "2")
    run("intro", e, "--text", "Hello, readers.")
    run("subject", e, "--text", "Three lupus studies")
    assert "2026-12-07 09:00 UTC" in run("schedule", e, "--at", "2026-12-07 09:00").stdout
    async with db.read() as session:
        edition = await load_edition(session, edition_id)
        assert [i.story_id for i in edition.items] == [1, 3]
        assert edition.items[0].card["what_happened"] == "[bold]All[/bold] well."
        assert (edition.title, edition.intro) == ("Three lupus studies", "Hello, readers.")
        assert edition.state == EditionState.IN_REVIEW and edition.send_at is not None
    assert_clean_failure(carnews(tmp_path, *base, "withdraw", e), "in_review")
    assert_clean_failure(carnews(tmp_path, *base, "edit", e, "1", "--field", "colour",
                                 "--text", "x"), "not a part of a story")  # fmt: skip
    run("discard", e)
    async with db.read() as session:
        assert (await load_edition(session, edition_id)).state == EditionState.DISCARDED


def test_editors_are_added_listed_and_removed(settings: Settings, tmp_path: Path) -> None:
    base = ("--set", f"database.url={settings.database.url}", "editors")
    assert carnews(
        tmp_path, "--set", f"database.url={settings.database.url}", "init"
    ).returncode in (0, 2)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    added = subprocess.run(
        [sys.executable, "-m", "carnews", *base, "add", "jo@example.org", "--role",
         "contributor", "--password-stdin"],
        input=PASSWORD + "\n", cwd=tmp_path, env=environment, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = json.loads(carnews(tmp_path, *base, "list", "--json").stdout)
    assert listed == [{"email": "jo@example.org", "role": "contributor"}]
    assert carnews(tmp_path, *base, "remove", "jo@example.org").returncode == 0
    assert json.loads(carnews(tmp_path, *base, "list", "--json").stdout) == []
