"""Benchmark: cleaning deeply nested HTML, with the nesting cap and without it.

Run: .venv/bin/python bench/clean.py [--before-up-to 100000] [--shape lists]

nh3's parser (html5ever) walks its stack of open elements for most tags, so nesting costs
N² (see carnews.gather.nesting). For each costly shape this prints the seconds ``clean()``
takes now, and, for sizes up to ``--before-up-to`` levels, the seconds it took before the
cap (nh3 on the same body, as ``clean`` called it; minutes, so keep that small). Sizes: 25,000
and 100,000 levels, and as many as fit in 10 MB (``fetch.max_bytes``). Then the cost of
the cap on ordinary bodies, with and without it.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from carnews.gather import clean as cleaning
from carnews.gather.nesting import bound_nesting

MAX_BYTES = 10_000_000  # fetch.max_bytes: the largest body a source may send
SHAPES: dict[str, Callable[[int], str]] = {
    "nested <div>": lambda n: "<div>" * n + "x" + "</div>" * n,
    "unclosed <div>": lambda n: "<div>x" * n,
    "nested lists": lambda n: "<ul><li>" * n + "x",
    "reopened <b>": lambda n: "".join(f"<div><b id={k}></div>x" for k in range(n)),
    "<img without '>'": lambda n: "<img" * n,
}


OLD_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)  # scanned to the end from each "<img"


@contextmanager
def without_cap() -> Iterator[None]:
    """``clean`` as it was: nh3 parses the body as it came, and the old pixel regex."""
    img_tag = cleaning.IMG_TAG
    cleaning.bound_nesting, cleaning.IMG_TAG = (lambda raw: raw), OLD_IMG_TAG
    try:
        yield
    finally:
        cleaning.bound_nesting, cleaning.IMG_TAG = bound_nesting, img_tag


def seconds(body: str, runs: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        cleaning.clean(body)
    return (time.perf_counter() - started) / runs


def ordinary_article(sections: int) -> str:
    """Well-formed ordinary markup, 28 tags a section."""
    section = (
        '<h2>Section</h2><p>Text with <a href="https://example.org/a">a link</a>, '
        "<em>stress</em> and <b>bold</b>.</p><ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>a</td><td>b</td></tr></table><div><blockquote>q</blockquote></div>"
    )
    return section * sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-up-to", type=int, default=25_000)
    parser.add_argument("--shape", default="", help="only shapes whose name holds this")
    args = parser.parse_args()
    for name, shape in SHAPES.items():
        if args.shape not in name:
            continue
        per_level = len(shape(100_000)) / 100_000
        for levels in (25_000, 100_000, int(MAX_BYTES / per_level)):
            body = shape(levels)
            now = seconds(body)
            line = f"{name:18} {levels:>9,} ({len(body) / 1e6:5.1f} MB): {now:6.2f} s"
            if levels <= args.before_up_to:
                with without_cap():
                    line += f"   before the cap: {seconds(body):7.1f} s"
            print(line, flush=True)
    for body, runs in ((ordinary_article(500), 20), (ordinary_article(1), 2000)):
        label = f"ordinary body of {body.count('<'):,} tags"
        with without_cap():
            before = seconds(body, runs)
        print(f"{label}: {1000 * seconds(body, runs):.2f} ms with the cap, "
              f"{1000 * before:.2f} ms without")  # fmt: skip


if __name__ == "__main__":
    main()
