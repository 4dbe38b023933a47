"""Ingest against a real HTTP server: conditional GET, throttling, redirects, health, identity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.stories import curate_new_entries
from carnews.gather.ingest import ingest
from carnews.gather.sources import enable_source, source_statuses
from carnews.jobs import knowledge
from carnews.settings import FetchSettings, Settings, SourceSettings, replace
from carnews.storage import Database
from carnews.storage.models import Entry, Source, SourceHealth
from tests.scripted_http import Reply, Server, scripted_server


def rss(
    *items: tuple[str, str, str],
    ttl: int | None = None,
    date: str = "Fri, 20 Nov 2026 06:00:00 GMT",
) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://news.test/{guid}</link>"
        f"<description>{text}</description><pubDate>{date}</pubDate></item>"
        for guid, title, text in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{ttl_tag}'
            f"{body}</channel></rss>").encode()  # fmt: skip


LUPUS = ("a1", "CAR-T in lupus", "Five patients with lupus got CD19 CAR-T cells.")
MYOSITIS = ("a2", "CAR-T in myositis", "Three patients with myositis got CAR-T cells.")


@pytest.fixture
def server() -> Iterator[Server]:
    with scripted_server() as state:
        yield state


def configure(settings: Settings, server: Server, *paths: str, **fetch: object) -> Settings:
    sources = tuple(
        SourceSettings(name=path.strip("/"), url=server.base_url + path, interval_minutes=60)
        for path in paths
    )
    options = FetchSettings(timeout_seconds=2.0, connect_timeout_seconds=1.0, per_host=8, **fetch)  # type: ignore[arg-type]
    return replace(settings, sources=sources, fetch=options)


async def source(db: Database, name: str) -> Source:
    async with db.session() as session:
        found = await session.scalar(select(Source).where(Source.name == name))
        assert found is not None
        return found


async def entries(db: Database) -> list[Entry]:
    async with db.session() as session:
        return list((await session.scalars(select(Entry).order_by(Entry.id))).all())


async def test_conditional_get_echoes_validators_and_304_costs_no_parse(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    validators = {"ETag": 'W/"v1-\\"quoted\\""', "Last-Modified": "Thu, 19 Nov 2026 10:00:00 GMT"}
    server.serve("/feed", Reply(body=rss(LUPUS), headers=validators), Reply(status=304))
    settings = configure(settings, server, "/feed")
    (first,) = await ingest(db, settings, clock)
    (second,) = await ingest(db, settings, clock, force=True)
    assert (first.outcome, first.new) == ("ok", 1)
    assert (second.outcome, second.new, second.unchanged) == ("not_modified", 0, 0)
    sent = server.received[1].headers
    assert sent["If-None-Match"] == validators["ETag"]
    assert sent["If-Modified-Since"] == validators["Last-Modified"]
    assert (await source(db, "feed")).etag == validators["ETag"], "kept after a 304"


async def test_429_honours_retry_after_seconds_and_503_an_http_date(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/busy", Reply(status=429, headers={"Retry-After": "86400"}))
    server.serve(
        "/down", Reply(status=503, headers={"Retry-After": "Mon, 23 Nov 2026 08:00:00 GMT"})
    )
    settings = configure(settings, server, "/busy", "/down")
    reports = await ingest(db, settings, clock)
    assert {r.outcome for r in reports} == {"error"}
    assert (await source(db, "busy")).next_check_at == clock() + timedelta(days=1)
    assert (await source(db, "down")).next_check_at == clock() + timedelta(days=2)
    assert await ingest(db, settings, clock) == [], "not polled again before then"


async def test_errors_back_off_geometrically_then_the_source_is_failing(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/broken", Reply(status=500))
    settings = configure(settings, server, "/broken", max_consecutive_errors=3)
    waits = []
    for _ in range(3):
        await ingest(db, settings, clock, force=True)
        row = await source(db, "broken")
        assert row.next_check_at is not None
        waits.append(row.next_check_at - clock())
    assert waits[:2] == [timedelta(minutes=120), timedelta(minutes=240)]
    assert row.health == SourceHealth.FAILING and row.last_error == "HTTP 500"
    assert await ingest(db, settings, clock, force=True) == [], "left alone, even with --all"
    await enable_source(db, "broken", clock())
    assert len(await ingest(db, settings, clock)) == 1


async def test_a_source_that_only_answered_404_shows_failing_from_its_first_error(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/missing", Reply(status=404))
    settings = configure(settings, server, "/missing", max_consecutive_errors=2)
    await ingest(db, settings, clock, force=True)
    (status,) = await source_statuses(db)
    assert (status.health, status.consecutive_errors, status.polled) == ("failing", 1, True)
    assert status.last_success_at is None and status.last_error == "HTTP 404"
    await ingest(db, settings, clock, force=True)
    (status,) = await source_statuses(db)
    assert (status.health, status.polled) == ("failing", False), "now left alone"
    await enable_source(db, "missing", clock())
    (status,) = await source_statuses(db)
    assert (status.health, status.polled) == ("ok", True)


async def test_permanent_redirects_move_the_source_and_temporary_ones_do_not(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    for path, status in (("/p301", 301), ("/p308", 308), ("/t302", 302), ("/t307", 307)):
        server.serve(path, Reply(status=status, headers={"Location": f"/new{path}"}))
        server.serve(f"/new{path}", Reply(body=rss(LUPUS)))
    settings = configure(settings, server, "/p301", "/p308", "/t302", "/t307")
    assert {r.outcome for r in await ingest(db, settings, clock)} == {"ok"}
    for name in ("p301", "p308"):
        assert (await source(db, name)).url == f"{server.base_url}/new/{name}"
    for name in ("t302", "t307"):
        assert (await source(db, name)).url == f"{server.base_url}/{name}"
    await ingest(db, settings, clock, force=True)
    assert (await source(db, "p301")).url.endswith("/new/p301"), "a config sync keeps the move"


async def test_410_marks_the_source_gone(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/gone", Reply(status=410))
    settings = configure(settings, server, "/gone")
    (report,) = await ingest(db, settings, clock)
    assert report.outcome == "gone"
    assert (await source(db, "gone")).health == SourceHealth.GONE
    assert await ingest(db, settings, clock, force=True) == []


async def test_one_hung_source_does_not_stop_the_others(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/hung", Reply(delay=30))
    server.serve("/good", Reply(body=rss(LUPUS, MYOSITIS)))
    server.serve("/junk", Reply(body=b"\x00\x01 not a feed at all"))
    settings = configure(settings, server, "/hung", "/good", "/junk")
    reports = {r.name: r for r in await ingest(db, settings, clock)}
    assert reports["good"].new == 2
    assert reports["hung"].outcome == "error" and "within 2 s" in (reports["hung"].error or "")
    assert reports["junk"].outcome == "error" and "not a feed" in (reports["junk"].error or "")


async def test_a_source_too_slow_to_parse_is_an_error_and_the_others_go_on(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    """2,000 entries take seconds to parse, ten times the limit set here; two take moments."""
    text = "&lt;p&gt;" + "Patients with lupus got CAR-T cells. " * 10 + "&lt;/p&gt;"
    server.serve("/huge", Reply(body=rss(*((f"e{n}", f"Entry {n}", text) for n in range(2000)))))
    server.serve("/good", Reply(body=rss(LUPUS, MYOSITIS)))
    settings = configure(settings, server, "/huge", "/good", parse_timeout_seconds=0.25)
    reports = {r.name: r for r in await ingest(db, settings, clock)}
    assert reports["good"].new == 2
    assert reports["huge"].outcome == "error" and reports["huge"].new == 0
    assert "parse_timeout_seconds" in (reports["huge"].error or "")
    assert len(await entries(db)) == 2


async def test_ttl_and_cache_control_push_the_next_poll(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/ttl", Reply(body=rss(LUPUS, ttl=180)))
    server.serve(
        "/cached", Reply(body=rss(LUPUS), headers={"Cache-Control": "public, max-age=7200"})
    )
    server.serve("/plain", Reply(body=rss(LUPUS)))
    await ingest(db, configure(settings, server, "/ttl", "/cached", "/plain"), clock)
    assert (await source(db, "ttl")).next_check_at == clock() + timedelta(minutes=180)
    assert (await source(db, "cached")).next_check_at == clock() + timedelta(hours=2)
    assert (await source(db, "plain")).next_check_at == clock() + timedelta(minutes=60)


async def test_repeated_guids_store_once_and_changed_content_is_an_update(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    changed = ("a1", "CAR-T in lupus", "Five patients with lupus; all in remission at 1 year.")
    server.serve(
        "/feed", Reply(body=rss(LUPUS, LUPUS, MYOSITIS)), Reply(body=rss(changed, MYOSITIS))
    )
    settings = configure(settings, server, "/feed")
    (first,) = await ingest(db, settings, clock)
    await curate_new_entries(db, knowledge(2.0), clock)
    (second,) = await ingest(db, settings, clock, force=True)
    assert (first.new, first.unchanged) == (2, 1)
    assert (second.new, second.updated, second.unchanged) == (0, 1, 1)
    stored = await entries(db)
    assert len(stored) == 2 and stored[0].update_count == 1
    assert "remission at 1 year" in stored[0].text
    report = await curate_new_entries(db, knowledge(2.0), clock)
    assert len(report.kept) == 1, "the updated entry's story is judged again"


async def test_first_poll_keeps_old_entries_as_history_not_news(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/old", Reply(body=rss(LUPUS, date="Mon, 05 Jan 2026 06:00:00 GMT")))
    server.serve("/new", Reply(body=rss(MYOSITIS)))
    await ingest(db, configure(settings, server, "/old", "/new"), clock)
    assert [(e.title, e.historic) for e in await entries(db)] == [
        ("CAR-T in lupus", True), ("CAR-T in myositis", False),
    ] or [(e.title, e.historic) for e in await entries(db)] == [
        ("CAR-T in myositis", False), ("CAR-T in lupus", True),
    ]  # fmt: skip
    report = await curate_new_entries(db, knowledge(2.0), clock)
    assert [title for _, title in report.kept] == ["CAR-T in myositis"]


async def test_entries_from_blocked_content_farms_are_dropped(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    farm = ("f1", "My friend Jenna and CAR-T for lupus", "Read about lupus CAR-T.")
    body = rss(LUPUS, farm).replace(b"https://news.test/f1", b"https://www.visualfoodie.com/car-t")
    server.serve("/news", Reply(body=body))
    (report,) = await ingest(db, configure(settings, server, "/news"), clock)
    assert (report.new, report.blocked) == (1, 1)
    assert [e.title for e in await entries(db)] == ["CAR-T in lupus"]


async def test_entries_with_script_links_are_kept_without_a_link_and_reported(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    body = rss(LUPUS, MYOSITIS).replace(b"https://news.test/a1", b"JaVa&#9;Script:alert(1)")
    server.serve("/news", Reply(body=body))
    (report,) = await ingest(db, configure(settings, server, "/news"), clock)
    assert (report.new, report.unsafe_links) == (2, 1)
    assert report.warnings == (
        "1 entry links were not http or https and were dropped (the entries are kept "
        "without a link), e.g. 'JaVa\\tScript:alert(1)'",
    )
    assert [e.link for e in await entries(db)] == [None, "https://news.test/a2"]
