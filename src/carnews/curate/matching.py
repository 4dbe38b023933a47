"""What the lexicon finds in one entry: each term's mentions in the title and the text.

Overlapping mentions are counted once, longest first; cancer and cancer-product mentions
inside an [oncology_context] span ("approved for multiple myeloma", "secondary T-cell
lymphoma") are set apart as context. Pure: scans in, hits out; ``carnews.curate.classify``
turns them into a verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from carnews.curate.lexicon import Lexicon, Term
from carnews.text.textmatch import Scan

__all__ = ["Found", "Hit", "count", "find", "hits"]


@dataclass(frozen=True)
class Hit:
    """How often one term was found in the title and in the body."""

    name: str
    title: int
    text: int


# --- matching ------------------------------------------------------------------------


def _claim(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the longest of overlapping matches, so one phrase is counted once."""
    kept: list[tuple[int, int, str]] = []
    for start, end, name in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, name))
    return kept


def _mentions(lexicon: Lexicon, scan: Scan, table: str) -> list[list[tuple[int, int, str]]]:
    """Each term's mentions as (start, end, term), in lexicon order; terms not
    mentioned are left out."""
    index = lexicon.index
    by_term: dict[int, list[tuple[int, int, str]]] = {}
    for number, found in scan.finditer(index.tables[table]).items():
        name = index.names[number]
        mentions = by_term.setdefault(index.terms[number], [])
        mentions.extend((m.start(), m.end(), name) for m in found)
    return list(by_term.values())


def _claimed(
    lexicon: Lexicon, scan: Scan, table: str, *, shared: bool
) -> list[tuple[int, int, str]]:
    """Every mention as (start, end, term); with ``shared`` the terms compete for
    overlapping text, otherwise each term only with itself."""
    groups = _mentions(lexicon, scan, table)
    return _claim(chain(*groups)) if shared else list(chain(*map(_claim, groups)))


def count(lexicon: Lexicon, scan: Scan, table: str, *, shared: bool) -> Counter[str]:
    """Mentions per term."""
    return Counter(name for _, _, name in _claimed(lexicon, scan, table, shared=shared))


def _as_hits(terms: tuple[Term, ...], in_title: Counter[str], in_text: Counter[str]) -> list[Hit]:
    # The counters hold only names found, so a term in neither has no hit.
    found = [t.name for t in terms if t.name in in_title or t.name in in_text]
    return [Hit(name, in_title[name], in_text[name]) for name in found]


def hits(lexicon: Lexicon, table: str, title: Scan, text: Scan, *, shared: bool) -> list[Hit]:
    in_title = count(lexicon, title, table, shared=shared)
    in_text = count(lexicon, text, table, shared=shared)
    return _as_hits(getattr(lexicon, table), in_title, in_text)


def _outside_context(lexicon: Lexicon, body: Scan) -> tuple[Counter[str], Counter[str], int]:
    """Cancer and cancer-product mentions that are not mere context, and how many were.

    Context is a product's approval, a comparison, a side effect ("secondary T-cell
    malignancy") or an absence ("without tumour"): see [oncology_context]."""
    cancers = _claimed(lexicon, body, "oncology", shared=True)
    products = _claimed(lexicon, body, "oncology_products", shared=False)
    # The context patterns are slow (every cancer name in one alternation), so they
    # only run where a cancer is named.
    context = body.finditer(lexicon.index.tables["oncology_context"]) if cancers or products else {}
    spans = [m.span() for found in context.values() for m in found]

    def kept(found: list[tuple[int, int, str]]) -> Counter[str]:
        return Counter(n for at, _, n in found if not any(s <= at < e for s, e in spans))

    kept_cancers, kept_products = kept(cancers), kept(products)
    skipped = len(cancers) + len(products) - kept_cancers.total() - kept_products.total()
    return kept_cancers, kept_products, skipped


@dataclass(frozen=True)
class Found:
    """Everything the lexicon found in one entry."""

    diseases: list[Hit]
    therapies: list[Hit]
    treatments: list[Hit]
    cancers: list[Hit]
    products: list[Hit]
    in_context: int
    repurposed: tuple[str, ...]


def find(lexicon: Lexicon, title: Scan, text: Scan) -> Found:
    title_cancers, title_products, title_context = _outside_context(lexicon, title)
    text_cancers, text_products, text_context = _outside_context(lexicon, text)
    cancers = _as_hits(lexicon.oncology, title_cancers, text_cancers)
    products = _as_hits(lexicon.oncology_products, title_products, text_products)
    diseases = hits(lexicon, "diseases", title, text, shared=True)
    # A cancer product in a story whose title names an autoimmune disease and no cancer
    # is being tried in that disease (obe-cel in lupus): it says nothing against it.
    specific = any(h.title and h.name not in lexicon.broad_terms for h in diseases)
    repurposed = specific and not any(h.title for h in cancers)
    return Found(
        diseases=diseases,
        therapies=hits(lexicon, "therapies", title, text, shared=False),
        treatments=hits(lexicon, "other_treatments", title, text, shared=False),
        cancers=cancers,
        products=[] if repurposed else products,
        in_context=title_context + text_context,
        repurposed=tuple(h.name for h in products) if repurposed else (),
    )
