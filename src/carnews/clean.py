"""Clean: turn a feed entry's HTML into safe HTML and plain text.

Two passes. beautifulsoup4 first removes what must go *with its contents*
(scripts, styles, frames, forms, tracking pixels), resolves relative links and
strips tracking parameters. Then nh3 (the Ammonia sanitizer) keeps only an
allow-list of tags, attributes and URL schemes, so anything the first pass
missed still cannot become active content.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3
from bs4 import BeautifulSoup, Tag

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
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# Removed with everything inside them: their text is never meant for a reader.
DROP_WITH_CONTENT = (
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "meta", "link", "noscript", "template", "svg", "math", "head", "title", "base", "canvas",
    "audio", "video", "button", "select", "textarea", "input",
)  # fmt: skip

TRACKING_PARAMETERS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|yclid|igshid|"
    r"oly_[a-z_]+|vero_[a-z_]+|ref_src|__s|ncid|sr_share|cmpid|wt\.mc_id)$",
    re.IGNORECASE,
)
PIXEL_HINTS = re.compile(r"(pixel|beacon|tracking|/open\.|1x1|spacer)", re.IGNORECASE)
BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
    "pre", "table", "tr", "section", "article", "header", "footer", "figure", "hr", "dd", "dt",
}  # fmt: skip


@dataclass(frozen=True)
class CleanContent:
    html: str
    text: str


def strip_tracking(url: str) -> str:
    """Drop utm_* and similar parameters that only serve someone's analytics."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    kept = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMETERS.match(key)
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _absolute(url: str, base_url: str | None) -> str:
    url = url.strip()
    if base_url and not urlsplit(url).scheme:
        try:
            return urljoin(base_url, url)
        except ValueError:
            return url
    return url


def _is_tracking_pixel(img: Tag) -> bool:
    def tiny(attribute: str) -> bool:
        value = str(img.get(attribute) or "").strip().removesuffix("px")
        return value.isdigit() and int(value) <= 2

    return (tiny("width") and tiny("height")) or bool(PIXEL_HINTS.search(str(img.get("src", ""))))


def _prepare(raw_html: str, base_url: str | None) -> BeautifulSoup:
    soup = BeautifulSoup(raw_html, "html.parser")
    for tag in soup.find_all(DROP_WITH_CONTENT):
        tag.decompose()
    for img in soup.find_all("img"):
        if _is_tracking_pixel(img):
            img.decompose()
    for element in soup.find_all(["a", "img"]):
        attribute = "href" if element.name == "a" else "src"
        value = element.get(attribute)
        if isinstance(value, str):
            element[attribute] = strip_tracking(_absolute(value, base_url))
    return soup


def sanitize(raw_html: str, base_url: str | None = None) -> str:
    """Safe HTML: only allow-listed tags, attributes and URL schemes survive."""
    prepared = str(_prepare(raw_html, base_url))
    return nh3.clean(
        prepared,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def html_to_text(safe_html: str) -> str:
    """Plain text with paragraphs kept as blank-line-separated blocks."""
    soup = BeautifulSoup(safe_html, "html.parser")
    for tag in soup.find_all(BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = soup.get_text()
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
    return " ".join(BeautifulSoup(raw_title, "html.parser").get_text().split())
