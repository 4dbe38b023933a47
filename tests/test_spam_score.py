"""SpamAssassin scores the demo's emails below 0: what a reader's filter would say.

SpamAssassin runs locally (``-L``: no DNS blocklists, no network) on each message the
demo sent, exactly as the SMTP server kept it. ``-x`` keeps it from writing a user
preferences file in the home folder.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from carnews.demo.run import DemoResult, run_pipeline

# One worker runs this module, so its module-scoped pipeline runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("spam_score")

SCORE = re.compile(rb"^X-Spam-Status: \w+, score=(-?[\d.]+) ", re.MULTILINE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return asyncio.run(run_pipeline(tmp_path_factory.mktemp("demo")))


def spam_score(message: Path) -> tuple[float, str]:
    """The score and SpamAssassin's report of which rules hit."""
    spamassassin = shutil.which("spamassassin")
    assert spamassassin, "spamassassin is missing: tests/system-deps.sh installs it"
    checked = subprocess.run([spamassassin, "-L", "-x", "-t"], input=message.read_bytes(),
                             capture_output=True, timeout=120, check=False)  # fmt: skip
    found = SCORE.search(checked.stdout)
    assert found, checked.stderr.decode(errors="replace")
    report = checked.stdout.decode(errors="replace").rpartition("Content analysis details:")[2]
    return float(found.group(1)), report


def test_every_demo_email_scores_below_zero(demo: DemoResult) -> None:
    messages = sorted((demo.out / "mail").glob("*.eml"))
    assert len(messages) == 3
    for message in messages:
        score, report = spam_score(message)
        assert score < 0, f"{message.name} scored {score}:\n{report}"


def test_the_demo_email_carries_the_footer_spamassassin_and_the_law_look_for(
    demo: DemoResult,
) -> None:
    text = (demo.out / "mail").glob("*.eml").__next__().read_bytes()
    for needed in (b"List-Unsubscribe:", b"List-Unsubscribe-Post:", b"List-Id:",
                   b"Exampletown EX1 2AB", b"/preferences/"):  # fmt: skip
        assert needed in text
