"""The demo end to end: bundled feeds → fetch → curate → draft → approve → send → publish.

Messages are read back with the standard library's email parser and the feeds
with feedparser, the way a mail client and a feed reader would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import create_engine, text

from carnews.demo.run import DEMO_EDITOR, DemoResult, run_pipeline

# One worker runs this module, so its module-scoped pipeline runs once, not once per worker.
pytestmark = pytest.mark.xdist_group("demo")

ONCOLOGY_TITLES = [
    "lisocabtagene maraleucel as second-line therapy for large B-cell lymphoma",
    "bicistronic CD19/BCMA CAR T cells in relapsed or refractory multiple myeloma",
    "Obecabtagene autoleucel in adults",
    "epcoritamab plus rituximab",
    "Ciltacabtagene Autoleucel Versus Autologous Stem Cell Transplant",
    "B7-H3 CAR T Cells for Children With Diffuse Midline Glioma",
    "Claudin18.2-targeted CAR T cells",
    "Axicabtagene ciloleucel in patients aged 75",
    "Glofitamab added to first-line chemotherapy",
    "Dual-target CAR-T shrinks recurrent glioblastoma",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo")
    return asyncio.run(run_pipeline(out))


def messages(out: Path) -> dict[str, EmailMessage]:
    found = {}
    for path in sorted((out / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found[str(message["To"])] = message
    return found


def parts(message: EmailMessage) -> tuple[str, str]:
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    return str(text_part.get_content()), str(html_part.get_content())


def test_fetches_all_sample_feeds(demo: DemoResult) -> None:
    assert [s.outcome for s in demo.gathered.sources] == ["ok"] * 4
    assert sum(s.new for s in demo.gathered.sources) >= 30


def test_keeps_autoimmune_stories_and_drops_oncology(demo: DemoResult) -> None:
    kept = " ".join(title for _, title in demo.gathered.curation.kept)
    dropped = " ".join(title for _, title, _ in demo.gathered.curation.dropped)
    for title in ONCOLOGY_TITLES:
        assert title.lower() in dropped.lower()
        assert title.lower() not in kept.lower()
    assert "lupus nephritis" in kept
    assert all(reason for _, _, reason in demo.gathered.curation.dropped)


SAFETY_TITLE = "FDA expands safety labelling on secondary T-cell cancers after CAR-T"


def test_class_wide_car_t_safety_news_reaches_every_subscriber(demo: DemoResult) -> None:
    """Its patients had blood cancers, but a warning about CAR-T as a class is for everyone."""
    assert any(title.startswith(SAFETY_TITLE) for _, title in demo.gathered.curation.kept)
    for message in messages(demo.out).values():
        plain, html = parts(message)
        # The source's title is the card's link text; the text part wraps it between words.
        assert SAFETY_TITLE in " ".join(plain.split()) and SAFETY_TITLE in html


def test_duplicate_story_on_two_feeds_is_one_story(demo: DemoResult) -> None:
    assert demo.gathered.curation.merged_entries >= 1
    engine = create_engine(f"sqlite:///{demo.out / 'carnews.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*), count(DISTINCT source_id) FROM entries "
                 "WHERE canonical_key = 'doi:10.1038/s41591-026-04127-8'")
        ).one()  # fmt: skip
    assert tuple(rows) == (2, 2)


def test_every_subscriber_gets_one_multipart_message(demo: DemoResult) -> None:
    received = messages(demo.out)
    assert set(received) == {
        "ana.lopez@example.org", "ben.okafor@example.net", "chen.wei@example.com",
    }  # fmt: skip
    assert demo.sent.sent == 3
    for message in received.values():
        assert message.get_content_type() == "multipart/alternative"
        plain, html = parts(message)
        for section in ("What was tested", "Side effects", "What it means for you"):
            assert section in plain and section in html
        assert "<script" not in html.lower()
        for title in ONCOLOGY_TITLES:
            assert title.lower() not in plain.lower()
            assert title.lower() not in html.lower()


def test_messages_carry_one_click_unsubscribe_and_unique_ids(demo: DemoResult) -> None:
    received = messages(demo.out).values()
    ids = {str(m["Message-ID"]) for m in received}
    assert len(ids) == 3
    links = {str(m["List-Unsubscribe"]) for m in received}
    assert len(links) == 3, "each subscriber has their own unsubscribe link"
    for message in received:
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
        assert "http://localhost:8000/unsubscribe/" in str(message["List-Unsubscribe"])
        assert str(message["Precedence"]) == "bulk"
        plain, html = parts(message)
        token_url = str(message["List-Unsubscribe"]).split("<")[1].split(">")[0]
        assert token_url in plain and token_url in html


def test_subscribers_get_only_their_diseases(demo: DemoResult) -> None:
    received = messages(demo.out)
    everything, _ = parts(received["ana.lopez@example.org"])
    lupus, _ = parts(received["ben.okafor@example.net"])
    sclerosis, _ = parts(received["chen.wei@example.com"])
    assert "myasthenia gravis" in everything
    assert "lupus" in lupus and "myasthenia gravis ·" not in lupus
    assert "systemic sclerosis" in sclerosis and "· lupus ·" not in sclerosis
    assert len(lupus) < len(everything) and len(sclerosis) < len(everything)


def test_feeds_parse_cleanly_and_archive_exists(demo: DemoResult) -> None:
    public = demo.out / "public"
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((public / name).read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert len(parsed.entries) == 1
        assert "lupus nephritis" in parsed.entries[0].content[0].value
    index = (public / "index.html").read_text()
    assert f"editions/{demo.edition_id}.html" in index
    assert (public / "editions" / f"{demo.edition_id}.html").exists()


CARD_SECTIONS = ("What was tested", "Who took part", "What happened", "Side effects",
                 "What we don't know yet", "What it means for you")  # fmt: skip


def test_every_story_reaches_readers_as_its_card(demo: DemoResult) -> None:
    """Each story of the edition, in the email, the archive page and the feed: its plain
    headline, its badges, the card's sections and the source's own title as link text."""
    engine = create_engine(f"sqlite:///{demo.out / 'carnews.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT i.headline, i.card, s.title, s.summary FROM edition_stories i "
                 "JOIN stories s ON s.id = i.story_id WHERE i.edition_id = :e"),
            {"e": demo.edition_id},
        ).all()  # fmt: skip
    assert len(rows) >= 5
    plain, html = parts(messages(demo.out)["ana.lopez@example.org"])
    public = demo.out / "public"
    page = html_text((public / "editions" / f"{demo.edition_id}.html").read_text())
    feed = feedparser.parse((public / "feed.xml").read_bytes()).entries[0].content[0].value
    shown_html = html_text(html)
    for headline, stored, title, summary in rows:
        card = json.loads(stored) if isinstance(stored, str) else stored
        assert card and headline == card["headline"] and len(headline.split()) <= 14
        assert summary.startswith(card["what_was_tested"]), "the summary is the card's"
        for shown in (" ".join(plain.split()), shown_html, page, html_text(feed)):
            assert headline in shown and " ".join(title.split()) in shown
    for shown in (" ".join(plain.split()), shown_html, page, html_text(feed)):
        at = [shown.find(section) for section in CARD_SECTIONS]
        assert -1 not in at and at == sorted(at)
        assert "Peer-reviewed journal" in shown and "In the researchers' words" in shown
    assert "<blockquote" in html and "Words used in this issue" not in plain


def html_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_approval_by_demo_editor_is_audited(demo: DemoResult) -> None:
    engine = create_engine(f"sqlite:///{demo.out / 'carnews.db'}")
    with engine.connect() as connection:
        actions = connection.execute(
            text("SELECT actor, action, detail FROM audit_log ORDER BY id")
        ).all()
    approvals = [row for row in actions if row.action == "approve"]
    assert [row.actor for row in approvals] == [DEMO_EDITOR]
    assert len(json.loads(approvals[0].detail)["hash"]) == 64
    assert [row.action for row in actions].index("approve") < [row.action for row in actions].index(
        "send_start"
    )


def test_second_run_works_the_same(demo: DemoResult, tmp_path: Path) -> None:
    again = asyncio.run(run_pipeline(demo.out))
    assert again.sent.sent == 3
    assert len(list((demo.out / "mail").glob("*.eml"))) == 3
    assert len(again.gathered.curation.kept) == len(demo.gathered.curation.kept)
