"""The public archive as readers and feed readers get it: per-disease feeds and pages,
valid feeds with the right self links, 304s, and a cache that follows every send.

Golden feeds are regenerated (an explicit, reviewed step) with:
    CARNEWS_REGENERATE_FEEDS=1 .venv/bin/python -m pytest -q tests/test_serving.py
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carnews.clock import Clock, fixed_clock
from carnews.editions.review import approve, draft_edition
from carnews.jobs import publish_site
from carnews.settings import Settings, WebSettings, replace
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState, Story
from carnews.web.app import create_app
from tests.conftest import NOW

GOLDEN = Path(__file__).parent / "data" / "feeds"
VALIDATOR = Path(__file__).parent / "feedvalidator"
BASE = "http://news.test"


async def send_edition_of(
    db: Database, clock: Clock, specs: Sequence[tuple[str, list[str]]], title: str
) -> int:
    """Stories with (headline, diseases), drafted into an edition, approved, and marked sent
    at ``clock()`` (the send itself is mail.deliver's business, tested there)."""
    now = clock()
    async with db.session() as session:
        made = await session.scalar(select(func.count()).select_from(Story)) or 0
        for number, (headline, diseases) in enumerate(specs, start=made + 1):
            session.add(Story(
                canonical_key=f"doi:10.1000/serve.{number}", title=headline, relevant=True,
                link=f"https://doi.org/10.1000/serve.{number}", score=5.0, diseases=diseases,
                published_at=now - timedelta(days=1), therapy="CAR-T",
                evidence="case series", patients=5, summary=f"Summary of {headline}.",
                what_it_means="A report on 5 people.", rank_score=10.0 - number, created_at=now,
            ))  # fmt: skip
    drafted = await draft_edition(db, clock, lookback_days=14, max_stories=10, title=title,
                                  actor="editor")  # fmt: skip
    assert drafted.edition_id is not None
    await approve(db, clock, drafted.edition_id, "Dr Jane")
    async with db.session() as session:
        edition = await session.get_one(Edition, drafted.edition_id)
        edition.state, edition.sent_at = EditionState.SENT, now
    return drafted.edition_id


HOSTILE = "Lupus & <script>alert(1)</script> remission"


async def two_issues(db: Database, lupus_headline: str = "Lupus & “quotes” remission") -> None:
    """Issue 1: lupus and myositis; issue 2 a week later: lupus, class-wide safety news
    (no disease: for every reader) and rheumatoid arthritis."""
    await send_edition_of(db, fixed_clock(NOW), [("CAR-T calms lupus", ["lupus"]),
                          ("Myositis: one patient", ["myositis"])], "Issue one")  # fmt: skip
    await send_edition_of(db, fixed_clock(NOW + timedelta(days=7)), [
        (lupus_headline, ["lupus"]),
        ("Regulator adds a warning for all CAR-T", []),
        ("RA trial opens", ["rheumatoid arthritis"]),
    ], "Issue two")  # fmt: skip


@pytest.fixture
def live(settings: Settings) -> Settings:
    """Asking the database on every request, so a test sees a send at once."""
    return replace(settings, web=WebSettings(cache_check_seconds=0))


@pytest.fixture
def client(live: Settings, clock: Clock, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(live, clock=clock)) as test_client:
        yield test_client


def w3c_problems(data: bytes, url: str, content_type: str) -> list[str]:
    """Errors and warnings of the W3C Feed Validator (vendored), at the online level."""
    sys.path.insert(0, str(VALIDATOR))
    try:
        feedvalidator = importlib.import_module("feedvalidator")
        compatibility = importlib.import_module("feedvalidator.compatibility")
        formatter = importlib.import_module("feedvalidator.formatter.text_plain")
        try:
            events = feedvalidator.validateStream(io.BytesIO(data), firstOccurrenceOnly=1,
                                                  contentType=content_type,
                                                  base=url)["loggedEvents"]  # fmt: skip
        except feedvalidator.logging.ValidationFailure as failure:
            events = [failure.event]
        return list(formatter.Formatter(compatibility.AA(events)))
    finally:
        sys.path.remove(str(VALIDATOR))


FEEDS = ["/feed.xml", "/atom.xml", "/diseases/lupus/feed.xml", "/diseases/lupus/atom.xml",
         "/diseases/myositis/feed.xml", "/diseases/pemphigus/atom.xml"]  # fmt: skip


@pytest.mark.both_databases
async def test_every_feed_parses_and_validates_with_its_own_self_link(
    client: TestClient, db: Database
) -> None:
    await two_issues(db)
    for path in FEEDS:
        answer = client.get(path)
        assert answer.status_code == 200, path
        parsed = feedparser.parse(answer.content)
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
        home = BASE + path.rsplit("/", 1)[0] + "/"
        self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
        assert self_links == [BASE + path], path
        assert parsed.feed.link == home, "the channel's link is the HTML archive, not a feed"
        content_type = answer.headers["content-type"]
        assert w3c_problems(answer.content, BASE + path, content_type) == [], path


@pytest.mark.both_databases
async def test_a_disease_feed_has_one_entry_per_story_card_about_it(
    client: TestClient, db: Database
) -> None:
    """Newest first; class-wide safety news is in every disease's feed; other diseases not.
    A headline with markup stays text. (The W3C validator rightly warns of such an RSS
    title, which some readers take for HTML: the validation test above has none.)"""
    await two_issues(db, HOSTILE)
    lupus = feedparser.parse(client.get("/diseases/lupus/feed.xml").content)
    titles = [entry.title for entry in lupus.entries]
    assert titles == [HOSTILE, "Regulator adds a warning for all CAR-T", "CAR-T calms lupus"]
    assert lupus.entries[0].link == f"{BASE}/editions/2.html#story-3"
    assert "<script>" not in lupus.entries[0].content[0].value, "escaped in the card"
    page = client.get(f"{BASE}/editions/2.html").text
    assert 'id="story-3"' in page, "the entry's link lands on its card"
    myositis = feedparser.parse(client.get("/diseases/myositis/atom.xml").content)
    assert [entry.title for entry in myositis.entries] == [
        "Regulator adds a warning for all CAR-T", "Myositis: one patient"]  # fmt: skip
    archive = client.get("/diseases/lupus/")
    assert archive.status_code == 200 and "Myositis: one patient" not in archive.text
    assert "CAR-T calms lupus" in archive.text and "Issue two" in archive.text
    assert 'href="http://news.test/diseases/lupus/feed.xml"' in archive.text
    assert client.get("/diseases/no-such-disease/feed.xml").status_code == 404
    assert 'href="http://news.test/diseases/lupus/"' in client.get("/").text


def golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("CARNEWS_REGENERATE_FEEDS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data.decode() == path.read_text(), f"{name} differs from its golden file"


@pytest.mark.both_databases
async def test_disease_feeds_match_their_golden_files(
    db: Database, settings: Settings, tmp_path: Path, client: TestClient
) -> None:
    """The same bytes from `carnews publish` and from the web app, on either database."""
    await two_issues(db)
    await publish_site(db, settings, tmp_path)
    for name in ("feed.xml", "atom.xml"):
        written = (tmp_path / "diseases" / "lupus" / name).read_bytes()
        golden(f"lupus.{name}", written)
        assert client.get(f"/diseases/lupus/{name}").content == written
    assert (tmp_path / "diseases" / "systemic-sclerosis" / "index.html").exists()
    assert "CAR-T calms lupus" in (tmp_path / "diseases" / "lupus" / "index.html").read_text()


PAGES = ["/", "/editions/1.html", "/carnews.css", "/diseases/lupus/", *FEEDS]


@pytest.mark.both_databases
async def test_unchanged_pages_and_feeds_answer_304(client: TestClient, db: Database) -> None:
    await two_issues(db)
    for path in PAGES:
        first = client.get(path)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert first.status_code == 200 and etag.startswith('"'), path
        by_tag = client.get(path, headers={"If-None-Match": f'W/"other", {etag}'})
        assert by_tag.status_code == 304 and by_tag.content == b"", path
        assert by_tag.headers["etag"] == etag
        assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
        both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
        other = client.get(path, headers=both)
        assert other.status_code == 200 and other.content == first.content, "the tag decides"
        older = "Mon, 01 Jan 2024 00:00:00 GMT"
        assert client.get(path, headers={"If-Modified-Since": older}).status_code == 200
        assert client.get(path, headers={"If-Modified-Since": "garbage"}).status_code == 200
    issue_two = client.get("/editions/2.html").headers["last-modified"]
    assert issue_two == "Sat, 28 Nov 2026 08:00:00 GMT", "when the issue was sent"


@pytest.mark.both_databases
async def test_a_new_sent_edition_reaches_every_app_on_the_database(
    live: Settings, db: Database, clock: Clock
) -> None:
    """Two web processes on one database: both drop their cached pages after a send."""
    await send_edition_of(db, fixed_clock(NOW), [("CAR-T calms lupus", ["lupus"])], "Issue one")
    with (TestClient(create_app(live, clock=clock)) as one,
          TestClient(create_app(live, clock=clock)) as two):  # fmt: skip
        before = {(app, path): app.get(path) for app in (one, two) for path in PAGES[:4]}
        assert "Issue two" not in before[one, "/"].text
        await send_edition_of(db, fixed_clock(NOW + timedelta(days=7)),
                              [("Lupus trial grows", ["lupus"])], "Issue two")  # fmt: skip
        for app in (one, two):
            archive = app.get("/", headers={"If-None-Match": before[app, "/"].headers["etag"]})
            assert archive.status_code == 200 and "Issue two" in archive.text
            assert "Lupus trial grows" in app.get("/diseases/lupus/feed.xml").text
            assert "Issue two" in app.get("/feed.xml").text
            assert app.get("/editions/2.html").status_code == 200
        assert one.get("/").headers["etag"] == two.get("/").headers["etag"], "same bytes, same tag"


async def test_between_checks_a_process_serves_what_it_has(
    settings: Settings, db: Database, clock: Clock
) -> None:
    """With web.cache_check_seconds the database is asked at most that often: a request in
    between is answered from memory, without a query."""
    await send_edition_of(db, fixed_clock(NOW), [("CAR-T calms lupus", ["lupus"])], "Issue one")
    patient = replace(settings, web=WebSettings(cache_check_seconds=3600))
    with TestClient(create_app(patient, clock=clock)) as client:
        first = client.get("/")
        await send_edition_of(db, fixed_clock(NOW + timedelta(days=7)),
                              [("Lupus trial grows", ["lupus"])], "Issue two")  # fmt: skip
        assert client.get("/").content == first.content


async def test_the_unsubscribe_page_answers_while_a_send_holds_the_write_lock(
    live: Settings, db: Database, clock: Clock, tmp_path: Path
) -> None:
    """SQLite has one writer; a send in another process holds it between batches. Showing
    the page only reads, so it does not wait for the lock (it used to take it)."""
    from tests.test_web import subscriber

    _, token = await subscriber(db, clock)
    holder = sqlite3.connect(tmp_path / "carnews.db", isolation_level=None)
    try:
        with TestClient(create_app(live, clock=clock)) as client:  # it makes the site key
            holder.execute("BEGIN IMMEDIATE")
            page = client.get(f"/unsubscribe/{token}")
            assert page.status_code == 200 and '<form method="post">' in page.text
            assert client.get("/").status_code == 200
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def test_after_the_interval_the_background_check_brings_the_new_edition(
    settings: Settings, db: Database, clock: Clock
) -> None:
    """Requests never wait for the check; one that finds the generation old starts it, and
    a later one serves the new pages. (The loop bounds a hang; it times nothing.)"""
    await send_edition_of(db, fixed_clock(NOW), [("CAR-T calms lupus", ["lupus"])], "Issue one")
    brisk = replace(settings, web=WebSettings(cache_check_seconds=0.01))
    with TestClient(create_app(brisk, clock=clock)) as client:
        assert "Issue one" in client.get("/").text
        await send_edition_of(db, fixed_clock(NOW + timedelta(days=7)),
                              [("Lupus trial grows", ["lupus"])], "Issue two")  # fmt: skip
        for _ in range(3000):
            if "Issue two" in client.get("/").text:
                break
            await asyncio.sleep(0.01)
        assert "Issue two" in client.get("/").text


async def test_a_test_publishes_into_its_own_folder_not_the_repository(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """With the fixture's settings the site lands under the test's folder: the default
    ./public is the repository, shared by both xdist workers and left behind by each run."""
    await two_issues(db)
    await publish_site(db, settings)
    assert (tmp_path / "public" / "feed.xml").exists()
    assert "CAR-T calms lupus" in (tmp_path / "public" / "feed.xml").read_text()
