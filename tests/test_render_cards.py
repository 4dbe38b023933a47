"""The story card as readers get it: in the email (HTML and text), on the archive page
and in the feed, compared byte for byte with golden files under tests/data/golden/.

The input is tests/data/golden/edition.json: four stories as the views hold them — a
journal's card, a preprint's card, the safe fallback card of a press release, and an
older story explained before cards (summary and glossary only). The email goldens are
the story partials (email/_story.html, email/_story.txt), so the email's outer layout
can change without touching them; the archive page and the feed item are whole.

Regenerate the goldens only as a reviewed step, after reading every difference::

    CARNEWS_REGENERATE_GOLDEN=1 pytest tests/test_render_cards.py
    git diff tests/data/golden/
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from carnews.editions.render import (
    EditionView,
    StoryView,
    TermView,
    build_view,
    render,
    render_email,
)
from carnews.explain.card import Card

GOLDEN = Path(__file__).parent / "data" / "golden"


def _story(data: dict[str, Any]) -> StoryView:
    published = data["published_at"]
    return StoryView(
        story_id=data["story_id"],
        headline=data["headline"],
        summary=data["summary"],
        what_it_means=data["what_it_means"],
        link=data["link"],
        published_at=datetime.fromisoformat(published) if published else None,
        diseases=tuple(data["diseases"]),
        evidence=data["evidence"],
        sources=tuple(data["sources"]),
        terms=tuple(TermView(t["term"], t["plain"]) for t in data["terms"]),
        card=Card.from_dict(data["card"]) if data["card"] else None,
        source_kind=data["source_kind"],
        source_title=data["source_title"],
    )


def golden_view() -> EditionView:
    data = json.loads((GOLDEN / "edition.json").read_text(encoding="utf-8"))
    return build_view(edition_id=data["edition_id"], title=data["title"], intro=data["intro"],
                      date=datetime.fromisoformat(data["date"]), site_title=data["site_title"],
                      base_url=data["base_url"],
                      stories=[_story(s) for s in data["stories"]])  # fmt: skip


def _email_html(view: EditionView) -> str:
    return "".join(render("email/_story.html", story=s) for s in view.stories)


def _email_text(view: EditionView) -> str:
    return "".join(render("email/_story.txt", story=s, number=n)
                   for n, s in enumerate(view.stories, start=1))  # fmt: skip


ARTEFACTS = {
    "card_email.html": _email_html,
    "card_email.txt": _email_text,
    "card_archive.html": lambda view: render("publish/edition.html", edition=view),
    "card_feed_item.html": lambda view: render("publish/feed_item.html", edition=view),
}


@pytest.mark.parametrize("name", sorted(ARTEFACTS))
def test_the_rendered_card_matches_its_golden_file(name: str) -> None:
    rendered = ARTEFACTS[name](golden_view())
    path = GOLDEN / name
    if os.environ.get("CARNEWS_REGENERATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"regenerate {name}? see the docstring"


# --------------------------------------------------------------------------- what a reader sees

SECTIONS = ("What was tested", "Who took part", "What happened", "Side effects",
            "What we don't know yet", "What it means for you")  # fmt: skip


def _text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("name", sorted(ARTEFACTS))
def test_every_artefact_shows_the_card(name: str) -> None:
    """Plain headline, both badges, every section in order, the quote marked as a quote,
    and the source's own title as the text of its link."""
    view = golden_view()
    rendered = ARTEFACTS[name](view)
    shown = _text_of(rendered) if name.endswith(".html") else " ".join(rendered.split())
    journal = view.stories[0]
    assert journal.card is not None
    assert journal.headline in shown and len(journal.headline.split()) <= 14
    at = [shown.index(title) for title in SECTIONS]
    assert at == sorted(at), "the sections come in their order"
    assert "Case series (a few people)" in shown and "Peer-reviewed journal" in shown
    assert "Preprint: not yet checked by other scientists" in shown
    assert "Press release: the company's own account" in shown
    assert f"In the researchers' words: “{journal.card.quote}”" in shown
    for unknown in journal.card.unknowns:
        assert unknown in shown
    if name.endswith(".html"):
        assert f'<a href="{journal.link}">{journal.source_title}</a>' in rendered.replace(
            ' style="color: #1f3a5f;"', ""
        )
        quote = re.search(r"<blockquote[^>]*>(.*?)</blockquote>", rendered, re.S)
        assert quote and journal.card.quote in quote.group(1)
    else:
        assert f"Source: {journal.source_title}" in shown and journal.link in rendered


