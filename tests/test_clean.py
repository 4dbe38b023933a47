"""Clean: what a reader gets from a feed entry's HTML is safe, tidy and untracked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carnews.gather.clean import clean, html_to_text, plain_title, sanitize, strip_tracking
from carnews.gather.fetch import parse_feed

SANITIZE_CORPUS = Path(__file__).resolve().parent / "corpora/feeds/feedparser/wellformed/sanitize"
BASE = "https://journal.example/articles/42/"
TAG = re.compile(r"<[^>]*>")


@pytest.mark.parametrize(
    "element",
    [
        "<script>alert('boom')</script>",
        "<style>body { display: none }</style>",
        "<iframe src='https://evil.example/'>frame text</iframe>",
        "<form action='https://evil.example/'>form text<input name='x'></form>",
        "<object data='x.swf'>object text</object>",
        "<embed src='x.swf'>",
        "<meta http-equiv='refresh' content='0;url=https://evil.example/'>",
    ],
)
def test_dangerous_elements_are_removed_with_their_content(element: str) -> None:
    safe = sanitize(f"<p>Before</p>{element}<p>After</p>")

    assert safe == "<p>Before</p><p>After</p>"


def test_script_text_never_reaches_the_plain_text() -> None:
    content = clean("<p>Trial news</p><script>var tracker = 1;</script><style>p{}</style>")

    assert content.text == "Trial news"


@pytest.mark.parametrize("handler", ["onclick", "onerror", "onload", "onmouseover", "ONFOCUS"])
def test_event_handlers_are_removed(handler: str) -> None:
    safe = sanitize(
        f'<p {handler}="steal()">Read <a href="https://a.example/" {handler}="x()">this</a>'
        f'<img src="https://a.example/figure.png" alt="figure" {handler}="x()"></p>'
    )

    assert "steal" not in safe and "x()" not in safe
    assert handler.lower() not in safe.lower()
    assert 'href="https://a.example/"' in safe
    assert 'src="https://a.example/figure.png"' in safe


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ],
)
def test_active_url_schemes_are_removed_from_links_and_images(url: str) -> None:
    safe = sanitize(f'<p><a href="{url}">click</a><img src="{url}" alt="pic"></p>', BASE)

    lowered = safe.lower()
    assert "javascript:" not in lowered and "vbscript:" not in lowered and "data:" not in lowered
    assert "click" in safe  # the link text stays readable
    assert 'alt="pic"' in safe


def test_relative_links_and_images_are_resolved_against_the_base_url() -> None:
    safe = sanitize(
        '<p><a href="../43/">next</a> <a href="/about">about</a>'
        ' <img src="fig1.png" alt="Figure 1"></p>',
        base_url=BASE,
    )

    assert 'href="https://journal.example/articles/43/"' in safe
    assert 'href="https://journal.example/about"' in safe
    assert 'src="https://journal.example/articles/42/fig1.png"' in safe


def test_absolute_links_are_kept_and_other_schemes_lose_only_their_href() -> None:
    """Only http(s) is stored (mailto: too is dropped); the words stay readable."""
    safe = sanitize('<a href="https://other.example/x">x</a> <a href="mailto:ed@ex.org">mail</a>')

    assert 'href="https://other.example/x"' in safe
    assert "mailto:" not in safe and ">mail</a>" in safe


@pytest.mark.parametrize(
    "attribute",
    [
        "java&#9;script:alert(1)",
        "java&#x0A;script:alert(1)",
        "&#1;javascript:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;avascript:alert(1)",
        "&#106avascript:alert(1)",
        "javascript&#58;alert(1)",
        "javascript&colon;alert(1)",
        "&amp;#106;avascript:alert(1)",
        "&amp;#x6A;avascript:alert(1)",
        "javascript&amp;colon;alert(1)",
        "data:image/svg+xml,&lt;svg onload=alert(1)&gt;",
        "VBScript:msgbox(1)",
    ],
)
def test_smuggled_schemes_are_removed_even_one_decode_later(attribute: str) -> None:
    """Written as they appear in an HTML attribute: the parser decodes one level, a reader
    that unescapes the stored HTML again must not find a script scheme either."""
    safe = sanitize(f'<p><a href="{attribute}">click</a><img src="{attribute}" alt="x"></p>', BASE)

    assert "href" not in safe and "src" not in safe
    assert "click" in safe


def test_relative_links_are_dropped_when_there_is_no_base() -> None:
    safe = sanitize('<a href="/about">about</a> <img src="fig.png" alt="fig">')

    assert "href" not in safe and "src" not in safe and "about" in safe


def test_links_are_marked_so_they_cannot_reach_back_into_the_page() -> None:
    safe = sanitize('<a href="https://other.example/x">x</a>')

    assert 'rel="noopener noreferrer nofollow"' in safe


def test_tracking_parameters_are_dropped_and_others_kept() -> None:
    url = (
        "https://news.example/story?id=7&utm_source=rss&utm_medium=feed"
        "&UTM_Campaign=x&fbclid=abc&gclid=def&page=2"
    )

    assert strip_tracking(url) == "https://news.example/story?id=7&page=2"


def test_strip_tracking_leaves_clean_urls_untouched() -> None:
    assert strip_tracking("https://news.example/story") == "https://news.example/story"
    assert (
        strip_tracking("https://news.example/s?q=car-t#top") == "https://news.example/s?q=car-t#top"
    )


def test_tracking_parameters_are_dropped_from_links_in_content() -> None:
    safe = sanitize('<a href="/story?id=7&amp;utm_source=rss&amp;fbclid=zz">story</a>', BASE)

    assert 'href="https://journal.example/story?id=7"' in safe


@pytest.mark.parametrize(
    "pixel",
    [
        '<img src="https://stats.example/p.gif" width="1" height="1">',
        '<img src="https://stats.example/p.gif" width="1px" height="1px" alt="">',
        '<img src="https://feeds.example/~r/news/~4/pixel.gif">',
        '<img src="https://mail.example/open.gif?id=3">',
        '<img src="https://ads.example/beacon?u=1">',
    ],
)
def test_tracking_pixels_are_removed(pixel: str) -> None:
    safe = sanitize(f"<p>Story text{pixel}</p>")

    assert safe == "<p>Story text</p>"


def test_normal_images_are_kept() -> None:
    safe = sanitize(
        '<p><img src="https://journal.example/fig1.png" alt="Figure 1" width="600" height="400">'
        "</p>"
    )

    assert "<img" in safe
    assert 'src="https://journal.example/fig1.png"' in safe
    assert 'alt="Figure 1"' in safe


def test_plain_text_is_escaped_never_interpreted() -> None:
    content = clean(
        "Use <script>alert(1)</script> & <b>bold</b> as text.", content_type="text/plain"
    )

    assert "<script" not in content.html and "<b>" not in content.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert "&amp;" in content.html
    assert content.text == "Use <script>alert(1)</script> & <b>bold</b> as text."


def test_plain_text_keeps_its_paragraphs() -> None:
    content = clean(
        "First paragraph\nwraps here.\n\n\nSecond   paragraph.\n  \nThird.",
        content_type="text/plain",
    )

    assert content.html == "<p>First paragraph wraps here.</p><p>Second paragraph.</p><p>Third.</p>"
    assert content.text == "First paragraph wraps here.\n\nSecond paragraph.\n\nThird."


def test_html_to_text_keeps_paragraphs_lists_and_line_breaks_as_blocks() -> None:
    text = html_to_text(
        "<h2>Results</h2><p>Five   people\n were treated.</p><p>All <em>improved</em>.<br>"
        "None relapsed.</p><ul><li>lupus</li><li>myositis</li></ul>"
    )

    assert text == (
        "Results\n\nFive people were treated.\n\nAll improved.\n\nNone relapsed.\n\nlupus\n\n"
        "myositis"
    )


def test_html_to_text_decodes_entities() -> None:
    assert html_to_text("<p>Sj&ouml;gren&#8217;s &amp; lupus</p>") == "Sjögren’s & lupus"


def test_clean_gives_matching_html_and_text() -> None:
    content = clean(
        '<div><p>CAR-T in <a href="/lupus">lupus</a>.</p><p>Second.</p></div>', base_url=BASE
    )

    assert content.html == (
        '<p>CAR-T in <a href="https://journal.example/lupus" rel="noopener noreferrer nofollow">'
        "lupus</a>.</p><p>Second.</p>"
    )
    assert content.text == "CAR-T in lupus.\n\nSecond."


def test_comments_are_stripped() -> None:
    assert sanitize("<p>Hi<!-- [if IE]><script>x</script><![endif] --></p>") == "<p>Hi</p>"


def test_plain_title_decodes_entities_and_drops_tags() -> None:
    assert plain_title("  CAR-T &amp; <b>lupus</b>:\n a   <i>case</i> report ") == (
        "CAR-T & lupus: a case report"
    )


def test_plain_title_keeps_escaped_markup_as_text() -> None:
    assert plain_title("Why &lt;script&gt; tags matter") == "Why <script> tags matter"


# --- the feedparser sanitizer corpus: nothing active survives -------------------------------

FORBIDDEN = ("<script", "<style", "<iframe", "<form", "<object", "<embed", "<meta",
             "javascript:", "vbscript:")  # fmt: skip
EVENT_HANDLER = re.compile(r"\son\w+\s*=", re.IGNORECASE)
DATA_URL = re.compile(r"""\s(?:href|src)\s*=\s*["']?\s*data:""", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(SANITIZE_CORPUS.glob("*.xml")), ids=lambda path: path.name)
def test_sanitize_corpus_leaves_nothing_active(path: Path) -> None:
    parsed = parse_feed(path.read_bytes(), "http://feeds.example/corpus.xml")

    assert parsed.error is None
    for entry in parsed.entries:
        lowered = entry.clean_html.lower()
        for forbidden in FORBIDDEN:
            assert forbidden not in lowered, f"{forbidden!r} survived: {entry.clean_html!r}"
        for tag in TAG.findall(entry.clean_html):
            assert not EVENT_HANDLER.search(tag), f"event handler survived: {tag!r}"
            assert not DATA_URL.search(tag), f"data: URL survived: {tag!r}"


def test_sanitize_corpus_is_present() -> None:
    """The parametrised test above must not pass vacuously on a missing corpus."""
    assert len(list(SANITIZE_CORPUS.glob("*.xml"))) > 300
