"""Safe URLs: every link carnews stores or prints is http or https, or it is dropped.

``safe_url`` is the one rule, used at each door: when an entry is built
(its link, and every link inside its HTML), when a template prints an href,
and when the feeds are written. The checks follow the WHATWG URL parser, which
is what a browser runs on a click, and not only the spelling in the feed:

- leading and trailing C0 controls and spaces are stripped and tabs and line
  breaks removed anywhere ("\\x01java\\tscript:" is "javascript:" to a browser);
- the scheme is compared lower-cased ("JaVaScRiPt:");
- HTML entities are decoded, repeatedly, before the scheme is judged: a reader
  that unescapes a link once or twice more ("&#106;avascript:",
  "javascript&colon;", "&amp;#106;avascript:") must not find a script scheme in it.

What comes back is the link as given (trimmed, tabs removed, scheme lower-cased):
entities are decoded only to judge it, so "?a=1&copy=2" keeps its query.

A relative link ("/news/1", "../43/") is resolved against ``base`` (the entry's
page, or the feed's URL); with no usable base it is dropped, since a reader
could not follow it from an email. A protocol-relative link ("//host/x") is a
relative link too: it takes the base's scheme, as a browser would, and is
dropped without a base. An absolute link must name a host; one that still holds
a control character after normalisation is dropped as malformed.
"""

from __future__ import annotations

import functools
import html
import re
from urllib.parse import SplitResult, urljoin, urlsplit

from carnews.errors import ConfigError

SAFE_SCHEMES = frozenset({"http", "https"})
# What the URL parser strips from both ends: the C0 controls and the space.
C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Most links, decided without the URL parser (cleaning is the hot path of a poll):
# a lower-case http(s) scheme, an ASCII host name, an optional port, then the path.
PLAIN_WEB_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#]|\Z)")
# Entity decoding rounds before a link that keeps changing is refused outright.
DECODE_ROUNDS = 4

__all__ = ["SAFE_SCHEMES", "safe_url"]


def _normalised(raw: str) -> str:
    return TAB_OR_NEWLINE.sub("", raw.strip(C0_OR_SPACE))


def _split(url: str) -> SplitResult | None:
    """``url``'s parts (the scheme lower-cased, "" when relative); None if unsplittable."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _decodes_safely(url: str) -> bool:
    """Whether every entity-decoded form of a relative ``url`` is still relative or http(s)."""
    for _ in range(DECODE_ROUNDS):
        decoded = _normalised(html.unescape(url))
        if decoded == url:
            return True
        parts = _split(decoded)
        if parts is None or (parts.scheme and parts.scheme not in SAFE_SCHEMES):
            return False
        url = decoded
    return False  # still changing: nested entities no honest link needs


def _absolute(url: str, parts: SplitResult) -> str | None:
    """An absolute http(s) link with a host, its scheme lower-cased; else None."""
    if parts.scheme not in SAFE_SCHEMES or not parts.hostname:
        return None
    return parts.scheme + url[len(parts.scheme) :]


def safe_url(raw: str | None, base: str | None = None) -> str | None:
    """``raw`` as an absolute http or https URL, or None when it is anything else.

    ``base`` resolves relative links; it must itself be a safe absolute URL.
    """
    if not raw:
        return None
    url = _normalised(raw)
    if not url or CONTROL.search(url):
        return None
    if PLAIN_WEB_URL.match(url):
        return url
    parts = _split(url)
    if parts is None:
        return None
    if parts.scheme:
        return _absolute(url, parts)
    resolved_base = _safe_base(base) if base else None
    if resolved_base is None or not _decodes_safely(url):
        return None
    joined = urljoin(resolved_base, url)
    joined_parts = _split(joined)
    return _absolute(joined, joined_parts) if joined_parts is not None else None


@functools.lru_cache(maxsize=256)
def _safe_base(base: str) -> str | None:
    """A base is checked once, not once per relative link of the entry it belongs to."""
    return safe_url(base)


def site_url(url: str) -> str:
    """A link carnews makes from ``site.base_url`` (feed links, unsubscribe links): one
    that is not http(s) is a configuration error, so nothing goes out with it."""
    safe = safe_url(url)
    if safe is None:
        raise ConfigError(
            f"site.base_url makes the link {url!r}, which is not an http or https URL",
            hint="Set site.base_url to the public http(s) address of the web app.",
            context={"key": "site.base_url", "value": url},
        )
    return safe
