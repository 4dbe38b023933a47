"""Every file of the robustness corpus through the real ingest path, over local HTTP.

What carnews owes each file (tests/corpora/feeds/README.md): ingesting it never
crashes, never hangs, and never lets active content into stored clean HTML; a file
that cannot be read is that source's error and the other sources go on.

How fast each file goes is measured by bench/corpus.py, not asserted here: this test
only bounds a hang, generously, so a busy machine cannot fail it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.demo.servers import feed_server
from carnews.gather.ingest import SourceReport, ingest
from carnews.settings import FetchSettings, Settings, SourceSettings, replace
from carnews.storage import Database
from carnews.storage.models import Entry, Source

CORPUS = Path(__file__).resolve().parent / "corpora" / "feeds"
# A hang bound, not a speed target: the 2 s per-file figure lives in bench/corpus.py.
HANG_LIMIT_SECONDS = 10.0

ACTIVE = [
    re.compile(r"<\s*(script|style|iframe|form|object|embed|meta|frame|applet|base|link)\b", re.I),
    re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),  # event handler attributes
    re.compile(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data):", re.I),
    re.compile(r"(href|src)\s*=\s*[\"']?\s*[^\"'>]*&#", re.I),  # entity-smuggled schemes
]


def corpus_files() -> list[Path]:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in
                   ("README.md", "LICENSE") and not p.name.startswith("."))  # fmt: skip
    assert len(files) > 2000, f"the corpus at {CORPUS} is missing or incomplete"
    return files


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return corpus_files()


async def test_every_corpus_file_ingests_safely(
    db: Database, settings: Settings, clock: Clock, files: list[Path]
) -> None:
    reports: list[SourceReport] = []
    with feed_server(CORPUS) as base_url:
        sources = tuple(
            SourceSettings(name=str(path.relative_to(CORPUS)),
                           url=f"{base_url}/{path.relative_to(CORPUS).as_posix()}")
            for path in files
        )  # fmt: skip
        # One at a time, so each file's time is its own, not its neighbours'.
        options = FetchSettings(concurrency=1, per_host=1, timeout_seconds=5.0)
        run = replace(settings, sources=sources, fetch=options)
        reports = await ingest(db, run, clock)
    assert len(reports) == len(files), "every file was polled; none was skipped or lost"
    hung = [(r.name, round(r.seconds, 2)) for r in reports if r.seconds > HANG_LIMIT_SECONDS]
    assert hung == []
    outcomes = {r.outcome for r in reports}
    assert outcomes <= {"ok", "error"}
    assert sum(r.outcome == "ok" for r in reports) > 1500
    for report in reports:
        if report.outcome == "error":
            assert report.error, f"{report.name} failed without saying why"
    async with db.session() as session:
        stored = (await session.scalars(select(Entry.clean_html))).all()
        recorded = (
            await session.scalars(select(Source).where(Source.last_error.is_not(None)))
        ).all()
    assert len(stored) > 1000  # many corpus files test feed-level fields and hold no entry
    leaks = [html for html in stored for pattern in ACTIVE if pattern.search(html)]
    assert leaks == []
    assert {s.name for s in recorded} == {r.name for r in reports if r.outcome == "error"}
