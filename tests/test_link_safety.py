"""A hostile feed, end to end: no script scheme and no live markup reaches any reader.

The feed's entries carry every link trick a browser falls for (case, tabs, control
characters, entities, data: and vbscript:) as their <link> and inside their HTML, and
titles escaped twice, so that one more unescape would make them markup. They go
through fetch, draft, ``carnews edition show``, approve, send (a real SMTP server;
sending publishes) and the web app; every mail, page and feed is then read the way a mail
client, a browser or a feed reader would (feedparser without its sanitizer, the
standard library's HTML parser) and every href and src must be http or https.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carnews.clock import Clock, fixed_clock
from carnews.demo.servers import feed_server
from carnews.editions.publish import build_feed
from carnews.editions.render import (
    UNSUBSCRIBE_PLACEHOLDER,
    EditionView,
    StoryView,
    build_view,
    render,
    render_email,
)
from carnews.editions.review import approve, draft_edition, load_edition, submit_for_review
from carnews.editions.views import edition_view
from carnews.errors import ConfigError
from carnews.jobs import GatherReport, draft, gather, send_due
from carnews.mail.message import unsubscribe_url
from carnews.settings import Secret, Settings, SiteSettings, load_settings
from carnews.storage import Database, open_database
from carnews.storage.models import Entry, Story
from carnews.web.app import create_app
from tests.conftest import NOW
from tests.helpers import add_stories, inbox, smtp_server, subscribe

# One worker runs this module, so its module-scoped pipeline runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("link_safety")

SECRET = {"CARNEWS_SITE_SECRET_KEY": "link-safety-secret"}

# The value each entry's <link> holds once the XML is parsed.
LINK_TRICKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(document.domain)",
    "java\tscript:alert(document.domain)",
    " java\nscript:alert(document.domain)",
    "&#106;avascript:alert(document.domain)",
    "&#x6A;avascript:alert(document.domain)",
    "javascript&colon;alert(document.domain)",
    "javascript&#58;alert(document.domain)",
    "&amp;#106;avascript:alert(document.domain)",
    "data:text/html,<script>alert(document.domain)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]
# Links that must survive: resolved against the feed's URL, as a browser would.
GOOD_LINKS = ["/news/2026/oslo-lupus-follow-up", "//mirror.example/madrid-myositis-registry"]
# The same tricks inside the entry's HTML, where the HTML parser decodes one level more.
BODY_TRICKS = [*LINK_TRICKS, "java&#9;script:alert(1)", "&#38;#106;avascript:alert(1)"]
# Titles that are plain text once parsed, and markup after one more unescape.
TITLE_TRICKS = [
    "&lt;script&gt;alert(document.domain)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(document.domain)&gt;",
    "&lt;a href=&quot;javascript:alert(1)&quot;&gt;more&lt;/a&gt;",
    "[link=javascript:alert(document.domain)]terminal link[/link]",  # Rich console markup
]
# (title, disease, city): distinct enough that no two are taken for one story.
STORIES = [
    ("Erlangen doctors report lupus remission after CD19 CAR-T infusion", "lupus", "Erlangen"),
    ("Scleroderma skin thickening eased in Lyon CAR-T case series", "scleroderma", "Lyon"),
    ("Dermatomyositis muscle strength recovers in Turin cell therapy study", "dermatomyositis",
     "Turin"),
    ("Leeds rheumatoid arthritis patients trial engineered T cells", "rheumatoid arthritis",
     "Leeds"),
    ("Myasthenia gravis symptoms fade in Utrecht CAR-T pilot", "myasthenia gravis", "Utrecht"),
    ("Kidney function improves for Porto lupus nephritis CAR-T recipients", "lupus nephritis",
     "Porto"),
    ("Antisynthetase syndrome lung disease stabilises after Ghent CAR-T treatment",
     "antisynthetase syndrome", "Ghent"),
    ("Basel group describes CAR-T rescue for severe systemic sclerosis", "systemic sclerosis",
     "Basel"),
    ("Aarhus polymyositis cohort stops steroids following CAR-T", "polymyositis", "Aarhus"),
    ("Krakow hospital opens CAR-T programme for systemic lupus erythematosus",
     "systemic lupus erythematosus", "Krakow"),
    ("Necrotising myopathy responds to CD19 CAR-T in Bergen report", "necrotising myopathy",
     "Bergen"),
    ("Graz clinicians try CAR-T in refractory lupus with skin disease", "refractory lupus",
     "Graz"),
    ("Oslo team follows lupus patients two years after CAR-T", "lupus", "Oslo"),
    ("Madrid registry tracks myositis outcomes after CAR-T cell therapy", "myositis", "Madrid"),
]  # fmt: skip
LINKS = [*LINK_TRICKS, *GOOD_LINKS]


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _story(number: int) -> tuple[str, str]:
    """One entry's title and HTML body, with their tricks."""
    title, disease, city = STORIES[number]
    if number < len(TITLE_TRICKS):
        title += " " + TITLE_TRICKS[number]
    trick = BODY_TRICKS[number % len(BODY_TRICKS)]
    other = BODY_TRICKS[(number + 5) % len(BODY_TRICKS)]
    body = (
        f"<p>Doctors in {city} treated {4 + number} adults with {disease} using CD19 CAR-T cells "
        "after standard treatment failed. All stopped their immunosuppressants within months "
        f'and side effects were mild. <a href="{_attribute(trick)}">Study page</a> '
        f'<img src="{_attribute(other)}" alt="chart"></p>'
        '<p onclick="alert(1)">The hospital plans a larger trial next year.</p>'
    )
    return title, body


