"""Clean: turn a feed entry's HTML into safe HTML and plain text.

nh3 (the Ammonia sanitizer, in Rust) does the work in one pass: only an
allow-list of tags, attributes and URL schemes survives; scripts, styles,
frames and forms go *with their contents*; an attribute filter puts every href
and src through ``carnews.text.urls.safe_url`` (http or https only, relative
links resolved against the entry's URL, dropped when there is none) and strips
tracking parameters; beacon images go before that. Plain text comes from the
sanitized HTML, which is well-formed by construction, so a regex pass is enough
and costs next to nothing. Cleaning is the hot path of a poll: a parser in
Python here tripled the cost of ingest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

from carnews.gather.nesting import bound_nesting
from carnews.text.urls import SAFE_SCHEMES, safe_url

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "q", "small", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# nh3's own scheme check stays as a first net; safe_url, in the attribute filter, has the
# final word (it also catches what one more entity decode would turn into a script).
ALLOWED_SCHEMES = set(SAFE_SCHEMES)

# Removed with everything inside them: their text is never meant for a reader.
DROP_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "noscript", "template", "svg", "math", "head", "title", "canvas", "audio", "video",
    "button", "select", "textarea", "noembed", "noframes", "xmp", "plaintext",
}  # fmt: skip

TRACKING_PARAMETERS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|yclid|igshid|"
    r"oly_[a-z_]+|vero_[a-z_]+|ref_src|__s|ncid|sr_share|cmpid|wt\.mc_id)$",
    re.IGNORECASE,
)
PIXEL_HINTS = re.compile(r"(pixel|beacon|tracking|/open\.|1x1|spacer)", re.IGNORECASE)
IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)  # not [^>]*: quadratic on "<img<img…"
IMG_SRC = re.compile(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
TINY_SIZE = re.compile(r"""\b(width|height)\s*=\s*["']?\s*([0-2])(px)?\s*["'\s/>]""", re.I)
BLOCK_BOUNDARY = re.compile(
    r"</?(p|div|li|ul|ol|h[1-6]|blockquote|pre|table|tr|figure|figcaption|hr|dd|dt|dl|caption)"
    r"\b[^>]*>|<br\b[^>]*>",
    re.IGNORECASE,
)
ANY_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class CleanContent:
    html: str
    text: str


def strip_tracking(url: str) -> str:
    """Drop utm_* and similar parameters that only serve someone's analytics."""
    if "?" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMETERS.match(key)
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _without_pixels(raw_html: str) -> str:
    """Drop 1×1 beacon images before sanitizing: nh3 sees one attribute at a time."""
    if "<img" not in raw_html and "<IMG" not in raw_html:
        return raw_html

    def keep(match: re.Match[str]) -> str:
        tag = match.group(0)
        sizes = {m.group(1).lower() for m in TINY_SIZE.finditer(tag + " ")}
        source = IMG_SRC.search(tag)
        beacon = source is not None and PIXEL_HINTS.search(source.group(1))
        return "" if sizes == {"width", "height"} or beacon else tag

    return IMG_TAG.sub(keep, raw_html)


def _attribute_filter(base: str | None) -> Callable[[str, str, str], str | None]:
    """Links and image sources: http(s) and absolute, or the attribute goes (None)."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src"):
            return value
        url = safe_url(value, base)
        return strip_tracking(url) if url else None

    return keep


def sanitize(raw_html: str, base_url: str | None = None) -> str:
    """Safe HTML: only allow-listed tags, attributes and http(s) links survive."""
    safe = nh3.clean(
        # Depth is bounded last, on exactly the text nh3 will parse (see gather/nesting.py).
        bound_nesting(_without_pixels(raw_html)),
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter(safe_url(base_url)),
        url_schemes=ALLOWED_SCHEMES,
        url_relative="pass_through",  # the attribute filter has resolved them already
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return safe.strip()


def html_to_text(safe_html: str) -> str:
    """Plain text with paragraphs kept as blank-line-separated blocks."""
    marked = BLOCK_BOUNDARY.sub("\n\n", safe_html)
    text = html.unescape(ANY_TAG.sub("", marked))
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(block for block in blocks if block)


def clean(
    raw: str, *, content_type: str = "text/html", base_url: str | None = None
) -> CleanContent:
    """Clean one entry body; ``text/plain`` bodies are escaped, never interpreted."""
    if "html" not in content_type and "xml" not in content_type:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", raw) if p.strip()]
        safe = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
        return CleanContent(html=safe, text="\n\n".join(paragraphs))
    safe = sanitize(raw, base_url)
    return CleanContent(html=safe, text=html_to_text(safe))


def plain_title(raw_title: str) -> str:
    """Titles arrive with entities and stray tags; a title is always plain text."""
    if "<" not in raw_title and "&" not in raw_title:
        return " ".join(raw_title.split())
    return html_to_text(sanitize(raw_title)).replace("\n\n", " ")
