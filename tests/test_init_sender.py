"""``carnews init`` asks who sends the newsletter, for every email's footer."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.cli_helpers import assert_clean_failure, carnews


def site_section(folder: Path) -> dict[str, object]:
    return dict(tomllib.loads((folder / "carnews.toml").read_text())["site"])


def test_init_takes_the_sender_from_options(tmp_path: Path) -> None:
    made = carnews(tmp_path, "init", "--organisation", 'Lupus "Patients" UK',
                   "--postal-address", "1 High St, Leeds LS1 1AA")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert site_section(tmp_path) == {"organisation": 'Lupus "Patients" UK',
                                      "postal_address": "1 High St, Leeds LS1 1AA"}  # fmt: skip


def test_init_without_a_terminal_asks_nothing_and_leaves_them_for_later(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    assert site_section(tmp_path) == {}


def test_an_address_on_two_lines_is_refused(tmp_path: Path) -> None:
    made = carnews(tmp_path, "init", "--postal-address", "1 High St\nBcc: x@example.org")
    assert_clean_failure(made, "site.postal_address", "line break")


def test_init_at_a_terminal_asks_for_both(tmp_path: Path) -> None:
    """The questions are asked on a real pseudo-terminal, answered as a person would."""
    leader, follower = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    process = subprocess.Popen([sys.executable, "-m", "carnews", "init"], cwd=tmp_path, env=env,
                               stdin=follower, stdout=follower, stderr=follower)  # fmt: skip
    os.close(follower)
    os.write(leader, b"Myositis Support Group\r2 Low Rd, York YO1 2AB\r")
    seen = b""
    try:
        while process.poll() is None or seen.count(b"Wrote") == 0:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            seen += chunk
    finally:
        assert process.wait(timeout=120) == 0, seen.decode(errors="replace")
        os.close(leader)
    assert b"Organisation that sends the newsletter" in seen
    assert site_section(tmp_path) == {"organisation": "Myositis Support Group",
                                      "postal_address": "2 Low Rd, York YO1 2AB"}  # fmt: skip
