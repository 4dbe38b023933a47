"""Landing pages: what an article's own page says about it, read from its metadata.

News and Google News items often carry a title and a one-line teaser; the page they
link to describes itself for search engines and link previews. ``landing_text`` reads
that description with BeautifulSoup, most scholarly first: ``citation_abstract`` (the
Highwire tags journals and PubMed carry), Dublin Core ``dc.description``, JSON-LD
(``abstract``, then ``description``, of an Article of any kind, also inside
``@graph``), Open Graph and Twitter card descriptions, and last the plain
``<meta name="description">``. The first that says enough wins, and the result names
the field it came from. Pure: bytes in, text out; ``gather.enrich`` does the fetching.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import Tag
from bs4.filter import SoupStrainer

from carnews.gather.clean import clean

MAX_CHARS = 3000  # an abstract is ~250 words; more is an article body, not a description
MIN_CHARS = 60  # shorter is a site's slogan ("Latest health news"), not about the item
META_ORDER = (
    ("citation_abstract", ("citation_abstract",)),
    ("dc.description", ("dc.description", "dcterms.description", "dcterms.abstract")),
    ("json-ld", ()),
    ("og:description", ("og:description",)),
    ("twitter:description", ("twitter:description",)),
    ("description", ("description",)),
)
JSON_LD_FIELDS = ("abstract", "description")
ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report)$")
# JSON-LD is often wrapped for old browsers or left with a trailing comma.
_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
LD_SCRIPT = re.compile(rb"<script\b[^>]*ld\+json[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
HEAD_LIMIT = 512 * 1024  # where a page without </head> is taken to have ended its metadata


@dataclass(frozen=True)
class Landing:
    """The text a landing page gives about itself, and where it was found."""

    text: str
    source: str  # citation_abstract, dc.description, json-ld:abstract, og:description, …
    url: str


def landing_text(
    page: bytes | str, url: str, *, encoding: str | None = None, title: str = ""
) -> Landing | None:
    """The page's own abstract or description, or None when it has nothing useful.

    ``encoding`` is the charset the server declared; ``title`` the entry's, so a
    description that only repeats it does not count.
    """
    if isinstance(page, str):
        page, encoding = page.encode(), "utf-8"
    only = SoupStrainer(["meta", "script"])
    soup = BeautifulSoup(_metadata_part(page), "html.parser", parse_only=only,
                         from_encoding=encoding)  # fmt: skip
    metas = _metas(soup)
    for source, names in META_ORDER:
        found = _json_ld(soup) if source == "json-ld" else _named(metas, source, names)
        for where, raw in found:
            text = tidy(raw)
            if _says_enough(text, title):
                return Landing(text, where, url)
    return None


def _metadata_part(page: bytes) -> bytes:
    """The head and the JSON-LD blocks: all that is read, and a small part of a page.

    BeautifulSoup builds every tag it meets even when asked to keep only some, which
    took two seconds on a megabyte of article; cutting with a regex first takes
    milliseconds. (On bytes, so the page's own charset declaration still decides.)
    """
    end = HEAD_END.search(page)
    cut = end.end() if end else min(len(page), HEAD_LIMIT)
    return page[:cut] + b"".join(m.group(0) for m in LD_SCRIPT.finditer(page, cut))


def _metas(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Every meta tag's content by its name or property, lower-cased."""
    found: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        if not isinstance(tag, Tag):
            continue
        content = tag.get("content")
        if not isinstance(content, str) or not content.strip():
            continue
        for attribute in ("name", "property", "itemprop"):
            key = tag.get(attribute)
            if isinstance(key, str) and key.strip():
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _named(
    metas: dict[str, list[str]], source: str, names: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    for name in names:
        for content in metas.get(name, []):
            yield source, content


def _json_ld(soup: BeautifulSoup) -> Iterator[tuple[str, str]]:
    """``abstract`` or ``description`` of every Article in the page's JSON-LD blocks."""
    for script in soup.find_all("script"):
        if not isinstance(script, Tag):
            continue
        kind = script.get("type")
        if not isinstance(kind, str) or kind.strip().lower() != "application/ld+json":
            continue
        data = _load_json(script.get_text())
        for item in _items(data):
            for name in JSON_LD_FIELDS:
                value = _as_text(item.get(name))
                if value:
                    yield f"json-ld:{name}", value


def _load_json(raw: str) -> Any:
    """A JSON-LD block, tolerating what sites get wrong; None when it cannot be read."""
    text = _WRAPPERS.sub("", raw.strip())
    for attempt in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(attempt, strict=False)  # strict=False: raw newlines in strings
        except ValueError:
            continue
    return None


def _items(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """The Article objects in a JSON-LD value: top level, in lists and in ``@graph``."""
    if depth > 4:  # real pages nest two levels; deeper is not a description of this page
        return
    if isinstance(data, list):
        for value in data:
            yield from _items(value, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        names = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(name, str) and ARTICLE_TYPES.search(name) for name in names):
            yield data
        yield from _items(data.get("@graph"), depth + 1)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # {"@value": "..."} or {"@language": ..., "@value": ...}
        return _as_text(value.get("@value"))
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    return ""


def tidy(raw: str) -> str:
    """Plain text: tags stripped (with scripts' contents), entities decoded, whitespace
    folded, cut at a sentence or word end before ``MAX_CHARS``."""
    text = " ".join(clean(raw).text.split())
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    sentence = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if sentence > MAX_CHARS // 2:
        return cut[: sentence + 1]
    return cut.rsplit(" ", 1)[0] + " …"


def _says_enough(text: str, title: str) -> bool:
    if len(text) < MIN_CHARS:
        return False
    return _letters(text) != _letters(title)


def _letters(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def beyond_title(title: str, text: str) -> str:
    """An entry's text without its title, which news feeds often repeat in the teaser."""
    folded, head = " ".join(text.split()), " ".join(title.split())
    if head:
        folded = re.sub(re.escape(head), " ", folded, flags=re.IGNORECASE)
    return " ".join(folded.split())


def with_landing(title: str, text: str, landing: str) -> str:
    """What an entry says, for curating and explaining it: its own text and its page's.

    The page's description usually restates the teaser; then it stands alone.
    """
    if not landing:
        return text
    own = beyond_title(title, text)
    if not own or _letters(own) in _letters(landing):
        return landing
    return f"{text}\n\n{landing}"
