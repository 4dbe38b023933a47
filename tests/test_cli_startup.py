"""The ``carnews`` command starts with only what its command needs.

Every command used to import the whole pipeline (web app, templates, mail, feed and HTML
parsers) and hash a dummy password with argon2 (64 MB) before doing anything: 2 s and
160 MB for ``carnews subscribers import --help``. These tests hold the lighter start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
# Each belongs to commands that need it (serve, send, fetch, editors…), not to every start.
LUPUS_TRIAL = '{"title": "CD19 CAR-T cell therapy in lupus"}\n'
HEAVY = ("jinja2", "fastapi", "bs4", "httpx", "argon2", "prometheus_client", "feedgen",
         "uvicorn", "rapidfuzz", "aiosmtplib", "email_validator", "carnews.jobs",
         "carnews.mail.deliver", "carnews.web.auth", "carnews.editions.render")  # fmt: skip


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=300, check=True)  # fmt: skip


def test_importing_the_cli_leaves_the_heavy_modules_alone() -> None:
    code = "import sys, carnews.cli\nprint(' '.join(m for m in sys.argv[1:] if m in sys.modules))"
    assert _python(code, *HEAVY).stdout.split() == []


def test_a_command_starts_without_the_argon2_memory() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['carnews', 'subscribers', 'import', '--help']\n"
        "from carnews.cli import main\n"
        "try:\n    main()\n"
        # VmHWM, not ru_maxrss: Linux carries the peak of the process that forked this one
        # across exec into ru_maxrss, so under a big test worker it measured the worker.
        "finally:\n    print('peak', [l.split()[1] for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])\n"
    )
    said = _python(code).stdout
    assert "CSV" in said
    peak_mb = int(said.rsplit("peak", 1)[1]) / 1024
    # argon2's 64 MB alone took the start to 160 MB; without it (and the pipeline's
    # imports) it is about 75 MB.
    assert peak_mb < 120


def test_a_lazily_imported_command_still_runs(tmp_path: Path) -> None:
    """``classify`` imports its pipeline when it runs: the answer is the same as ever."""
    env = {
        **os.environ,
        "PYTHONPATH": SRC,
        "CARNEWS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/c.db",
    }
    trial = '{"title": "CD19 CAR-T cell therapy in lupus"}\n'
    done = subprocess.run(
        [sys.executable, "-m", "carnews", "classify"], input=trial, env=env,
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"relevant": true' in done.stdout