def test_the_fallback_card_is_flagged_and_never_shows_the_source_text() -> None:
    view = golden_view()
    fallback = view.stories[2]
    assert fallback.card is not None and fallback.card.fallback
    for name, make in ARTEFACTS.items():
        rendered = make(view)
        block = rendered[rendered.index(fallback.headline) :]
        block = block[: block.index(view.stories[3].headline)]
        assert "Not yet summarised" in block.replace("NOT YET SUMMARISED", "Not yet summarised")
        assert "an editor will summarise this" in block, name
        assert "What was tested" not in block and "Who took part" not in block, name
        assert "Acme Bio said it dosed" not in block, name


def test_an_older_story_without_a_card_renders_from_its_summary() -> None:
    view = golden_view()
    older = view.stories[3]
    for name, make in ARTEFACTS.items():
        rendered = make(view)
        shown = _text_of(rendered) if name.endswith(".html") else " ".join(rendered.split())
        assert older.summary in shown, name
        assert f"What this means: {older.what_it_means}" in shown, name


def test_cards_bring_no_glossary_and_the_whole_email_shows_them() -> None:
    """Terms are explained inline in the card: only a story from before cards adds its
    glossary, and an edition of cards alone has none."""
    view = golden_view()
    assert [term.term for term in view.glossary] == ["CAR-T"]
    cards_only = build_view(edition_id=8, title="T", intro="", date=view.date,
                            site_title="S", base_url=view.base_url,
                            stories=view.stories[:3])  # fmt: skip
    email = render_email(cards_only)
    assert "Words used in this issue" not in email.html + email.text
    for story in cards_only.stories:
        assert story.headline in email.text
    assert "<blockquote" in email.html and "What we don't know yet" in email.html


# --------------------------------------------------------------------------- untrusted text

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;{{ 7*7 }}'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def hostile_story(fallback: bool = False) -> StoryView:
    card = Card(headline=HOSTILE, study_type=HOSTILE, what_was_tested=HOSTILE,
                who_took_part=HOSTILE, what_happened=HOSTILE, side_effects=HOSTILE,
                unknowns=(HOSTILE, HOSTILE), what_it_means=HOSTILE, quote=HOSTILE,
                quote_intro=HOSTILE, terms_explained=(HOSTILE,), fallback=fallback)  # fmt: skip
    return StoryView(story_id=1, headline=HOSTILE, summary=HOSTILE, what_it_means=HOSTILE,
                     link="https://example.org/a?b=1&c=<x>", published_at=None,
                     diseases=(HOSTILE,), evidence=HOSTILE, sources=(HOSTILE,), card=card,
                     source_kind=HOSTILE, source_title=HOSTILE)  # fmt: skip


@pytest.mark.parametrize("fallback", [False, True])
def test_untrusted_text_in_every_card_field_stays_text(fallback: bool) -> None:
    story = hostile_story(fallback)
    view = build_view(edition_id=1, title="T", intro="", date=datetime(2026, 12, 1),
                      site_title="S", base_url="https://news.test", stories=[story])  # fmt: skip
    email = render_email(view)
    for name, html in (
        ("email", email.html),
        ("archive", render("publish/edition.html", edition=view)),
        ("feed", render("publish/feed_item.html", edition=view)),
    ):
        parser = _Elements()
        parser.feed(html)
        assert "script" not in parser.tags and "img" not in parser.tags, name
        assert parser.handlers == [], name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
        assert "{{ 7*7 }}" in html and "49" not in html, name
    assert HOSTILE in email.text, "the text part shows the text as it is, untouched"