def _rss_item(number: int, link: str) -> str:
    title, body = _story(number)
    return (
        f"<item><title>{escape(title)}</title>"
        f"<link>{escape(link, {chr(9): '&#9;', chr(10): '&#10;'})}</link>"
        f"<guid isPermaLink='false'>hostile-rss-{number}</guid>"
        f"<pubDate>{12 + number % 7} Nov 2026 09:00:00 GMT</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )


def _atom_entry(number: int, link: str) -> str:
    title, body = _story(number)
    href = escape(link, {'"': "&quot;", chr(9): "&#9;", chr(10): "&#10;"})
    return (
        f"<entry><id>hostile-atom-{number}</id><title type='text'>{escape(title)}</title>"
        f'<link rel="alternate" href="{href}"/>'
        f"<updated>2026-11-{12 + number % 7}T09:00:00Z</updated>"
        f"<content type='html'>{escape(body)}</content></entry>"
    )


def hostile_rss() -> str:
    """RSS: feedparser decodes a <link>'s entities once more, so its tricks arrive mangled."""
    items = "".join(_rss_item(number, link) for number, link in enumerate(LINKS))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Hostile News</title><link>https://hostile.example/</link>"
        f"<description>Every trick</description>{items}</channel></rss>"
    )


def hostile_atom() -> str:
    """Atom: an href arrives exactly as written, so every trick reaches carnews intact."""
    entries = "".join(_atom_entry(number, link) for number, link in enumerate(LINKS))
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Hostile Atom</title><id>urn:hostile</id><updated>2026-11-19T09:00:00Z</updated>"
        f"{entries}</feed>"
    )


# --- reading artefacts as a browser would ------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "srcset",
                  "xlink:href", "data", "cite", "ping"}  # fmt: skip
# <form> is not here: the unsubscribe page has one, and its action is checked like any URL.
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "base", "meta"}
C0_OR_SPACE = "".join(chr(code) for code in range(0x21))


def browser_scheme_is_web(value: str) -> bool:
    """What a browser does before it looks at a scheme: trim, drop tabs and newlines."""
    url = re.sub(r"[\t\n\r]", "", value.strip(C0_OR_SPACE)).lower()
    return url.startswith(("http://", "https://"))


