"""Nesting: cap how deep an entry's HTML nests before the sanitizer parses it.

nh3 parses with html5ever, whose HTML5 tree builder walks its stack of open elements for
many tags (is a <p> open in button scope? which <li> does this one close?), so a body of
N nested elements costs about N² steps: 25,000 nested <div> took 4.4 s and 100,000
(2.3 MB) 81 s of one core. Browsers meet the same cost and cap the depth (Chromium at
512); ``bound_nesting`` does it before nh3: a start tag that would open an element deeper
than ``MAX_DEPTH`` is left out (its text stays), and so is a matching end tag. Bodies with
fewer than ``SCAN_FROM`` tags cannot be costly and are passed through untouched.

The pass is one linear scan that must never count much lower than html5ever nests, or a
crafted body would slip under the cap. So it reads tags as the HTML tokenizer does (quoted
attribute values may hold ``>`` or ``</div>``), and it removes outright what html5ever
would read differently from plain markup and nh3 drops with its contents anyway: comments,
doctypes, <script>, <style> and the other raw-text elements, and <svg> and <math> (foreign
content, where ``/>`` closes and <![CDATA[ hides tags). A text ``<`` is written ``&lt;``, so
no removal can join text into a new tag. In what remains, an end tag closes only what
html5ever is certain to close too; when unsure, the pass counts deeper. It does not count
<p>, which closes the <p> before it, so html5ever nests at most about twice ``MAX_DEPTH``
(tests/test_nesting.py reads the depth back from nh3 for many crafted bodies).
"""

from __future__ import annotations

import functools
import re
from collections import Counter

MAX_DEPTH = 256  # real pages nest a few dozen deep; 256 × a 10 MB body is seconds, not hours
SCAN_FROM = 1024  # under this many '<', even the worst nesting costs milliseconds
END_TAG_REACH = 8  # an end tag closes at most this many open elements (sloppy HTML leaks)


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WS = "\\t\\n\\f\\r "
_VALUE = rf"""(?>"[^"]*"|'[^']*'|[^{_WS}>"'][^{_WS}>]*|(?=>))"""
_ATTRIBUTE = rf"[^{_WS}/>][^{_WS}/>=]*+(?>[{_WS}]*=[{_WS}]*{_VALUE}|(?![{_WS}]*=))"
# Whatever a '<' starts, as the HTML tokenizer reads it, tried in this order:
_MARKUP = re.compile(
    # 1-3: a start or end tag: a name, then whitespace, stray solidi and attributes, '>'
    rf"<(?:(/?)([A-Za-z][^{_WS}/>]*+)(?>[{_WS}]|/(?!>)|{_ATTRIBUTE})*+(/?)>"
    r"|(!--)"  # 4: a comment
    r"|(/?[A-Za-z])"  # 5: a tag that never ends, so html5ever drops the rest of the body
    r"|([!?]|/.)"  # 6: a doctype or a bogus comment, up to the next '>' ('</>' is one)
    r"|)",  # or a '<' that is text
    re.DOTALL,
)
_CLOSING_FLAGS = re.IGNORECASE | re.ASCII
_COMMENT_END = re.compile(r"--!?>")

