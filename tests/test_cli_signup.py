"""The operator's side of sign-up: imports ask for consent, mailto: unsubscribes, and
``subscribers remove|block|set``, run as the real ``carnews`` command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import assert_clean_failure, carnews
from tests.helpers import inbox, smtp_server

REQUEST = b"""From: Ana <ana@example.org>
To: newsletter@localhost
Subject: Re: unsubscribe
Message-ID: <r1@example.org>

unsubscribe
"""
AUTO_REPLY = b"""From: ben@example.org
To: newsletter@localhost
Subject: unsubscribe
Auto-Submitted: auto-replied

I am out of the office.
"""
CHATTER = b"""From: cy@example.org
To: newsletter@localhost
Subject: Thank you

Loved the lupus story.
"""


def relay(port: int) -> list[str]:
    return ["--set", "smtp.host=127.0.0.1", "--set", f"smtp.port={port}"]


def listed(tmp_path: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(carnews(tmp_path, "subscribers", "list", "--json").stdout)
    return {row["email"]: row for row in rows}


def test_an_import_without_consent_mails_each_address_a_confirmation_once(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    with smtp_server(tmp_path / "mail") as port:
        (tmp_path / "in.csv").write_text("email\nana@example.org\nben@example.org\n")
        first = carnews(tmp_path, *relay(port), "subscribers", "import", "in.csv")
        assert "Mailed 2 confirmation links" in first.stdout, first.stderr
        again = carnews(tmp_path, *relay(port), "subscribers", "import", "in.csv")
        assert again.returncode == 0 and "Mailed" not in again.stdout
    assert sorted(str(m["To"]) for m in inbox(tmp_path / "mail")) == [
        "ana@example.org", "ben@example.org"]  # fmt: skip
    assert {row["status"] for row in listed(tmp_path).values()} == {"pending"}


def test_a_relay_that_is_down_leaves_the_links_for_the_next_import(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    (tmp_path / "in.csv").write_text("email\nana@example.org\n")
    down = carnews(tmp_path, *relay(9), "subscribers", "import", "in.csv")
    assert_clean_failure(down, "were imported")
    with smtp_server(tmp_path / "mail") as port:
        again = carnews(tmp_path, *relay(port), "subscribers", "import", "in.csv")
        assert "Mailed 1" in again.stdout, again.stderr
    assert len(inbox(tmp_path / "mail")) == 1


def test_mailto_replies_unsubscribe_their_sender_and_nothing_else(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    for address in ("ana@example.org", "ben@example.org", "cy@example.org"):
        carnews(tmp_path, "subscribers", "add", address, "--confirmed")
    (tmp_path / "box" / "cur").mkdir(parents=True)
    (tmp_path / "box" / "new").mkdir()
    for name, raw in (("1", REQUEST), ("2", AUTO_REPLY), ("3", CHATTER)):
        (tmp_path / "box" / "new" / name).write_bytes(raw)
    result = carnews(tmp_path, "subscribers", "unsubscribe-replies", "box", "--json")
    outcomes = [row["outcome"] for row in json.loads(result.stdout)]
    assert outcomes == ["unsubscribed", "an automatic reply", "does not ask to unsubscribe"]
    statuses = {email: row["status"] for email, row in listed(tmp_path).items()}
    assert statuses == {"ana@example.org": "unsubscribed", "ben@example.org": "active",
                        "cy@example.org": "active"}  # fmt: skip
    assert_clean_failure(carnews(tmp_path, "subscribers", "unsubscribe-replies", "nowhere"),
                         "not a maildir")  # fmt: skip


def test_operator_sets_removes_and_blocks(tmp_path: Path) -> None:
    assert carnews(tmp_path, "init").returncode == 0
    carnews(tmp_path, "subscribers", "add", "ana@example.org", "--confirmed")
    changed = carnews(tmp_path, "subscribers", "set", "ana@example.org", "--diseases",
                      "SLE; myositis", "--frequency", "monthly", "--name", "Ana")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    row = listed(tmp_path)["ana@example.org"]
    assert (row["name"], row["diseases"]) == ("Ana", ["lupus", "myositis"])
    assert_clean_failure(carnews(tmp_path, "subscribers", "set", "ana@example.org",
                                 "--frequency", "hourly"), "hourly")  # fmt: skip
    assert carnews(tmp_path, "subscribers", "remove", "ana@example.org").returncode == 0
    assert listed(tmp_path) == {}
    (tmp_path / "in.csv").write_text("email\nana@example.org\n")
    again = carnews(tmp_path, "subscribers", "import", "in.csv", "--confirmed")
    assert "Added 0" in again.stdout and "erased or blocked" in again.stdout
    assert carnews(tmp_path, "subscribers", "block", "troll@example.org").returncode == 0
    assert_clean_failure(carnews(tmp_path, "subscribers", "remove", "nobody@example.org"),
                         "not a subscriber")  # fmt: skip