class Audit(HTMLParser):
    """Every element, event handler and URL attribute a browser would act on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # attribute values arrive decoded, as in a DOM
        self.problems: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS and not (tag == "meta" and _harmless_meta(attrs)):
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}={value!r} on <{tag}>")
            if name in URL_ATTRIBUTES:
                self.urls.append(value or "")
                if not browser_scheme_is_web(value or ""):
                    self.problems.append(f"<{tag} {name}={value!r}>")


def _harmless_meta(attrs: list[tuple[str, str | None]]) -> bool:
    return {name for name, _ in attrs} <= {"charset", "name", "content"}


def audit_html(markup: str, where: str) -> list[str]:
    """The URLs in ``markup``; fails on any active element, handler or non-web URL."""
    audit = Audit()
    audit.feed(markup)
    audit.close()
    assert not audit.problems, f"{where}: {audit.problems}"
    return audit.urls


TEXT_LINK = re.compile(r"^(?:Read more|Read on the web|Unsubscribe): *(\S*)", re.MULTILINE)


def text_links(text: str) -> list[str]:
    """The links a plain-text email offers; a mail client makes each one clickable."""
    links = TEXT_LINK.findall(text)
    assert all(browser_scheme_is_web(link) for link in links), links
    return links


def audit_feed(data: bytes, where: str) -> feedparser.FeedParserDict:
    """A naive feed reader: no sanitizer, every text/html value used as HTML."""
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    assert not parsed.bozo, f"{where}: {parsed.get('bozo_exception')}"
    assert parsed.entries, f"{where}: no entries"
    for link in [parsed.feed.get("link", ""), *(x["href"] for x in parsed.feed.get("links", []))]:
        assert browser_scheme_is_web(link), f"{where}: feed link {link!r}"
    for entry in parsed.entries:
        for link in [entry.get("link", ""), *(x["href"] for x in entry.get("links", []))]:
            assert browser_scheme_is_web(link), f"{where}: entry link {link!r}"
        details = [entry.get("summary_detail"), *entry.get("content", [])]
        for detail in filter(None, details):
            if "html" in detail["type"]:
                audit_html(detail["value"], f"{where} {detail['type']} of {entry.get('id')}")
    return parsed


# --- the pipeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    directory: Path
    settings: Settings
    gathered: GatherReport
    edition_id: int
    shown: str
    shown_json: str
    mail: list[EmailMessage]


def carnews(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it, in a colour terminal (so markup would become links)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CARNEWS_")}
    environment.update({"COLUMNS": "200", "FORCE_COLOR": "1", "TERM": "xterm-256color", **SECRET})
    return subprocess.run([sys.executable, "-m", "carnews", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip


def write_config(directory: Path, feed_url: str, smtp_port: int) -> Path:
    config = directory / "carnews.toml"
    config.write_text(
        f"[site]\nbase_url = 'https://news.test'\n"
        f"[database]\nurl = 'sqlite+aiosqlite:///{directory / 'carnews.db'}'\n"
        f"[edition]\nlookback_days = 30\nmax_stories = 25\n"
        f"[smtp]\nhost = '127.0.0.1'\nport = {smtp_port}\n"
        f"[publish]\ndir = '{directory / 'public'}'\n"
        f"[[sources]]\nname = 'Hostile RSS'\nurl = '{feed_url}/hostile.xml'\n"
        f"[[sources]]\nname = 'Hostile Atom'\nurl = '{feed_url}/hostile.atom'\n"
    )
    return config


async def _pipeline(settings: Settings, directory: Path) -> tuple[GatherReport, int, str, str]:
    clock = fixed_clock(NOW)
    db = await open_database(settings.database.url)
    try:
        gathered = await gather(db, settings, clock, force=True)
        drafted = await draft(db, settings, clock, actor="editor")
        assert drafted.edition_id is not None, drafted.reason
        edition = drafted.edition_id
        shown = carnews(directory, "edition", "show", str(edition)).stdout
        shown_json = carnews(directory, "edition", "show", str(edition), "--json").stdout
        await submit_for_review(db, clock, edition, "editor")
        await approve(db, clock, edition, "editor")
        await subscribe(db, clock, "reader@example.org")
        sent = await send_due(db, settings, clock, edition, actor="editor")
        assert sent.report is not None and sent.report.sent == 1
        assert sent.published, "a finished send publishes the feeds and archive"
    finally:
        await db.close()
    return gathered, edition, shown, shown_json


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    directory = tmp_path_factory.mktemp("hostile")
    feeds = directory / "feeds"
    feeds.mkdir()
    (feeds / "hostile.xml").write_text(hostile_rss(), encoding="utf-8")
    (feeds / "hostile.atom").write_text(hostile_atom(), encoding="utf-8")
    with feed_server(feeds) as feed_url, smtp_server(directory / "mail") as port:
        settings = load_settings(write_config(directory, feed_url, port), environ=SECRET)
        gathered, edition, shown, shown_json = asyncio.run(_pipeline(settings, directory))
    yield Run(directory, settings, gathered, edition, shown, shown_json, inbox(directory / "mail"))


# --- what every reader gets ---------------------------------------------------------------


def test_every_hostile_entry_became_a_story_in_the_edition(run: Run) -> None:
    """Guards the other tests: they must not pass because the hostile entries were lost."""
    assert [s.new for s in run.gathered.sources] == [len(LINKS), len(LINKS)]
    shown = json.loads(run.shown_json)
    # The source's own title is the text of the link to it; the headline is the card's.
    titles = " ".join(story["source_title"] for story in shown["edition"]["stories"])
    assert len(shown["edition"]["stories"]) == len(LINKS)
    assert "<script>alert(document.domain)</script>" in titles, "a title is plain text"


def test_dropped_links_are_recorded_for_the_operator(run: Run) -> None:
    rss, atom = sorted(run.gathered.sources, key=lambda source: source.name, reverse=True)
    assert atom.unsafe_links == len(LINK_TRICKS), "every trick arrives intact in Atom"
    assert rss.unsafe_links >= len(LINK_TRICKS) - 3, "feedparser defuses a few on its own"
    for source in (rss, atom):
        assert "not http or https" in source.warnings[0]


def test_nothing_stored_links_anywhere_but_the_web(run: Run) -> None:
    async def stored() -> tuple[list[Entry], list[Story]]:
        db = await open_database(run.settings.database.url)
        try:
            async with db.session() as session:
                entries = list((await session.scalars(select(Entry))).all())
                stories = list((await session.scalars(select(Story))).all())
                return entries, stories
        finally:
            await db.close()

    entries, stories = asyncio.run(stored())
    assert len(entries) == 2 * len(LINKS)
    for row in [*entries, *stories]:
        assert row.link is None or browser_scheme_is_web(row.link), row.link
    for entry in entries:
        urls = audit_html(entry.clean_html, f"clean_html of {entry.guid}")
        assert all(browser_scheme_is_web(url) for url in urls)


def test_the_email_carries_no_script_scheme_and_no_live_markup(run: Run) -> None:
    (message,) = run.mail
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html = str(html_part.get_content())
    urls = audit_html(html, "email HTML")
    assert any("/unsubscribe/" in url for url in urls)
    assert "&lt;script&gt;alert(document.domain)&lt;/script&gt;" in html, "shown, as text"
    text = str(text_part.get_content())
    text_links(text)
    feed_folder = run.settings.sources[0].url.rsplit("/", 1)[0]
    read_more = re.findall(r"^Read more: (\S*)", text, re.MULTILINE)
    assert {f"{feed_folder}/news/2026/oslo-lupus-follow-up",
            "http://mirror.example/madrid-myositis-registry"} <= set(read_more)  # fmt: skip
    for target in re.findall(r"<([^>]*)>", str(message["List-Unsubscribe"])):
        assert browser_scheme_is_web(target) or target.startswith("mailto:"), target


def test_published_pages_and_feeds_are_safe(run: Run) -> None:
    public = run.directory / "public"
    for page in [public / "index.html", *sorted((public / "editions").glob("*.html"))]:
        audit_html(page.read_text(encoding="utf-8"), str(page.name))
    for name in ("feed.xml", "atom.xml"):
        audit_feed((public / name).read_bytes(), name)


def test_served_pages_and_feeds_are_safe(run: Run) -> None:
    (message,) = run.mail  # the reader's own link, as their mail carries it
    found = re.search(r"/unsubscribe/([^>\s]+)>", str(message["List-Unsubscribe"]))
    assert found is not None
    token = found[1]
    with TestClient(create_app(run.settings, clock=fixed_clock(NOW))) as client:
        for path in ("/", f"/editions/{run.edition_id}.html", f"/unsubscribe/{token}"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            audit_html(answer.text, path)
        for path in ("/feed.xml", "/atom.xml"):
            audit_feed(client.get(path).content, path)


def test_the_feed_description_is_escaped_text(run: Run) -> None:
    """RSS readers treat <description> and the content as HTML: a source's title (the text
    of the link to it on each card) must reach them as text."""
    parsed = audit_feed((run.directory / "public" / "feed.xml").read_bytes(), "feed.xml")
    (item,) = parsed.entries
    assert "<script" not in item.summary
    assert "&lt;script&gt;alert(document.domain)&lt;/script&gt;" in item.content[0].value


OSC8_LINK = re.compile(r"\x1b\]8;[^;]*;([^\x1b\x07]*)")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours: the highlighter paints inside plain text


def test_edition_show_prints_titles_as_text_not_terminal_links(run: Run) -> None:
    targets = [target for target in OSC8_LINK.findall(run.shown) if target]
    assert all(browser_scheme_is_web(target) for target in targets), targets
    shown = SGR.sub("", run.shown)
    assert "[link=javascript:alert(document.domain)]terminal link[/link]" in shown
    for story in json.loads(run.shown_json)["edition"]["stories"]:
        assert story["link"] is None or browser_scheme_is_web(story["link"])


# --- links stored before they were checked: every render door still refuses them -----------

STORED_TRICKS = ["javascript:alert(1)", "java\tscript:alert(1)", "&#106;avascript:alert(1)",
                 "data:text/html,<script>alert(1)</script>", "/relative/only"]  # fmt: skip


def hostile_view(link: str) -> EditionView:
    story = StoryView(story_id=1, headline="<script>alert(1)</script>", summary="Summary.",
                      what_it_means="Means.", link=link, published_at=NOW, diseases=("lupus",),
                      evidence="case series", sources=("Hostile",))  # fmt: skip
    return build_view(edition_id=1, title="Issue 1", intro="Hello.", date=NOW, site_title="S",
                      base_url="https://news.test", stories=[story])  # fmt: skip


@pytest.mark.parametrize("link", STORED_TRICKS)
def test_templates_and_feeds_leave_out_a_link_that_is_not_http(link: str) -> None:
    """The view is built by hand, as a template override or an old row would give it."""
    view = hostile_view(link)
    email = render_email(view)
    urls = audit_html(email.html, "email")
    assert UNSUBSCRIBE_PLACEHOLDER in urls, "the placeholder passes the filter, to be spliced"
    text_links(email.text)
    assert "Read more" not in email.text
    audit_html(render("publish/edition.html", edition=view), "archive page")
    feed = build_feed([view], SiteSettings(base_url="https://news.test"), author="carnews")
    audit_feed(feed.rss_str(), "rss")
    audit_feed(feed.atom_str(), "atom")


async def test_a_story_stored_with_a_script_link_is_shown_without_it(
    db: Database, clock: Clock
) -> None:
    (story_id,) = await add_stories(db, NOW, [("CAR-T in lupus", ["lupus"])])
    async with db.session() as session:
        (await session.get_one(Story, story_id)).link = "JAVASCRIPT:alert(1)"
    drafted = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="N",
                                  actor="editor")  # fmt: skip
    async with db.session() as session:
        edition = await load_edition(session, drafted.edition_id or 0)
        view = await edition_view(session, edition, base_url="https://news.test", site_title="S")
    assert [story.link for story in view.stories] == [None]


def test_a_base_url_that_is_not_http_stops_mail_and_feeds() -> None:
    settings = Settings(site=SiteSettings(base_url="javascript:alert(1)//", secret_key=Secret("k")))
    with pytest.raises(ConfigError, match=r"site\.base_url"):
        unsubscribe_url(settings.site, "a-readers-token")
    with pytest.raises(ConfigError, match=r"site\.base_url"):
        build_feed([], settings.site, author="carnews")
