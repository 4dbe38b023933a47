"""Fetch against a real HTTP server on loopback: what a source sends, carnews copes with."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import carnews.demo
from carnews.demo.servers import feed_server, free_port
from carnews.gather.fetch import FetchRequest, FetchResult, build_entry, fetch, parse_feed
from carnews.gather.http import make_client
from tests.scripted_http import Reply, Server, scripted_server

CONTACT = "https://carnews.example/about"
DEMO_FEEDS = Path(carnews.demo.__file__).parent / "feeds"


@pytest.fixture
def server() -> Iterator[Server]:
    with scripted_server() as state:
        yield state


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(contact_url=CONTACT, timeout=5.0, connect_timeout=2.0) as client:
        yield client


async def get(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 1_000_000,
    total_timeout: float = 5.0,
) -> FetchResult:
    request = FetchRequest(url, etag, last_modified)
    return await fetch(client, request, max_bytes=max_bytes, total_timeout=total_timeout)


# --- feeds -----------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
  <title>Rheum News</title>
  <link>https://rheum.example/</link>
  <description>News</description>
  <item>
    <title>CAR-T &amp; lupus: &lt;b&gt;five&lt;/b&gt; patients in remission</title>
    <link>https://rheum.example/news/car-t-lupus?utm_source=rss&amp;id=5</link>
    <guid isPermaLink="false">rheum-1</guid>
    <pubDate>Thu, 19 Nov 2026 14:30:00 +0100</pubDate>
    <description>&lt;p onclick="steal()"&gt;Five people with lupus were treated.&lt;/p&gt;
      &lt;script&gt;alert(1)&lt;/script&gt;
      &lt;p&gt;Read &lt;a href="/papers/7"&gt;the paper&lt;/a&gt;, doi:10.1000/rheum.7.&lt;/p&gt;
    </description>
  </item>
  <item>
    <title>Myositis trial opens</title>
    <link>https://rheum.example/news/myositis</link>
    <guid>https://rheum.example/news/myositis</guid>
    <pubDate>Wed, 18 Nov 2026 08:00:00 GMT</pubDate>
    <description>A phase 1 trial, NCT05930314, is recruiting.</description>
  </item>
</channel>
</rss>
"""
RSS_TYPE = {"Content-Type": "application/rss+xml"}


async def test_a_normal_feed_gives_clean_entries(server: Server, client: httpx.AsyncClient) -> None:
    url = server.serve("/feed.xml", Reply(body=RSS, headers=RSS_TYPE))

    result = await get(client, url)

    assert result.outcome == "ok", result.error
    assert result.http_status == 200
    assert result.error is None
    assert result.final_url == url
    first, second = result.entries
    assert first.title == "CAR-T & lupus: five patients in remission"
    assert first.link == "https://rheum.example/news/car-t-lupus?id=5"
    assert first.guid == "rheum-1"
    assert first.published_at == datetime(2026, 11, 19, 13, 30, tzinfo=UTC)
    assert first.published_at.utcoffset() == timedelta(0)
    assert "<script" not in first.clean_html and "alert" not in first.clean_html
    assert "onclick" not in first.clean_html
    assert 'href="https://rheum.example/papers/7"' in first.clean_html
    assert first.text.startswith("Five people with lupus were treated.\n\nRead the paper")
    assert first.identifiers.doi == "10.1000/rheum.7"
    assert second.title == "Myositis trial opens"
    assert second.published_at == datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    assert second.identifiers.nct == "NCT05930314"


