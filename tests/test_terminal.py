"""Untrusted text in the terminal: feed titles, names and CSV cells are shown, never obeyed.

A title with ``[/x]`` used to crash ``edition show``; ``[link=…]`` made a clickable link;
an ESC byte reached the operator's terminal as a colour (or cursor, or title) command.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from rich.table import Table

from carnews.cli.terminal import SafeConsole, counted, printable, styled
from carnews.demo.servers import feed_server
from tests.cli_helpers import assert_clean_failure, carnews

HOSTILE = "[/x] [bold]B[/bold] [link=javascript:alert(1)]x[/link] \x1b[31mred\x07"
SHOWN = ("[/x]", "[bold]B[/bold]", "[link=javascript:alert(1)]x[/link]", "\\x1b[31mred\\x07")
WIDE = {"COLUMNS": "600"}  # so no table cell is wrapped in the middle of a fragment

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>https://example.org/</link>
<item><guid>h1</guid><link>https://example.org/a</link>
<pubDate>Thu, 19 Nov 2026 09:30:00 GMT</pubDate>
<title>CD19 CAR-T cells in lupus {title}</title>
<description>Five patients with systemic lupus erythematosus received CD19 CAR T cells.
All five reached DORIS remission at 3 months. Cytokine release syndrome was mild.</description>
</item></channel></rss>
"""
XML_HOSTILE = HOSTILE.replace("\x1b", "&#x1b;").replace("\x07", "&#x7;")


def assert_shown_literally(result: subprocess.CompletedProcess[str], code: int = 0) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    assert "\x1b" not in output and "\x07" not in output, "no control character reaches the tty"
    for fragment in SHOWN:
        assert fragment in output, f"{fragment!r} not shown as written"


def test_hostile_titles_names_and_sources_are_shown_as_written(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "hostile.xml").write_text(FEED.format(title=XML_HOSTILE), encoding="utf-8")
    toml_name = json.dumps(HOSTILE)  # a TOML basic string: \u001b escapes are allowed
    with feed_server(feeds) as url:
        (tmp_path / "carnews.toml").write_text(
            f"[edition]\nlookback_days = 3650\n[[sources]]\nname = {toml_name}\n"
            f"url = '{url}/hostile.xml'\n",
            encoding="utf-8",
        )
        assert_shown_literally(carnews(tmp_path, "fetch", env=WIDE))
    assert_shown_literally(carnews(tmp_path, "sources", env=WIDE))
    assert_shown_literally(carnews(tmp_path, "config", "show", env=WIDE))
    assert_shown_literally(carnews(tmp_path, "inspect", "feeds/hostile.xml"))
    assert carnews(tmp_path, "draft").returncode == 0
    assert_shown_literally(carnews(tmp_path, "edition", "show", "1"))
    refused = carnews(tmp_path, "edition", "approve", "1", "--confirm-checklist", "--by", HOSTILE)
    assert_clean_failure(refused, "not a name")
    assert_shown_literally(refused, code=2)
    name = HOSTILE.replace("\x1b", "").replace("\x07", "")  # a name holds no control characters
    approved = carnews(tmp_path, "edition", "approve", "1", "--confirm-checklist", "--by", name)
    assert approved.returncode == 0 and f"approved by {name} " in approved.stdout
    assert name in carnews(tmp_path, "edition", "show", "1").stdout
    assert name in carnews(tmp_path, "edition", "list", env=WIDE).stdout
    listed = json.loads(carnews(tmp_path, "edition", "list", "--json").stdout)
    assert listed[0]["approved_by"] == name, "JSON keeps the exact text for machines"


def test_hostile_csv_cells_and_error_messages_are_shown_as_written(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    rows = [["email", "name"], [HOSTILE, ""], ["ana@example.org", HOSTILE]]
    with (tmp_path / "in.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    imported = carnews(tmp_path, "subscribers", "import", "in.csv", "--confirmed")
    assert_shown_literally(imported)
    assert "Added 1" in imported.stdout and "line 2" in imported.stdout
    assert_shown_literally(carnews(tmp_path, "subscribers", "list", env=WIDE))

    refused = carnews(tmp_path, "subscribers", "add", HOSTILE)
    assert_clean_failure(refused)
    assert_shown_literally(refused, code=2)
    key = HOSTILE.replace("=", ":")  # --set splits at the first '='
    unknown = carnews(tmp_path, "--set", f"{key}=1", "config", "show")
    assert_clean_failure(unknown, "unknown setting", "[link:javascript:alert(1)]x[/link]")
    assert "\x1b" not in unknown.stderr and "[/x] [bold]B[/bold]" in unknown.stderr


def test_styled_fills_our_template_with_values_that_stay_text() -> None:
    text = styled("[bold]{}[/] has {:.1f} points", HOSTILE, 2.25)
    assert text.plain == f"{printable(HOSTILE)} has 2.2 points"
    assert [span.style for span in text.spans] == ["bold"], "only the template's style applies"


def test_safe_console_prints_plain_strings_and_table_cells_literally() -> None:
    console = SafeConsole(width=300)
    table = Table("name")
    table.add_row(HOSTILE)
    with console.capture() as captured:
        console.print(HOSTILE, ":warning:")
        console.print(table)
    output = captured.get()
    assert output.count("[link=javascript:alert(1)]x[/link]") == 2
    assert ":warning:" in output and "\x1b" not in output


def test_printable_keeps_tab_newline_and_letters_and_writes_out_controls() -> None:
    assert printable("a\tb\nc é ✓") == "a\tb\nc é ✓"
    assert printable("\r\x00\x7f\x9b\u202e") == "\\x0d\\x00\\x7f\\x9b\\u202e"


def test_counts_take_the_noun_in_the_right_number() -> None:
    assert [counted(1, "edition"), counted(2, "edition"), counted(0, "story")] == [
        "1 edition", "2 editions", "0 stories",
    ]  # fmt: skip
    assert [counted(1, "entry"), counted(3, "day"), counted(2, "delivery")] == [
        "1 entry", "3 days", "2 deliveries",
    ]  # fmt: skip
