"""Bad input at the command line: exit 2 with what is wrong and how to fix it, never a traceback.

Each of these used to end in exit 1 and a traceback (or, for a big CSV, in 2.5 GB of memory).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli_helpers import assert_clean_failure, carnews

ROWS = 100_000
PEAK_LIMIT_MB = 200
# Runs the command as its only child, so the peak it reports is that command's alone.
MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
    "print(done.returncode, peak)\n"
    "sys.stdout.write(done.stdout)\n"
    "sys.stderr.write(done.stderr)\n"
)


def test_a_large_csv_is_imported_in_full_with_bounded_memory(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    with (tmp_path / "big.csv").open("w", encoding="utf-8") as out:
        out.write("email,name,diseases\n")
        for number in range(ROWS):
            out.write(f"reader{number}@example.org,Reader {number},lupus;myositis\n")
        out.write("reader7@example.org,again,\nnot-an-address,,\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    command = [sys.executable, "-m", "carnews", "subscribers", "import", "big.csv", "--confirmed"]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    first, _, output = done.stdout.partition("\n")
    code, peak_mb = (int(part) for part in first.split())
    assert code == 0, done.stderr
    assert f"Added {ROWS}, already there 1, rejected 1." in output
    with sqlite3.connect(tmp_path / "subscribers" / "carnews.db") as db:
        (count,) = db.execute("SELECT count(*) FROM subscribers WHERE status = 'active'").fetchone()
    assert count == ROWS, "every row arrived"
    print(f"\nimporting {ROWS:,} rows peaked at {peak_mb} MB")
    assert peak_mb < PEAK_LIMIT_MB, f"peak {peak_mb} MB: the file or its rows were held whole"


def test_unreadable_csv_files_are_clean_errors(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    huge = '"' + "x" * 140_000 + '"'
    (tmp_path / "huge.csv").write_text(f"email,name\na@example.org,A\nb@example.org,{huge}\n")
    assert_clean_failure(carnews(tmp_path, "subscribers", "import", "huge.csv"),
                         "line 3", "field larger than field limit", "1 added")  # fmt: skip
    (tmp_path / "latin1.csv").write_bytes("email,name\nc@example.org,Jos\u00e9\n".encode("latin-1"))
    latin1 = carnews(tmp_path, "subscribers", "import", "latin1.csv")
    assert_clean_failure(latin1, "line 2 of latin1.csv is not UTF-8", "nothing was imported")
    assert_clean_failure(carnews(tmp_path, "subscribers", "import", "."), "cannot read")
    assert_clean_failure(carnews(tmp_path, "subscribers", "export", "no/such/dir.csv"),
                         "cannot write")  # fmt: skip


def test_config_files_with_a_bom_are_read_and_bad_ones_are_named(tmp_path: Path) -> None:
    (tmp_path / "carnews.toml").write_bytes(b"\xef\xbb\xbf[smtp]\nport = 2525\n")
    shown = carnews(tmp_path, "config", "show", "--json")
    assert shown.returncode == 0 and '"smtp.port": "2525"' in shown.stdout, shown.stderr
    (tmp_path / "carnews.toml").write_bytes("[site]\ntitle = 'Caf\u00e9'\n".encode("latin-1"))
    assert_clean_failure(carnews(tmp_path, "config", "show"), "carnews.toml", "save it as UTF-8")
    assert_clean_failure(carnews(tmp_path, "--config", str(tmp_path), "config", "show"),
                         str(tmp_path), "cannot be read")  # fmt: skip


def test_bad_values_given_on_the_command_line_are_clean_errors(tmp_path: Path) -> None:
    assert_clean_failure(carnews(tmp_path, "--set", "smtp.port=70000", "config", "show"),
                         "smtp.port", "at most 65535")  # fmt: skip
    assert_clean_failure(carnews(tmp_path, "--set", "smtp.max_per_second=nan", "config", "show"),
                         "finite")  # fmt: skip
    crlf = carnews(tmp_path, "config", "show", env={"CARNEWS_MAIL_REPLY_TO": "a@x.org\r\nBcc: b"})
    assert_clean_failure(crlf, "mail.reply_to", "line break")
    secret = carnews(tmp_path, "--set", "site.secret_key=abc", "bounces", "token")
    assert_clean_failure(secret, "secret", "CARNEWS_SITE_SECRET_KEY")
    assert "abc" not in secret.stdout
    assert carnews(tmp_path, "init").returncode == 0
    approve = carnews(
        tmp_path,
        "edition",
        "approve",
        "1",
        "--by",
        "Jo\r\nBcc: x@example.org",
        "--confirm-checklist",
    )
    assert_clean_failure(approve, "not a name")


def test_a_locked_or_read_only_database_says_what_is_wrong(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    path = tmp_path / "subscribers" / "carnews.db"
    read_only = f"database.url=sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    refused = carnews(tmp_path, "--set", read_only, "subscribers", "add", "a@example.org")
    assert_clean_failure(refused, "read-only: check its permissions")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process is writing: waits out busy_timeout
        locked = carnews(tmp_path, "subscribers", "add", "b@example.org")
    finally:
        holder.close()
    assert_clean_failure(locked, "Another carnews process holds the database")
    assert carnews(tmp_path, "subscribers", "add", "b@example.org").returncode == 0