RAW_TEXT = _names("script style textarea title xmp iframe noembed noframes noscript plaintext")
FOREIGN = frozenset({"svg", "math"})
# Start tags that end foreign content (the HTML spec's "breakout" list).
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    "u ul var font"
)
_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param "
    "source track wbr"
)
# Never left open in a way that nests: <p> closes the <p> before it (an element we count
# always stands between two open ones); html, head and body are ignored inside a body.
_UNCOUNTED = _VOID | {"p", "html", "head", "body"}
_IMPLIED = frozenset({"li", "dd", "dt", "option"})
_TABLE_PARTS = _names("tbody thead tfoot tr td th caption colgroup")
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
# What an end tag may close on its way down to its own element, besides formatting ones:
# only elements html5ever closes by implication and that close their own siblings, so even
# one it had kept open cannot pile up. Anything else in the way stops the end tag.
_PASSES: dict[str, frozenset[str]] = dict.fromkeys(
    _names(
        "address article aside blockquote button center details dialog dir div dl fieldset "
        "figcaption figure footer form header hgroup listing main menu nav ol pre search "
        "section summary ul li dd dt h1 h2 h3 h4 h5 h6 applet marquee object select"
    ),
    _IMPLIED,
) | dict.fromkeys(["table", *_TABLE_PARTS], _IMPLIED | _TABLE_PARTS)
_TERMS, _CELLS = frozenset({"dd", "dt"}), frozenset({"td", "th"})
_GROUPS, _NONE = frozenset({"tbody", "thead", "tfoot"}), frozenset[str]()
# A start tag that closes an open element of the first names, through formatting elements
# and the second names (a new row closes the open cell, then the row).
_CLOSES_SIBLING: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), _NONE),
    "dd": (_TERMS, _NONE),
    "dt": (_TERMS, _NONE),
    "td": (_CELLS, _NONE),
    "th": (_CELLS, _NONE),
    "tr": (frozenset({"tr"}), _CELLS),
    **dict.fromkeys(_GROUPS, (_GROUPS, _CELLS | {"tr"})),
}
_CLOSES_CURRENT = {"option": "option", "optgroup": "option"}  # only the current element
# Elements html5ever puts in where a table leaves them out, so they are counted too.
_IMPLIED_PARENTS = {
    ("table", "tr"): ("tbody",),
    **dict.fromkeys([("table", "td"), ("table", "th")], ("tbody", "tr")),
    **{(group, cell): ("tr",) for group in _GROUPS for cell in _CELLS},
}