async def test_validators_are_sent_back_byte_for_byte_and_304_means_not_modified(
    server: Server, client: httpx.AsyncClient
) -> None:
    etag = 'W/"5e1f-3a9c+x/Yz=="'
    last_modified = "Thu, 19 Nov 2026 13:31:07 GMT"
    url = server.serve(
        "/feed.xml",
        Reply(body=RSS, headers={**RSS_TYPE, "ETag": etag, "Last-Modified": last_modified}),
        Reply(304, headers={"ETag": etag}),
    )

    first = await get(client, url)
    assert first.outcome == "ok"
    assert (first.etag, first.last_modified) == (etag, last_modified)
    assert "If-None-Match" not in server.received[0].headers

    second = await get(client, url, etag=first.etag, last_modified=first.last_modified)

    sent = server.received[1].headers
    assert sent["If-None-Match"] == etag
    assert sent["If-Modified-Since"] == last_modified
    assert second.outcome == "not_modified"
    assert second.http_status == 304
    assert second.entries == ()
    assert second.error is None
    assert (second.etag, second.last_modified) == (etag, last_modified)


@pytest.mark.parametrize("status", [404, 410, 500, 503])
async def test_http_errors_are_error_results(
    server: Server, client: httpx.AsyncClient, status: int
) -> None:
    url = server.serve("/feed.xml", Reply(status, b"<html>oops</html>"))

    result = await get(client, url)

    assert result.outcome == "error"
    assert result.http_status == status
    assert f"HTTP {status}" in (result.error or "")
    assert result.entries == ()


async def test_a_missing_feed_says_http_404(server: Server, client: httpx.AsyncClient) -> None:
    result = await get(client, server.base_url + "/moved-away.xml")

    assert result.outcome == "error"
    assert result.error == "HTTP 404"


