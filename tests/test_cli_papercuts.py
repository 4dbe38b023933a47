"""What a new operator tripped over: each step should say what it did and what it left out."""

from __future__ import annotations

import json
from pathlib import Path

from carnews.demo.servers import feed_server
from tests.cli_helpers import assert_clean_failure, carnews

FEEDS = Path(__file__).parents[1] / "src" / "carnews" / "demo" / "feeds"
NARROW = {"COLUMNS": "80"}


def test_outside_a_project_nothing_is_created_and_the_way_back_is_named(tmp_path: Path) -> None:
    for command in (["subscribers", "list"], ["edition", "list"], ["sources"], ["draft"]):
        refused = carnews(tmp_path, *command)
        assert_clean_failure(refused, "no database at", "subscribers/carnews.db", "carnews init")
    assert not (tmp_path / "subscribers").exists(), "no empty database was left behind"
    created = carnews(tmp_path, "init")
    assert created.returncode == 0 and "Creating a new database at" in created.stderr
    assert (tmp_path / "subscribers" / "carnews.db").exists()
    assert carnews(tmp_path, "subscribers", "list").returncode == 0
    (tmp_path / "subscribers" / "carnews.db").unlink()
    again = carnews(tmp_path, "init")  # a kept carnews.toml whose database is gone
    assert again.returncode == 0 and (tmp_path / "subscribers" / "carnews.db").exists()


def test_a_new_operators_first_edition(tmp_path: Path) -> None:
    with feed_server(FEEDS) as url:
        (tmp_path / "carnews.toml").write_text(
            "[edition]\nlookback_days = 3650\nmax_stories = 2\n"
            f"[[sources]]\nname = 'news'\nurl = '{url}/news.xml'\n"
            f"[[sources]]\nname = 'a-source-with-a-long-name-that-never-answered'\n"
            f"url = '{url}/moved-away-long-ago/and-never-came-back/feed.xml'\n"
        )
        assert carnews(tmp_path, "fetch").returncode == 0

    sources = carnews(tmp_path, "sources", env=NARROW)
    assert "…" not in sources.stdout, "at 80 columns values wrap instead of being cut"
    assert "failing" in sources.stdout
    (failing,) = [row for row in json.loads(carnews(tmp_path, "sources", "--json").stdout)
                  if row["name"].startswith("a-source")]  # fmt: skip
    assert (failing["health"], failing["last_error"]) == ("failing", "HTTP 404")
    shown = carnews(tmp_path, "config", "show", env=NARROW)
    assert shown.returncode == 0 and "…" not in shown.stdout
    assert "sqlite+aiosqlite:///" in shown.stdout.replace("\n", "").replace("│", "")

    first = carnews(tmp_path, "draft")
    assert "Drafted edition 1 with 2 stories." in first.stdout
    assert (
        "Left for the next edition:" in first.stdout and "edition.max_stories = 2" in first.stdout
    )
    second = carnews(tmp_path, "draft")
    assert "Drafted edition 2" in second.stdout
    titles = [row["title"] for row in json.loads(carnews(tmp_path, "edition", "list",
                                                         "--json").stdout)]  # fmt: skip
    assert len(set(titles)) == 2 and titles[0] == titles[1] + " (2)", titles
    narrow = carnews(tmp_path, "--set", "edition.lookback_days=1", "draft")
    assert "No draft" in narrow.stdout
    assert "Left out:" in narrow.stdout and "more than 1 day ago (edition.lookback_days)" in (
        narrow.stdout
    )

    preview = carnews(tmp_path, "edition", "preview", "1", "--text")
    assert "__CARNEWS" not in preview.stdout
    assert "http://localhost:8000/unsubscribe/SAMPLE-LINK-IN-PREVIEW" in preview.stdout
    published = carnews(tmp_path, "publish", "--out", "site")
    assert "Published 0 editions to site/" in published.stdout


def test_what_the_commands_write_stays_out_of_git() -> None:
    ignored = (Path(__file__).parents[1] / ".gitignore").read_text().splitlines()
    assert "/public/" in ignored and "demo-out/" in ignored