class _Tree:
    """The stack of open elements as html5ever will build it, or deeper, never shallower.

    A formatting element (<b>, <a>, …) that an end tag closes by implication stays counted
    until its own end tag: html5ever remembers it and reopens it at the next text.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: list[str] = []
        self.count: Counter[str] = Counter()
        self.reopenable: Counter[str] = Counter()
        self.left_out: Counter[str] = Counter()

    def start(self, name: str) -> bool:
        """Whether to keep this start tag (left out, it changes nothing)."""
        if name in _UNCOUNTED or (name in _TABLE_PARTS and not self._in_table()):
            return True  # outside a table, html5ever ignores table parts
        closes = self._sibling_reach(name)
        below = self.open[-1 - closes] if len(self.open) > closes else ""
        implied = _IMPLIED_PARENTS.get((below, name), ())
        if len(self.open) - closes + len(implied) + self.reopenable.total() >= self.limit:
            self.left_out[name] += 1
            return False
        self._pop(closes)
        for opened in (*implied, name):
            self.open.append(opened)
            self.count[opened] += 1
        return True

    def end(self, name: str) -> bool:
        """Whether to keep this end tag; it closes only what html5ever surely closes."""
        if self.left_out[name]:
            self.left_out[name] -= 1
            return False
        reach = self._reach(frozenset({name}), _PASSES.get(name, frozenset()))
        if reach:
            self._pop(reach)
        elif self.reopenable[name]:
            self.reopenable[name] -= 1
        return True

    def _sibling_reach(self, name: str) -> int:
        """How many open elements the start tag ``name`` closes (an <li> the open <li>)."""
        if self.open and self.open[-1] == _CLOSES_CURRENT.get(name):
            return 1
        return self._reach(*_CLOSES_SIBLING[name]) if name in _CLOSES_SIBLING else 0

    def _reach(self, targets: frozenset[str], passes: frozenset[str]) -> int:
        """How many open elements to pop to close one of ``targets`` (0: none closes)."""
        for reach, current in enumerate(reversed(self.open[-END_TAG_REACH:]), start=1):
            if current in targets:
                return reach
            if current not in _FORMATTING and current not in passes:
                return 0
        return 0

    def _in_table(self) -> bool:
        return bool(self.count["table"] or self.count["template"])

    def _pop(self, how_many: int) -> None:
        for below_top in range(how_many):  # the last one popped is the one named
            name = self.open.pop()
            self.count[name] -= 1
            if below_top < how_many - 1 and name in _FORMATTING:
                self.reopenable[name] += 1


def bound_nesting(raw: str, limit: int = MAX_DEPTH) -> str:
    """``raw`` with no element nested deeper than ``limit``; unchanged if it has few tags."""
    if raw.count("<") < SCAN_FROM:
        return raw
    tree, flushed, position = _Tree(limit), 0, 0
    out: list[str] = []
    while (token := _MARKUP.search(raw, position)) is not None:
        position, replacement = _read(raw, token, tree)
        if replacement is not None:  # most markup is kept: copy it along with the text
            out += (raw[flushed : token.start()], replacement)
            flushed = position
    out.append(raw[flushed:])
    return "".join(out)


def _read(raw: str, token: re.Match[str], tree: _Tree) -> tuple[int, str | None]:
    """Where the markup ``token`` starts ends, and what replaces it (None: it stays)."""
    closing, name, self_closing, comment, endless, bogus = token.groups()
    if name is not None:
        name = _lower(name)
        if closing:
            return token.end(), None if tree.end(name) else ""
        if name in RAW_TEXT:
            return _raw_text_end(raw, token.end(), name), ""
        if name in FOREIGN:
            return token.end() if self_closing else _foreign_end(raw, token.end(), name), ""
        return token.end(), None if tree.start(name) else ""
    if comment:
        return _comment_end(raw, token.start()), ""
    if endless:
        return len(raw), ""
    if bogus:
        return _until(raw, ">", token.start() + 2), ""
    return token.end(), "&lt;"


def _lower(name: str) -> str:
    """ASCII lower case, as the tokenizer does (so 'SCRİPT' is not 'script')."""
    return name.lower() if name.isascii() else name


def _until(raw: str, marker: str, start: int) -> int:
    found = raw.find(marker, start)
    return len(raw) if found < 0 else found + len(marker)


def _comment_end(raw: str, at: int) -> int:
    """A comment ends at '-->' or '--!>'; '<!-->' and '<!--->' are whole (empty) comments."""
    for abrupt in (">", "->"):
        if raw.startswith(abrupt, at + 4):
            return at + 4 + len(abrupt)
    found = _COMMENT_END.search(raw, at + 4)
    return len(raw) if found is None else found.end()


@functools.cache
def _closing(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}[{_WS}/>]", _CLOSING_FLAGS)


def _raw_text_end(raw: str, start: int, name: str) -> int:
    """After the end tag that closes a raw-text element (never, for <plaintext>)."""
    found = None if name == "plaintext" else _closing(name).search(raw, start)
    tag = None if found is None else _MARKUP.match(raw, found.start())
    return len(raw) if tag is None or tag.group(2) is None else tag.end()


def _foreign_end(raw: str, position: int, name: str) -> int:
    """Where foreign content opened by <svg> or <math> ends: after its end tag, or before a
    tag that breaks out of it (nh3 drops the region either way)."""
    depth = 1
    while (token := _MARKUP.search(raw, position)) is not None:
        start = token.start()
        closing, inner, self_closing, comment, endless, bogus = token.groups()
        if raw.startswith("<![CDATA[", start):
            position = _until(raw, "]]>", start + 9)
        elif comment or bogus:
            position = _comment_end(raw, start) if comment else _until(raw, ">", start + 2)
        elif endless:
            break
        elif inner is None:
            position = token.end()
        else:
            inner = _lower(inner)
            if (inner in _BREAKOUT and not closing) or (closing and inner in ("br", "p")):
                return start
            if inner == name and not self_closing:
                depth += -1 if closing else 1
                if depth == 0:
                    return token.end()
            position = token.end()
    return len(raw)
