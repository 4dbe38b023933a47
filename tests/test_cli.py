"""The command line as an operator uses it: real processes, a real feed server, a real SMTP server.

Expected failures exit 2 with a message and a hint and never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from carnews.demo.servers import feed_server, smtp_sink
from tests.cli_helpers import assert_clean_failure, carnews

FEEDS = Path(__file__).parents[1] / "src" / "carnews" / "demo" / "feeds"


def test_init_then_config_show_masks_secrets(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    assert_clean_failure(carnews(tmp_path, "init"), "already exists", "--force")
    shown = carnews(tmp_path, "config", "show", "--json",
                    env={"CARNEWS_SMTP_PASSWORD": "hunter2"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["settings"]["smtp.password"] == "********"
    assert "hunter2" not in shown.stdout
    assert len(data["sources"]) >= 8


def test_bad_config_stops_with_key_and_value(tmp_path: Path) -> None:
    (tmp_path / "carnews.toml").write_text("[smtp]\nport = 'lots'\n")
    assert_clean_failure(carnews(tmp_path, "config", "show"), "smtp.port", "'lots'")
    assert_clean_failure(carnews(tmp_path, "--set", "nonsense", "config", "show"), "KEY=VALUE")


def test_unknown_edition_and_unapproved_send_are_clean_errors(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    assert_clean_failure(carnews(tmp_path, "edition", "show", "5"), "no edition 5")
    assert_clean_failure(
        carnews(tmp_path, "edition", "approve", "5", "--by", "Jo", "--confirm-checklist"),
        "no edition 5",
    )


def test_subscribers_add_list_import_export(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    assert carnews(tmp_path, "subscribers", "add", "Ana@Example.org", "--disease", "SLE",
                   "--confirmed").returncode == 0  # fmt: skip
    assert_clean_failure(
        carnews(tmp_path, "subscribers", "add", "not-an-address"), "not-an-address"
    )
    (tmp_path / "in.csv").write_text("email,diseases\nben@example.org,myositis\nbad,\n")
    imported = carnews(tmp_path, "subscribers", "import", "in.csv")
    assert "Added 1" in imported.stdout and "line 3" in imported.stdout
    listed = json.loads(carnews(tmp_path, "subscribers", "list", "--json").stdout)
    assert [(s["email"], s["status"], s["diseases"]) for s in listed] == [
        ("ana@example.org", "active", ["lupus"]), ("ben@example.org", "pending", ["myositis"]),
    ]  # fmt: skip
    assert carnews(tmp_path, "subscribers", "export", "out.csv").returncode == 0
    assert "ben@example.org" in (tmp_path / "out.csv").read_text()
    assert (tmp_path / "subscribers" / "carnews.db").exists(), "default database location"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with feed_server(FEEDS) as url, smtp_sink(tmp_path / "mail") as (_, port, _handler):
        yield url, port


def test_operator_walks_an_edition_from_fetch_to_feed(
    tmp_path: Path, servers: tuple[str, int]
) -> None:
    feeds_url, smtp_port = servers
    sources = "".join(
        f"[[sources]]\nname = '{name}'\nurl = '{feeds_url}/{name}'\n"
        for name in ("pubmed.xml", "news.xml")
    )
    (tmp_path / "carnews.toml").write_text(
        f"[smtp]\nhost = '127.0.0.1'\nport = {smtp_port}\n[edition]\nlookback_days = 3650\n"
        + sources
    )
    env = {"CARNEWS_SITE_SECRET_KEY": "k"}
    fetched = json.loads(carnews(tmp_path, "fetch", "--json").stdout)
    assert [s["outcome"] for s in fetched["sources"]] == ["ok", "ok"]
    again = json.loads(carnews(tmp_path, "fetch", "--all", "--json").stdout)
    assert sum(s["new"] for s in again["sources"]) == 0, "a second poll stores nothing twice"

    drafted = json.loads(carnews(tmp_path, "draft", "--json").stdout)
    edition = drafted["edition_id"]
    assert edition == 1 and drafted["story_count"] > 5
    assert_clean_failure(carnews(tmp_path, "send", "1", env=env), "not approved")

    shown = json.loads(carnews(tmp_path, "edition", "show", "1", "--json").stdout)
    assert shown["state"] == "draft" and shown["edition"]["stories"]
    preview = carnews(tmp_path, "edition", "preview", "1", "--text")
    assert "What it means for you" in preview.stdout and "Side effects" in preview.stdout

    assert (
        carnews(
            tmp_path, "edition", "approve", "1", "--by", "Dr Jo", "--confirm-checklist"
        ).returncode
        == 0
    )
    carnews(tmp_path, "subscribers", "add", "reader@example.org", "--confirmed")
    sent = carnews(tmp_path, "send", "1", "--json", env=env)
    assert json.loads(sent.stdout)["sent"] == 1, sent.stderr
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    status = json.loads(carnews(tmp_path, "send", "1", "--status", "--json").stdout)
    assert (status["sent"], status["unknown"], status["finished"]) == (1, 0, True)
    summary = carnews(tmp_path, "send", "1", "--status").stdout
    assert "Edition 1: 1 sent, 0 failed temporarily" in summary and "0 bounced" in summary
    listed = json.loads(carnews(tmp_path, "edition", "list", "--json").stdout)
    assert listed[0]["state"] == "sent" and listed[0]["approved_by"] == "Dr Jo"
    assert (tmp_path / "public" / "feed.xml").exists(), "send publishes the feed"


def test_every_command_is_documented_with_an_example() -> None:
    import typer

    from carnews.cli import app

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    command = typer.main.get_command(app)

    def walk(group: object, prefix: str) -> Iterator[tuple[str, object]]:
        for name, sub in getattr(group, "commands", {}).items():
            path = f"{prefix} {name}"
            if getattr(sub, "commands", None):
                yield from walk(sub, path)
            else:
                yield path, sub

    commands = list(walk(command, "carnews"))
    assert len(commands) >= 15
    for path, sub in commands:
        assert f"`{path}" in readme, f"{path} missing from the README's command table"
        assert "Example:" in (getattr(sub, "help", "") or ""), f"{path} --help has no example"


ENTRY_KEYS = {"id", "title", "link", "published", "html", "text"}


def test_inspect_prints_entries_or_the_error_as_data(tmp_path: Path) -> None:
    shown = json.loads(carnews(tmp_path, "inspect", str(FEEDS / "medrxiv.rdf"), "--json").stdout)
    assert shown["status"] == "ok" and shown["error"] is None
    assert len(shown["entries"]) == 6 and set(shown["entries"][0]) == ENTRY_KEYS
    (tmp_path / "junk.xml").write_bytes(b"\x00not a feed")
    result = carnews(tmp_path, "inspect", "junk.xml", "--json")
    assert result.returncode == 0, "a feed it cannot parse is data, not a crash"
    report = json.loads(result.stdout)
    assert report["status"] == "error" and report["error"] and report["entries"] == []
    for target in ("missing.xml", "."):  # a file it cannot read is the operator's to fix
        assert_clean_failure(carnews(tmp_path, "inspect", target, "--json"), "cannot read")
    with feed_server(FEEDS) as url:
        remote = json.loads(carnews(tmp_path, "inspect", f"{url}/news.xml", "--json").stdout)
    assert remote["status"] == "ok" and len(remote["entries"]) == 8
    assert all("<script" not in entry["html"] for entry in remote["entries"])


def test_sources_show_health_and_enable(tmp_path: Path) -> None:
    from carnews.demo.servers import free_port

    dead = free_port()
    (tmp_path / "carnews.toml").write_text(
        f"[fetch]\nmax_consecutive_errors = 1\n[[sources]]\nname = 'dead'\n"
        f"url = 'http://127.0.0.1:{dead}/feed'\n"
    )
    fetched = json.loads(carnews(tmp_path, "fetch", "--json").stdout)
    assert fetched["sources"][0]["outcome"] == "failing"
    (row,) = json.loads(carnews(tmp_path, "sources", "--json").stdout)
    assert (row["name"], row["health"], row["consecutive_errors"]) == ("dead", "failing", 1)
    assert row["last_error"]
    assert carnews(tmp_path, "sources", "enable", "dead").returncode == 0
    (row,) = json.loads(carnews(tmp_path, "sources", "--json").stdout)
    assert row["health"] == "ok"
    assert_clean_failure(carnews(tmp_path, "sources", "enable", "nope"), "no source named 'nope'")


def test_classify_and_explain_speak_json_lines_and_read_the_editors_files(
    tmp_path: Path,
) -> None:
    items = [
        {"title": "CD19 CAR-T cells in refractory AIH: a case series of 4 patients"},
        {"title": "Ciltacabtagene autoleucel in relapsed multiple myeloma", "summary": "Phase 3."},
        "not json",
        {"summary": "no title"},
    ]
    stdin = "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}

    def run(*args: str, text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "carnews", *args], cwd=tmp_path,
                              env=environment, input=text, capture_output=True, text=True,
                              timeout=60)  # fmt: skip

    plain = run("classify", text=stdin)
    rows = [json.loads(line) for line in plain.stdout.splitlines()]
    assert plain.returncode == 2, "a bad line is reported and fails the run at the end"
    assert len(rows) == 4 and "error" in rows[2] and "title is missing" in rows[3]["error"]
    assert rows[1]["relevant"] is False and rows[0]["relevant"] is False
    keys = {"relevant", "score", "diseases", "therapy", "evidence", "patients", "reasons"}
    assert set(rows[0]) == keys and rows[0]["patients"] == 4

    (tmp_path / "lexicon.toml").write_text(
        "[diseases]\n\"autoimmune hepatitis\" = ['autoimmune hepatitis', '(?-i:AIH)']\n"
    )
    extended = run("--set", "curate.lexicon_file=lexicon.toml", "classify", text=stdin)
    first = json.loads(extended.stdout.splitlines()[0])
    assert first["relevant"] is True and first["diseases"] == ["autoimmune hepatitis"]

    abstract = {
        "title": "CD19 CAR T cells in lupus",
        "text": (
            "Five patients with systemic lupus erythematosus received CD19 CAR T cells. "
            "All five reached DORIS remission at 3 months. Cytokine release syndrome was mild."
        ),
    }
    typed = dict(abstract, publication_types=["Journal Article", "Case Reports"])
    lines = "\n".join([json.dumps(abstract), json.dumps(typed),
                        json.dumps(dict(abstract, publication_types="Review"))])  # fmt: skip
    explained = run("explain", text=lines)
    assert explained.returncode == 2, "a publication_types that is not a list fails the line"
    row, as_typed, wrong = [json.loads(line) for line in explained.stdout.splitlines()]
    contract = {
        "headline", "study_type", "source_kind", "treated_n", "diseases", "target", "product",
        "summary", "side_effects", "unknowns", "what_it_means", "quote", "fk_grade",
        "smog_grade", "terms_explained", "unexplained_terms", "checks",
    }  # fmt: skip
    assert contract <= set(row)
    assert (row["study_type"], row["treated_n"], row["diseases"], row["target"]) == (
        "case series", 5, ["lupus"], "CD19")  # fmt: skip
    assert row["summary"].startswith("The study tested CAR-T cell therapy (")
    assert "All 5 people went into remission" in row["summary"]
    assert row["side_effects"] and "CRS" in row["side_effects"] and row["unknowns"]
    assert row["quote"] == "All five reached DORIS remission at 3 months."
    assert all(row["checks"].values()) and row["fk_grade"] <= 10
    assert as_typed["study_type"] == "case report", "PubMed's publication type wins"
    assert "publication_types must be a list of text" in wrong["error"]


def test_a_send_that_paused_exits_with_status_3(tmp_path: Path) -> None:
    """A script or timer running 'carnews send' must not take a pause for done."""
    import asyncio

    from tests.helpers import smtp_server
    from tests.test_crash import prepare

    asyncio.run(prepare(f"sqlite+aiosqlite:///{tmp_path / 'subscribers' / 'carnews.db'}", 0))
    for number in range(3):  # the test relay answers 451 to 'busy' addresses
        carnews(tmp_path, "subscribers", "add", f"busy{number}@example.org", "--confirmed")
    with smtp_server(tmp_path / "mail") as port:
        (tmp_path / "carnews.toml").write_text(
            f"[smtp]\nhost = '127.0.0.1'\nport = {port}\npause_after_errors = 2\n"
        )
        paused = carnews(tmp_path, "send", "1", "--json")
    assert paused.returncode == 3, paused.stderr
    assert json.loads(paused.stdout)["paused"] is True
