"""Hostile text an editor (or a stolen editor account) types into every editable field is
stored as typed and shown as text everywhere: review pages, email, archive, feed, terminal."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from carnews.clock import Clock
from carnews.editions import workflow
from carnews.editions.publish import build_feed, sent_edition_views
from carnews.editions.render import render_email
from carnews.editions.review import load_edition
from carnews.editions.views import edition_view
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState
from carnews.web.app import create_app
from carnews.web.csrf import FIELD
from tests.cli_helpers import carnews
from tests.review_helpers import PASSWORD, editors, seed_draft

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> [bold]B[/bold] [31mred"
TYPED = HOSTILE.replace("[31m", "\x1b[31m\x00")  # control characters are dropped on input
RAW = ("<script>alert(1)</script>", "<img src=x onerror")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# No editor is on file where these are used, so an approval withdrawn mails nobody.
SETTINGS = Settings()


async def hostile_edition(db: Database, clock: Clock) -> tuple[int, int]:
    edition_id = await seed_draft(db, clock)
    async with db.read() as session:
        story_id = (await load_edition(session, edition_id)).items[0].story_id
    texts = {field: f"{field}: {TYPED}" for field in workflow.FIELDS}
    await workflow.edit_story(db, SETTINGS, clock, edition_id, story_id, texts, actor="ed")
    await workflow.set_intro(db, SETTINGS, clock, edition_id, f"intro: {TYPED}", actor="ed")
    await workflow.set_subject(db, SETTINGS, clock, edition_id, f"subject: {TYPED}", actor="ed")
    return edition_id, story_id


def assert_escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html
    assert ESCAPED in html


@pytest.mark.both_databases
async def test_hostile_text_is_stored_as_typed_and_escaped_on_the_review_pages(
    settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id, _ = await hostile_edition(db, clock)
    await editors(db, clock)
    async with db.read() as session:
        item = (await load_edition(session, edition_id)).items[0]
        assert item.card["quote"] == f"quote: {HOSTILE}"
        assert item.card["unknowns"] == [f"unknowns: {HOSTILE}"]
    with TestClient(create_app(settings, clock=clock)) as client:
        login = client.get("/review/login").text
        token = login.split(f'name="{FIELD}" value="', 1)[1].split('"', 1)[0]
        client.post("/review/login", data={FIELD: token, "email": "editor@example.org",
                                           "password": PASSWORD})  # fmt: skip
        page = client.get(f"/review/editions/{edition_id}").text
        assert_escaped(page)
        for field in ("headline", "what_happened", "quote", "side_effects", "intro", "subject"):
            assert f"{field}: {ESCAPED}" in page, field
        assert_escaped(client.get("/review/").text)
        assert_escaped(client.get(f"/review/editions/{edition_id}/preview.html").text)


async def test_hostile_text_is_escaped_in_the_email_archive_and_feed(
    settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id, _ = await hostile_edition(db, clock)
    async with db.read() as session:
        view = await edition_view(session, await load_edition(session, edition_id),
                                  base_url="https://news.test", site_title="News")  # fmt: skip
    email = render_email(view)
    assert_escaped(email.html)
    assert f"subject: {HOSTILE}" in email.text  # the text part shows it as typed
    async with db.session() as session:
        await session.execute(update(Edition).where(Edition.id == edition_id)
                              .values(state=EditionState.SENT, sent_at=clock()))  # fmt: skip
    views = await sent_edition_views(db, settings.site)
    feed = ET.fromstring(build_feed(views, settings.site, author="News").rss_str())
    described = [e for e in feed.iter() if e.tag == "description" or e.tag.endswith("encoded")]
    assert any(ESCAPED in (e.text or "") for e in described)
    for element in described:  # HTML a feed reader renders: the hostile tags are text in it
        for raw in RAW:
            assert raw not in (element.text or ""), element.tag
    titles = [e.text for e in feed.iter("title")]  # plain text: XML-escaped, shown as typed
    assert f"subject: {HOSTILE}" in titles
    with TestClient(create_app(settings, clock=clock)) as client:
        assert_escaped(client.get(f"/editions/{edition_id}.html").text)


async def test_hostile_text_reaches_the_terminal_as_text(
    settings: Settings, db: Database, clock: Clock, tmp_path: Path
) -> None:
    edition_id, _ = await hostile_edition(db, clock)
    shown = carnews(tmp_path, "--set", f"database.url={settings.database.url}", "edition",
                    "show", str(edition_id), env={"COLUMNS": "600"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    assert "[bold]B[/bold]" in shown.stdout and "[31mred" in shown.stdout
    assert "<script>alert(1)</script>" in shown.stdout
