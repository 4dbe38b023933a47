"""safe_url: a link is http or https after the normalisation a browser applies, or nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from carnews.text.urls import PLAIN_WEB_URL, safe_url

BASE = "https://journal.example/articles/42/"

# Links a browser would run as script or open as a document of the attacker's making.
DANGEROUS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  JAVASCRIPT:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "jav\r\nascript:alert(1)",
    "\x01javascript:alert(1)",
    "\x00 \x1fjavascript:alert(1)\x7f",
    "javascript:alert(1)\x00",
    "&#106;avascript:alert(1)",
    "&#x6A;avascript:alert(1)",
    "&#X6a;avascript:alert(1)",
    "&#106avascript:alert(1)",
    "javascript&#58;alert(1)",
    "javascript&colon;alert(1)",
    "java&#9;script:alert(1)",
    "java&Tab;script:alert(1)",
    "&amp;#106;avascript:alert(1)",
    "&amp;amp;#106;avascript:alert(1)",
    "&#38;#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "DATA:image/svg+xml,<svg onload=alert(1)>",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "file:///etc/passwd",
    "mailto:ed@example.org",
    "ftp://files.example/x",
    "about:blank",
]


@pytest.mark.parametrize("raw", DANGEROUS)
def test_anything_but_http_or_https_is_dropped(raw: str) -> None:
    assert safe_url(raw) is None
    assert safe_url(raw, BASE) is None, "a base never rescues a non-http scheme"


@pytest.mark.parametrize(
    "raw",
    [
        "https://journal.example/a?b=1&c=2#top",
        "http://journal.example:8080/path/",
        "https://doi.org/10.1038/s41591-026-04127-8",
        "https://news.example/?a=1&copy=2&not=3",  # entity-like queries keep their bytes
        "https://news.example/caf%C3%A9/é",
        "https://[2001:db8::1]/x",
    ],
)
def test_good_links_are_kept_byte_for_byte(raw: str) -> None:
    assert safe_url(raw) == raw
    assert safe_url(raw, "https://elsewhere.example/") == raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  https://journal.example/a \n", "https://journal.example/a"),
        ("\x01https://journal.example/a\x1f", "https://journal.example/a"),
        ("https://journal.ex\tample/a\nb", "https://journal.example/ab"),
        ("HTTPS://Journal.example/A", "https://Journal.example/A"),
        ("HtTp://journal.example/", "http://journal.example/"),
    ],
)
def test_good_links_are_normalised_as_a_browser_would(raw: str, expected: str) -> None:
    assert safe_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../43/", "https://journal.example/articles/43/"),
        ("/about", "https://journal.example/about"),
        ("fig1.png", "https://journal.example/articles/42/fig1.png"),
        ("?page=2", "https://journal.example/articles/42/?page=2"),
        # Protocol-relative: the base's scheme, exactly what a browser on the base page does.
        ("//mirror.example/x", "https://mirror.example/x"),
        # Entities that decode to something harmless leave the link as written.
        ("/search?q=a&amp;b", "https://journal.example/search?q=a&amp;b"),
    ],
)
def test_relative_links_are_resolved_against_the_base(raw: str, expected: str) -> None:
    assert safe_url(raw, BASE) == expected


@pytest.mark.parametrize("raw", ["../43/", "/about", "//mirror.example/x", "?page=2"])
def test_relative_links_without_a_base_are_dropped(raw: str) -> None:
    """An email has no page to resolve against: such a link could not be followed."""
    assert safe_url(raw) is None
    assert safe_url(raw, "javascript:alert(1)") is None, "an unsafe base is no base"
    assert safe_url(raw, "/relative/base") is None


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "\t\n", None, "https://", "https:///path", "http:evil.example", "https://[::1",
     "https://journal.example/a\x00b", "https://journal.example/\x1bx"],
)  # fmt: skip
def test_empty_hostless_and_malformed_links_are_dropped(raw: str | None) -> None:
    assert safe_url(raw, BASE) is None


@pytest.mark.parametrize(
    "raw",
    ["https://journal.example/a", "http://journal.example:8080/", "https://a.example?q=1",
     "https://a.example#top", "https://a.example", "http://1.2.3.4/x", "https://a.example\\evil",
     "https://user@a.example/", "https://a.example:99999999/", "https://ｅvil.example/"],
)  # fmt: skip
def test_the_fast_path_agrees_with_the_parser(raw: str) -> None:
    """Plain links skip urlsplit; any link they would not pass still goes through it."""
    expected = raw if urlsplit(raw).hostname else None
    assert safe_url(raw) == expected
    if PLAIN_WEB_URL.match(raw):
        assert urlsplit(raw).scheme in ("http", "https") and urlsplit(raw).hostname
