"""Running the real ``carnews`` command in a child process, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def carnews(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    environment.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "carnews", *args], cwd=cwd, env=environment,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_clean_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "error:" in result.stderr and "hint:" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
