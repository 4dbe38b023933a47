"""Deeply nested HTML is cleaned in bounded time, and crafted markup cannot dodge the cap.

nh3's parser (html5ever) walks its stack of open elements for most tags, so N nested
elements cost N² steps: 100,000 nested <div> took 81 s before the cap. The depth html5ever
really builds is read back from nh3's own output with every tag allowed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import nh3
import pytest

from carnews.gather import clean as cleaning
from carnews.gather.clean import CleanContent, clean
from carnews.gather.nesting import FOREIGN, RAW_TEXT, bound_nesting

HANG_BOUND = 20.0  # seconds: far above the ~1 s these take, far below the minutes they took
VOID = {"br", "img", "hr", "wbr", "input", "col", "area", "embed", "source", "track", "param"}


def within_hang_bound(work: Callable[[], CleanContent]) -> CleanContent:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=HANG_BOUND)


def test_100000_nested_divs_clean_in_bounded_time() -> None:
    body = "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    assert within_hang_bound(lambda: clean(body)).text == "deep text"


@pytest.mark.parametrize(
    "body",
    [
        "".join(f"<div><b id={n}></div>x" for n in range(50_000)),  # 20k took 144 s
        "<ul><li>" * 100_000 + "x",
        "<img" * 100_000,  # a regex, not the parser: quadratic when no '>' follows
    ],
    ids=["reopened-formatting", "lists", "unfinished-img"],
)
def test_other_costly_shapes_clean_in_bounded_time(body: str) -> None:
    within_hang_bound(lambda: clean(body))


def built_depth(html: str) -> int:
    """How deep html5ever nests ``html``: nh3 with every tag allowed writes out its tree."""
    names = {name.lower() for name in re.findall(r"</?([A-Za-z][\w-]*)", html)} | {"tbody", "tr"}
    tree = nh3.clean(html, tags=names - {"script", "style"}, clean_content_tags=set(),
                     attributes={}, link_rel=None)  # fmt: skip
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z][\w-]*)", tree):
        if name not in VOID:
            depth += -1 if closing else 1
            deepest = max(deepest, depth)
    return deepest


N = 3000
CRAFTED = {
    "nested": "<div>" * N + "x",
    "end tag in a comment": "<div><!--</div>-->" * N,
    "end tag in an attribute": '<div title="</div>">' * N,
    "end tag in a script": "<div><script></div></script>" * N,
    "end tag of nothing open": "<div></x>" * N,
    "end tag across a special element": "<span><div></span>" * N,
    "list parts that do not close": "<li><dd>" * N,
    "formatting reopened": "".join(f"<div><b id={n}></div>x" for n in range(N)),
    "formatting around tables": "".join(f"<table><b id={n}></table>x" for n in range(N)),
    "cells outside a table": "<td><div></td>" * N,
    "ignored start tags": "<frameset><span></frameset>" * N,
    "links closing links": "<a><span><a></a><span></a>" * N,
    "optgroups": "<div><x></div></x><optgroup></div>" * N,
    "svg": "<svg>" + "<g>" * N,
    "cdata outside svg": "<svg><![CDATA[" + "<div>" * N + "]]></svg>" + "<div>" * N,
    "a removed comment joining text into a tag": "<<!---->div>" * N,
    "equals sign before an attribute": '<a =" > <div> ">' * N,
    "tables in tables": "<table><tr><td>" * N,
    "implied table parts": "<table><td><p>" * N,
    "paragraphs above objects": "<p><object>" * N,
}


@pytest.mark.parametrize("body", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_markup_cannot_nest_past_the_cap(body: str) -> None:
    """Whatever hides a tag from the pass, html5ever builds at most twice the cap: the pass
    does not count <p>, and one <p> at most can sit on each element it counts."""
    assert built_depth(bound_nesting(body, limit=64)) <= 2 * 64 + 1


_PIECES = (
    "<div> </div> <b> </b> <b\x00id=1> <i> </i> <li> </li> <ul> </ul> <dd> <dt> <dl> </dl> "
    "<table> </table> <tbody> <tr> </tr> <td> </td> <th> <caption> <colgroup> <col> <p> </p> "
    "<span> </span> <a> </a> <select> </select> <option> <optgroup> <object> </object> "
    "<button> </button> <template> </template> <form> </form> <h1> </h1> <h2> <nobr> "
    "<font> </font> <svg> </svg> <math> <foreignObject> <g/> <center> <marquee> <applet> "
    "<pre> <address> <frameset> </frameset> <ruby> <rt> <head> <body> </body> <image> "
    "<!-- --> <script> </script> <style> <textarea> < </ <!x> <![CDATA[ ]]> x"
)
PIECES = [piece.replace("\x00", " ") for piece in _PIECES.split()]


@pytest.mark.parametrize("seed", range(40))
def test_repeated_random_markup_cannot_nest_past_the_cap(seed: int) -> None:
    """Short random runs of tags, repeated as a crafted body would repeat them."""
    chosen = random.Random(seed)
    unit = "".join(chosen.choice(PIECES) for _ in range(chosen.randint(2, 10)))
    body = unit * (1100 // max(1, unit.count("<")) + 1)  # enough tags for the pass to run
    assert built_depth(bound_nesting(body, limit=16)) <= 2 * 16 + 1


SECTION = """
<!-- section {n} --><h2 class="x">Section {n} &amp; more</h2>
<p>A <a href="https://example.org/a?utm_source=x&amp;b=1" title="a > b">link</a>, <em>stress</em>,
1 &lt; 2 < 3 and a stray < sign.<br><p>Unclosed paragraph <span>span</span>
<ul><li>one<li>two <b>bold<li>three</ul><ol><li><p>item</p></li></ol>
<table><tr><td>a<td>b</tr><tr><th>c</table><dl><dt>term<dd>def<dt>t2<dd>d2</dl>
<script>var s = "</div><div>"; if (a < b) {{ x(); }}</script><style>p > a {{ color: red }}</style>
<svg viewBox="0 0 10 10"><path d="M0 0L10 10"/><g><circle r="1"/></g></svg>
<figure><img src="https://example.org/i{n}.png" alt="x"><figcaption>cap</figcaption></figure>
<div><div><blockquote>quote <cite>c</cite></blockquote></div></div><pre>code <b>x</b>
  line</pre><noscript><img src="p.gif"></noscript><iframe src="https://x.example"></iframe>
<math><mi>x</mi></math><textarea></div></textarea><p>after &nbsp; &copy; &#x41; ok</p>
"""


def test_ordinary_html_comes_out_of_nh3_as_it_did() -> None:
    """A long, sloppy but ordinary body (10,000 tags) is not changed by the cap."""
    body = "".join(SECTION.format(n=n) for n in range(120))
    assert body.count("<") > 10_000
    options = dict(tags=cleaning.ALLOWED_TAGS, clean_content_tags=cleaning.DROP_WITH_CONTENT,
                   attributes=cleaning.ALLOWED_ATTRIBUTES, url_schemes=cleaning.ALLOWED_SCHEMES,
                   strip_comments=True)  # fmt: skip
    assert nh3.clean(bound_nesting(body), **options) == nh3.clean(body, **options)  # type: ignore[arg-type]


def test_only_what_nh3_drops_with_its_content_is_removed() -> None:
    assert RAW_TEXT | FOREIGN <= cleaning.DROP_WITH_CONTENT