async def test_a_server_that_never_answers_is_given_up_on_in_time(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve("/slow.xml", Reply(body=RSS, delay=10))

    # A hang bound, not a timing: the server answers after 10 s, so finishing within 8 s
    # proves the client gave up on its own (its reason names the 0.5 s).
    async with asyncio.timeout(8):
        result = await get(client, url, total_timeout=0.5)

    assert result.outcome == "error"
    assert "0.5 s" in (result.error or "")


async def test_a_body_that_trickles_forever_is_given_up_on_in_time(
    server: Server, client: httpx.AsyncClient
) -> None:
    """Each chunk arrives well within the read timeout; only the total timeout ends it."""
    url = server.serve("/drip.xml", Reply(headers=RSS_TYPE, endless=True, drip=0.05))

    # A hang bound: without the total timeout the drip would never end.
    async with asyncio.timeout(8):
        result = await get(client, url, total_timeout=0.5)

    assert result.outcome == "error"
    assert "0.5 s" in (result.error or "")


async def test_an_endless_body_is_cut_off_at_the_size_cap(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve("/huge.xml", Reply(headers=RSS_TYPE, endless=True))

    async with asyncio.timeout(10):  # a hang bound: an uncapped read would never end
        result = await get(client, url, max_bytes=200_000)

    assert result.outcome == "error"
    assert "200000-byte cap" in (result.error or "")


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(
        "/huge.xml", Reply(headers={**RSS_TYPE, "Content-Length": "50000000"}, endless=True)
    )

    result = await get(client, url, max_bytes=100_000)

    assert result.outcome == "error"
    assert "50000000 bytes" in (result.error or "")
    assert "100000-byte cap" in (result.error or "")


async def test_a_gzipped_feed_is_parsed(server: Server, client: httpx.AsyncClient) -> None:
    url = server.serve("/feed.xml", Reply(body=RSS, headers=RSS_TYPE, gzip=True))

    result = await get(client, url)

    assert result.outcome == "ok", result.error
    assert [entry.title for entry in result.entries] == [
        "CAR-T & lupus: five patients in remission",
        "Myositis trial opens",
    ]


async def test_the_size_cap_applies_to_the_unzipped_body(
    server: Server, client: httpx.AsyncClient
) -> None:
    bomb = RSS.replace(b"</channel>", b"<!--" + b" " * 2_000_000 + b"--></channel>")
    url = server.serve("/bomb.xml", Reply(body=bomb, headers=RSS_TYPE, gzip=True))

    result = await get(client, url, max_bytes=500_000)

    assert result.outcome == "error"
    assert "500000-byte cap" in (result.error or "")


LATIN1_RSS = """<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0"><channel><title>Actualités</title><link>https://sante.example/</link>
<description>Santé</description>
<item><title>Thérapie CAR-T : rémission durable</title>
<link>https://sante.example/car-t</link><guid>sante-1</guid>
<description>Une étude menée à l'hôpital Cochin.</description></item>
</channel></rss>
""".encode("iso-8859-1")


@pytest.mark.parametrize(
    "content_type", ["application/rss+xml", "application/xml", "text/xml", None]
)
async def test_a_feed_in_iso_8859_1_is_decoded_from_its_xml_prolog(
    server: Server, client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    url = server.serve("/latin1.xml", Reply(body=LATIN1_RSS, headers=headers))

    result = await get(client, url)

    assert result.outcome == "ok", result.error
    (entry,) = result.entries
    assert entry.title == "Thérapie CAR-T : rémission durable"
    assert entry.text == "Une étude menée à l'hôpital Cochin."


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\xff\xfe\x13\x8b binary junk \x00\x01\x02" * 20,
        b"<!doctype html><html><head><title>Welcome</title></head><body>Hi</body></html>",
        b"",
    ],
    ids=["garbage", "html-page", "empty"],
)
async def test_what_is_not_a_feed_is_an_error_saying_so(
    server: Server, client: httpx.AsyncClient, body: bytes
) -> None:
    url = server.serve("/feed.xml", Reply(body=body, headers={"Content-Type": "text/html"}))

    result = await get(client, url)

    assert result.outcome == "error"
    assert "not a feed" in (result.error or "")
    assert result.entries == ()


async def test_the_user_agent_names_carnews_and_its_contact(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve("/feed.xml", Reply(body=RSS, headers=RSS_TYPE))

    await get(client, url)

    user_agent = server.received[0].headers["User-Agent"]
    assert "carnews/" in user_agent
    assert CONTACT in user_agent
    assert "application/rss+xml" in server.received[0].headers["Accept"]


async def test_a_repeated_guid_still_gives_both_entries(
    server: Server, client: httpx.AsyncClient
) -> None:
    twice = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><guid>same</guid><title>First telling</title><description>One.</description></item>
    <item><guid>same</guid><title>Second telling</title><description>Two.</description></item>
    </channel></rss>"""
    url = server.serve("/feed.xml", Reply(body=twice, headers=RSS_TYPE))

    result = await get(client, url)

    assert result.outcome == "ok"
    assert [(e.guid, e.title) for e in result.entries] == [
        ("same", "First telling"),
        ("same", "Second telling"),
    ]


async def test_a_redirect_is_followed_and_the_new_address_reported(
    server: Server, client: httpx.AsyncClient
) -> None:
    new_url = server.serve("/new/feed.xml", Reply(body=RSS, headers=RSS_TYPE))
    old_url = server.serve("/old.xml", Reply(301, headers={"Location": "/new/feed.xml"}))

    result = await get(client, old_url)

    assert result.outcome == "ok"
    assert result.url == old_url
    assert result.final_url == new_url
    assert len(result.entries) == 2


async def test_nobody_listening_is_an_error_not_a_crash(client: httpx.AsyncClient) -> None:
    result = await get(client, f"http://127.0.0.1:{free_port()}/feed.xml")

    assert result.outcome == "error"
    assert "ConnectError" in (result.error or "")
    assert result.http_status is None


# --- the demo's feed server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_base_url() -> Iterator[str]:
    with feed_server(DEMO_FEEDS) as base_url:
        yield base_url


@pytest.mark.parametrize("name", ["clinicaltrials.xml", "medrxiv.rdf", "news.xml", "pubmed.xml"])
async def test_demo_feed_server_serves_every_sample_feed(
    client: httpx.AsyncClient, demo_base_url: str, name: str
) -> None:
    result = await get(client, f"{demo_base_url}/{name}")

    assert result.outcome == "ok", result.error
    assert len(result.entries) >= 6
    assert all(entry.title and entry.title != "(untitled)" for entry in result.entries)
    assert all(entry.clean_html for entry in result.entries)
    assert all(
        entry.published_at is None or entry.published_at.tzinfo is UTC for entry in result.entries
    )


def test_demo_feed_folder_holds_the_four_sample_feeds() -> None:
    assert sorted(path.name for path in DEMO_FEEDS.iterdir() if path.is_file()) == [
        "clinicaltrials.xml",
        "medrxiv.rdf",
        "news.xml",
        "pubmed.xml",
    ]


# --- links: http(s) or nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
     "\x01javascript:alert(1)", "&#106;avascript:alert(1)", "javascript&colon;alert(1)",
     "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)"],
)  # fmt: skip
def test_an_entry_link_that_is_not_http_is_dropped_and_kept_aside(link: str) -> None:
    entry = build_entry(guid="g1", link=link, title="CAR-T in lupus", body="<p>Text</p>",
                        published_at=None, base_url="https://rheum.example/feed.xml")  # fmt: skip

    assert entry.link is None
    assert entry.unsafe_link == link.strip()
    assert entry.title == "CAR-T in lupus" and entry.text == "Text", "the entry itself stays"


def test_a_relative_entry_link_is_resolved_against_the_feed() -> None:
    feed = "https://rheum.example/feeds/all.xml"
    entry = build_entry(guid=None, link=" /news/7?utm_source=rss ", title="t", body="",
                        published_at=None, base_url=feed)  # fmt: skip

    assert entry.link == "https://rheum.example/news/7"
    assert entry.unsafe_link is None


def test_an_atom_link_carrying_a_trick_never_becomes_the_entrys_link() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><id>1</id><title>a</title><link href="java&#9;script:alert(1)"/></entry>'
        b'<entry><id>2</id><title>b</title><link href="&amp;#x6A;avascript:alert(1)"/></entry>'
        b'<entry><id>3</id><title>c</title><link href="//mirror.example/c"/></entry></feed>'
    )

    parsed = parse_feed(atom, "https://rheum.example/atom.xml")

    assert [entry.link for entry in parsed.entries] == [None, None, "https://mirror.example/c"]
    assert [entry.unsafe_link for entry in parsed.entries] == [
        "java\tscript:alert(1)", "&#x6A;avascript:alert(1)", None,
    ]  # fmt: skip


# --- parsing off the event loop ---------------------------------------------------------------

LOOP_HANG_BOUND = 2.0  # seconds the loop may go without a turn; parsing inline took ~15 s


def nested_feed(depth: int) -> bytes:
    body = "<div>" * depth + "deep text" + "</div>" * depth
    item = (f"<item><guid>deep</guid><title>Deep</title><link>https://news.test/deep</link>"
            f"<description><![CDATA[{body}]]></description></item>")  # fmt: skip
    channel = f"<channel><title>t</title>{item}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


async def test_the_event_loop_keeps_turning_while_a_body_is_parsed(
    server: Server, client: httpx.AsyncClient
) -> None:
    """The loop also serves the web app and the other sources: parsing never holds it.

    The body is under 512 KB, the size below which feeds used to be parsed inline.
    """
    feed = nested_feed(45_000)
    assert len(feed) < 512 * 1024
    url = server.serve("/deep", Reply(body=feed, headers=RSS_TYPE))
    loop = asyncio.get_running_loop()
    turns = [loop.time()]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.01)
            turns.append(loop.time())

    ticker = asyncio.create_task(tick())
    try:
        result = await get(client, url)
    finally:
        ticker.cancel()
    turns.append(loop.time())  # a parse that held the loop ends the longest gap right here
    gaps = [later - earlier for earlier, later in itertools.pairwise(turns)]
    assert result.outcome == "ok" and result.entries[0].text == "deep text"
    assert max(gaps) < LOOP_HANG_BOUND
