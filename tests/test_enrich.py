"""Thin entries enriched from their landing pages: the metadata read, and the manners kept.

Parsing is checked on realistic pages under tests/data/landing; the stage runs against a
real loopback HTTP server whose request log shows what was (and was not) asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.stories import curate_new_entries
from carnews.gather.enrich import enrich_thin_entries
from carnews.gather.ingest import ingest
from carnews.gather.landing import MAX_CHARS, landing_text, with_landing
from carnews.gather.robots import origin
from carnews.jobs import gather, knowledge
from carnews.settings import FetchSettings, Settings, SourceSettings, replace
from carnews.storage import Database
from carnews.storage.models import Entry, Story
from tests.scripted_http import Reply, Server, scripted_server

PAGES = Path(__file__).parent / "data" / "landing"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


# --- reading a page ------------------------------------------------------------------


def test_a_pubmed_like_page_gives_its_citation_abstract_as_plain_text() -> None:
    found = landing_text(page("pubmed.html"), "https://pubmed.example/41234567/")
    assert found is not None and found.source == "citation_abstract"
    assert found.text.startswith("Background: Systemic lupus erythematosus (SLE)")
    assert "15 patients with refractory SLE & followed them" in found.text, "entities decoded"
    assert "<" not in found.text and "\n" not in found.text, "tags stripped, spaces folded"
    assert found.url == "https://pubmed.example/41234567/"


def test_a_news_page_gives_its_json_ld_article_before_open_graph() -> None:
    found = landing_text(page("news.html"), "https://news.example/car-t")
    assert found is not None and found.source == "json-ld:description"
    assert found.text.startswith("Doctors in Erlangen gave CD19 CAR-T cells to eight people")
    assert "Health news for everyone" not in found.text, "the site's own description is not it"
    without_json_ld = page("news.html").replace(b"application/ld+json", b"text/plain")
    found = landing_text(without_json_ld, "https://news.example/car-t")
    assert found is not None and found.source == "og:description"
    assert "remission, doctors in Erlangen report – a first look" in found.text


def test_broken_json_ld_is_passed_over_for_the_next_source() -> None:
    found = landing_text(page("broken_jsonld.html"), "https://rheum.example/ssc")
    assert found is not None and found.source == "og:description"
    assert found.text.startswith("Two patients with severe systemic sclerosis improved")


def test_json_ld_as_sites_write_it_is_read() -> None:
    """A trailing comma, a CDATA wrapper, a list of types, an @value, a raw newline."""
    block = (
        '<script type="application/ld+json">//<![CDATA[\n[{"@type": ["MedicalScholarlyArticle"],'
        ' "abstract": {"@value": "Six patients with neuromyelitis optica spectrum disorder\n'
        'received CAR T cells; five were relapse-free at one year."},}]\n//]]></script>'
    )
    found = landing_text(f"<html><head>{block}</head></html>", "https://j.example/a")
    assert found is not None and found.source == "json-ld:abstract"
    assert found.text.endswith("received CAR T cells; five were relapse-free at one year.")


def test_dublin_core_description_in_capitals_is_read() -> None:
    found = landing_text(page("journal_dc.html"), "https://journal.example/mg")
    assert found is not None and found.source == "dc.description"
    assert "refractory generalised myasthenia gravis" in found.text


def test_a_page_with_only_slogans_gives_nothing() -> None:
    assert landing_text(page("plain.html"), "https://news.example/x") is None
    assert landing_text(b"", "https://news.example/x") is None
    assert landing_text(b"\x00\xff not html at all", "https://news.example/x") is None


def test_a_description_that_only_repeats_the_title_does_not_count() -> None:
    title = "CAR-T cell therapy brings lupus nephritis into remission in a small trial"
    markup = f'<head><meta name="description" content="{title}."></head>'
    assert landing_text(markup, "https://n.example/a", title=title) is None
    assert landing_text(markup, "https://n.example/a") is not None


def test_a_long_description_is_cut_at_a_sentence() -> None:
    sentence = "Patients with lupus received CAR T cells and did well over two years. "
    markup = f'<head><meta name="description" content="{sentence * 100}"></head>'
    found = landing_text(markup, "https://n.example/a")
    assert found is not None and len(found.text) <= MAX_CHARS
    assert found.text.endswith("two years.")


def test_the_declared_charset_decodes_the_page() -> None:
    text = "Café patients in Zürich — lupus and CAR-T cells, a report from the clinic."
    markup = f'<head><meta property="og:description" content="{text}"></head>'
    found = landing_text(markup.encode("cp1252"), "https://n.example/a", encoding="cp1252")
    assert found is not None and "Café patients in Zürich — lupus" in found.text


def test_only_http_and_https_pages_have_an_origin() -> None:
    assert origin("https://News.Example:443/a?b") == "https://news.example"
    assert origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    for url in ("ftp://news.example/a", "javascript:alert(1)", "file:///etc/passwd", "http://"):
        assert origin(url) is None


def test_the_page_text_stands_in_for_a_teaser_it_repeats() -> None:
    landing = "Eight people with myositis reached remission after CAR-T cells, doctors report."
    assert with_landing("CAR-T news", "CAR-T news", landing) == landing
    assert with_landing("CAR-T news", "Eight people with myositis", landing) == landing
    both = with_landing("CAR-T news", "CAR-T news Example Health News", landing)
    assert both == f"CAR-T news Example Health News\n\n{landing}"
    assert with_landing("t", "own text", "") == "own text"


# --- the stage, against a real server ------------------------------------------------

THIN_CAR_T = ("a1", "New CAR-T data from Erlangen", "Example Health News", "/article/1")
STOCKS = ("s1", "Stocks close higher as investors weigh rate outlook", "Markets", "/stocks")
LYMPHOMA = ("l1", "CAR-T in lymphoma: long-term data", "Example Health News", "/lymphoma")
THICK = (
    "k1",
    "CAR-T in lupus",
    "Fifteen patients with refractory systemic lupus erythematosus received CD19 CAR-T "
    "cells at one centre; all reached drug-free remission and stayed in it for a median "
    "of fifteen months, with only mild cytokine release syndrome in most of them.",
    "/thick",
)
ROBOTS_OPEN = Reply(body=b"User-agent: *\nDisallow: /private/\n")


def rss(server: Server, *items: tuple[str, str, str, str]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{server.base_url}{path}</link>"
        f"<description>{text}</description><pubDate>Fri, 20 Nov 2026 06:00:00 GMT</pubDate>"
        "</item>"
        for guid, title, text, path in items
    )
    channel = f"<channel><title>t</title>{body}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def server() -> Iterator[Server]:
    with scripted_server() as state:
        yield state


def configure(settings: Settings, server: Server, *feeds: str, **fetch: object) -> Settings:
    sources = tuple(SourceSettings(name=path.strip("/"), url=server.base_url + path)
                    for path in feeds)  # fmt: skip
    limits: dict[str, object] = {"timeout_seconds": 2.0, "connect_timeout_seconds": 1.0}
    options = FetchSettings(**{**limits, **fetch})  # type: ignore[arg-type]
    return replace(settings, sources=sources, fetch=options)


async def stored(db: Database) -> dict[str, Entry]:
    async with db.session() as session:
        return {e.guid: e for e in (await session.scalars(select(Entry))).all()}


async def story_of(db: Database, guid: str) -> Story:
    async with db.session() as session:
        entry = await session.scalar(select(Entry).where(Entry.guid == guid))
        assert entry is not None and entry.story_id is not None
        return await session.get_one(Story, entry.story_id)


async def test_a_thin_entry_is_judged_on_what_its_page_says(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T, STOCKS, LYMPHOMA, THICK)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/article/1", Reply(body=page("pubmed.html"), headers=HTML))
    report = await gather(db, configure(settings, server, "/feed"), clock)

    assert report.enrichment is not None
    assert (report.enrichment.read, report.enrichment.enriched) == (1, 1)
    entry = (await stored(db))["a1"]
    assert entry.landing_source == "citation_abstract"
    assert entry.landing_url == f"{server.base_url}/article/1"
    assert entry.landing_text.startswith("Background: Systemic lupus erythematosus")
    story = await story_of(db, "a1")
    assert story.relevant, story.reasons
    assert "lupus" in story.diseases and story.patients == 15
    # The card is written from the page's abstract: its count and its result, in plain words.
    assert "All 15 people went into remission without their usual medicines" in story.summary
    asked = server.paths()
    assert "/stocks" not in asked and "/lymphoma" not in asked, "not relevant: not fetched"
    assert "/thick" not in asked, "an entry that says enough is not fetched"
    page_request = next(r for r in server.received if r.path == "/article/1")
    assert page_request.headers["User-Agent"].startswith("carnews/")
    assert page_request.headers["Accept"].startswith("text/html")


async def test_without_enrichment_the_same_entry_is_dropped(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T)))
    settings = configure(settings, server, "/feed", enrich_thin_entries=False)
    report = await gather(db, settings, clock)
    assert report.enrichment is None
    assert server.paths() == ["/feed"], "no robots.txt, no page"
    assert not (await story_of(db, "a1")).relevant


async def test_robots_disallow_is_respected_and_robots_txt_is_asked_once(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    private = ("p1", "CAR-T cells in myositis", "Example", "/private/story")
    public = ("p2", "CAR-T cells in lupus", "Example", "/public/story")
    server.serve("/feed", Reply(body=rss(server, private, public)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/private/story", Reply(body=page("news.html"), headers=HTML))
    server.serve("/public/story", Reply(body=page("news.html"), headers=HTML))
    settings = configure(settings, server, "/feed")
    report = await gather(db, settings, clock)
    assert report.enrichment is not None and report.enrichment.disallowed == 1
    assert "/private/story" not in server.paths()
    assert "/public/story" in server.paths()
    rows = await stored(db)
    assert rows["p1"].landing_checked_at is not None and rows["p1"].landing_text == ""
    assert rows["p2"].landing_source == "json-ld:description"

    server.serve("/feed", Reply(body=rss(server, ("p3", "CAR-T in MS", "E", "/public/other"))))
    await gather(db, settings, clock, force=True)
    assert "/public/other" in server.paths()
    assert server.paths().count("/robots.txt") == 1, "kept for a day, across runs"


@pytest.mark.parametrize(
    ("robots", "page_read"),
    [(Reply(status=404), True), (Reply(status=503), False), (Reply(delay=30), False),
     (Reply(body=b"User-agent: carnews\nDisallow: /\n\nUser-agent: *\nAllow: /\n"), False)],
    ids=["no-robots-file", "server-error", "hung", "carnews-named"],
)  # fmt: skip
async def test_what_robots_txt_answers_decides(
    db: Database, settings: Settings, clock: Clock, server: Server, robots: Reply, page_read: bool
) -> None:
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T)))
    server.serve("/robots.txt", robots)
    server.serve("/article/1", Reply(body=page("pubmed.html"), headers=HTML))
    async with asyncio.timeout(20):  # a hang fails here instead of stalling the suite
        await gather(db, configure(settings, server, "/feed", timeout_seconds=1.0), clock)
    assert ("/article/1" in server.paths()) is page_read


async def test_a_page_is_fetched_once_across_runs_and_entries(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T)))
    same_link = ("b1", "Erlangen team reports new CAR-T results", "Other News", "/article/1")
    server.serve("/other", Reply(body=rss(server, same_link)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/article/1", Reply(body=page("pubmed.html"), headers=HTML))
    await gather(db, configure(settings, server, "/feed"), clock)
    second = await gather(db, configure(settings, server, "/feed", "/other"), clock, force=True)
    assert server.paths().count("/article/1") == 1
    assert second.enrichment is not None
    assert (second.enrichment.read, second.enrichment.cached) == (0, 1)
    rows = await stored(db)
    assert rows["b1"].landing_source == "citation_abstract"
    assert rows["b1"].landing_text == rows["a1"].landing_text


async def test_size_cap_and_a_hung_page_are_failures_not_stalls(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    huge = ("h1", "CAR-T cells in lupus", "E", "/huge")
    hung = ("h2", "CAR-T cells in myositis", "E", "/hung")
    server.serve("/feed", Reply(body=rss(server, huge, hung, THIN_CAR_T)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/huge", Reply(body=page("news.html") + b" " * 5000, headers=HTML))
    server.serve("/hung", Reply(delay=30))
    server.serve("/article/1", Reply(body=page("pubmed.html"), headers=HTML))
    settings = configure(settings, server, "/feed", timeout_seconds=1.0, enrich_max_bytes=4096)
    async with asyncio.timeout(20):
        report = await gather(db, settings, clock)
    assert report.enrichment is not None
    failed = dict(report.enrichment.failed)
    assert "cap" in failed[f"{server.base_url}/huge"]
    assert "within 1 s" in failed[f"{server.base_url}/hung"]
    rows = await stored(db)
    assert rows["h1"].landing_text == "" and rows["h2"].landing_text == ""
    assert rows["a1"].landing_source == "citation_abstract", "the others were still read"
    await gather(db, settings, clock, force=True)
    assert server.paths().count("/hung") == 1, "a failed page is not asked again"


async def test_a_redirect_is_followed_and_each_hop_checked(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    google = ("g1", "CAR-T approach shows early promise", "Example", "/rss/articles/CBMi1?oc=5")
    trapped = ("g2", "CAR-T cells in lupus", "Example", "/rss/articles/CBMi2")
    away = ("g3", "CAR-T cells in myositis", "Example", "/rss/articles/CBMi3")
    server.serve("/feed", Reply(body=rss(server, google, trapped, away)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/rss/articles/CBMi1?oc=5", Reply(302, headers={"Location": "/story/one"}))
    server.serve("/rss/articles/CBMi2", Reply(302, headers={"Location": "/private/two"}))
    server.serve("/rss/articles/CBMi3", Reply(302, headers={"Location": "ftp://files.test/x"}))
    server.serve("/story/one", Reply(body=page("news.html"), headers=HTML))
    report = await gather(db, configure(settings, server, "/feed"), clock)
    rows = await stored(db)
    assert rows["g1"].landing_source == "json-ld:description"
    assert rows["g1"].landing_url == f"{server.base_url}/story/one"
    assert "/private/two" not in server.paths(), "the hop robots.txt forbids is not taken"
    assert report.enrichment is not None and report.enrichment.disallowed == 1
    assert report.enrichment.failed == (
        (f"{server.base_url}/rss/articles/CBMi3", "redirected off http(s)"),
    )
    assert rows["g3"].landing_checked_at is not None and rows["g3"].landing_url is None
    assert (await story_of(db, "g1")).relevant, "myositis, from the page"


async def test_pages_over_the_cap_wait_and_their_entries_are_judged_again(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    older = ("c1", "Cell therapy approach shows promise", "Example", "/story/older")
    server.serve("/feed", Reply(body=rss(server, older, THIN_CAR_T)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    server.serve("/story/older", Reply(body=page("news.html"), headers=HTML))
    server.serve("/article/1", Reply(body=page("pubmed.html"), headers=HTML))
    settings = configure(settings, server, "/feed", enrich_max_pages=1)
    first = await gather(db, settings, clock)
    assert first.enrichment is not None
    assert (first.enrichment.read, first.enrichment.deferred) == (1, 1)
    assert "/story/older" not in server.paths(), "the newest entry first"
    assert not (await story_of(db, "c1")).relevant, "judged on its teaser for now"
    second = await gather(db, settings, clock, force=True)
    assert second.enrichment is not None and second.enrichment.read == 1
    assert (await story_of(db, "c1")).relevant, "judged again on its page"


async def test_one_request_at_a_time_per_host(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    items = [(f"n{n}", f"CAR-T cells in lupus, report {n}", "E", f"/n/{n}") for n in range(4)]
    server.serve("/feed", Reply(body=rss(server, *items)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    for _, _, _, path in items:
        server.serve(path, Reply(body=page("news.html"), headers=HTML, delay=0.2))
    settings = configure(settings, server, "/feed")
    await ingest(db, settings, clock)
    server.most_in_flight = 0
    report = await enrich_thin_entries(db, settings.fetch, knowledge(2.0).lexicon, clock)
    assert report.read == 4
    assert server.most_in_flight == 1


async def test_a_page_that_is_not_html_is_not_parsed(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T)))
    server.serve("/robots.txt", ROBOTS_OPEN)
    pdf = {"Content-Type": "application/pdf"}
    server.serve("/article/1", Reply(body=b"%PDF-1.7 " + page("pubmed.html"), headers=pdf))
    report = await gather(db, configure(settings, server, "/feed"), clock)
    assert report.enrichment is not None
    assert "not an HTML page" in dict(report.enrichment.failed)[f"{server.base_url}/article/1"]
    assert (await stored(db))["a1"].landing_text == ""


async def test_curation_reads_the_page_text_it_was_given(
    db: Database, settings: Settings, clock: Clock, server: Server
) -> None:
    """Curate on its own (not through gather) sees the stored landing text."""
    server.serve("/feed", Reply(body=rss(server, THIN_CAR_T)))
    settings = configure(settings, server, "/feed")
    await ingest(db, settings, clock)
    async with db.session() as session:
        entry = await session.scalar(select(Entry).where(Entry.guid == "a1"))
        assert entry is not None
        entry.landing_text = "Twelve patients with myasthenia gravis received CAR T cells."
    report = await curate_new_entries(db, knowledge(2.0), clock)
    assert len(report.kept) == 1
    assert "myasthenia gravis" in (await story_of(db, "a1")).diseases


def test_reading_pages_is_on_unless_turned_off() -> None:
    options = FetchSettings()
    assert options.enrich_thin_entries and options.enrich_max_pages > 0
