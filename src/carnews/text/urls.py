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

import html
import re
from urllib.parse import urljoin, urlsplit

SAFE_SCHEMES = frozenset({"http", "https"})
# What the URL parser strips from both ends: the C0 controls and the space.
C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Entity decoding rounds before a link that keeps changing is refused outright.
DECODE_ROUNDS = 4

__all__ = ["SAFE_SCHEMES", "safe_url"]


def _normalised(raw: str) -> str:
    return TAB_OR_NEWLINE.sub("", raw.strip(C0_OR_SPACE))


def _scheme(url: str) -> str | None:
    """The lower-cased scheme ("" for a relative link); None for a link Python cannot split."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return None


def _decodes_safely(url: str) -> bool:
    """Whether every entity-decoded form of a relative ``url`` is still relative or http(s)."""
    for _ in range(DECODE_ROUNDS):
        decoded = _normalised(html.unescape(url))
        if decoded == url:
            return True
        scheme = _scheme(decoded)
        if scheme is None or (scheme and scheme not in SAFE_SCHEMES):
            return False
        url = decoded
    return False  # still changing: nested entities no honest link needs


def _absolute(url: str, scheme: str) -> str | None:
    """An absolute http(s) link with a host, its scheme lower-cased; else None."""
    if scheme not in SAFE_SCHEMES:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return scheme + url[len(scheme) :] if host else None


def safe_url(raw: str | None, base: str | None = None) -> str | None:
    """``raw`` as an absolute http or https URL, or None when it is anything else.

    ``base`` resolves relative links; it must itself be a safe absolute URL.
    """
    if not raw:
        return None
    url = _normalised(raw)
    scheme = _scheme(url)
    if not url or scheme is None or CONTROL.search(url):
        return None
    if scheme:
        return _absolute(url, scheme)
    if not _decodes_safely(url):
        return None
    resolved_base = safe_url(base) if base else None
    if resolved_base is None:
        return None
    joined = urljoin(resolved_base, url)
    joined_scheme = _scheme(joined)
    return _absolute(joined, joined_scheme) if joined_scheme else None
