"""The public web app: archive, feeds, and unsubscribe that acts on POST only (RFC 8058)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from carnews.audience.subscriptions import add_subscriber
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.editions.render import render
from carnews.errors import ConfigError, TemplateError
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import Subscriber, SubscriberStatus
from carnews.web.app import create_app


@pytest.fixture
def client(settings: Settings, clock: Clock, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


async def subscriber(db: Database, clock: Clock) -> tuple[int, str]:
    """A new active subscriber's id and unsubscribe token."""
    person = await add_subscriber(db, clock, load_lexicon(), email="a@example.org",
                                  confirmed=True, consent_source="t", actor="t")  # fmt: skip
    return person.id, person.unsubscribe_token


async def status_of(db: Database, person: int) -> SubscriberStatus:
    async with db.session() as session:
        return (await session.get_one(Subscriber, person)).status


async def test_get_shows_a_button_and_changes_nothing(
    client: TestClient, db: Database, clock: Clock, settings: Settings
) -> None:
    person, token = await subscriber(db, clock)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert await status_of(db, person) == SubscriberStatus.ACTIVE


async def test_one_click_post_unsubscribes(
    client: TestClient, db: Database, clock: Clock, settings: Settings
) -> None:
    person, token = await subscriber(db, clock)
    answer = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert await status_of(db, person) == SubscriberStatus.UNSUBSCRIBED
    assert client.post(f"/unsubscribe/{token}").status_code == 200, "twice is harmless"


def test_forged_token_gets_a_clear_404(client: TestClient) -> None:
    page = client.post("/unsubscribe/forged.token")
    assert page.status_code == 404 and "not valid" in page.text
    api = client.get("/unsubscribe/forged.token", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json()["error"] == "this unsubscribe link is not valid"


def test_empty_archive_and_feeds(client: TestClient) -> None:
    assert "No issue has been sent yet" in client.get("/").text
    for path in ("/feed.xml", "/atom.xml"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert feedparser.parse(answer.content).bozo == 0
    assert client.get("/editions/7.html").status_code == 404
    assert client.get("/health").json() == {"status": "ok"}


def test_a_broken_template_is_a_template_error(tmp_path: Path) -> None:
    """A template that fails to render is named as such, not as a bad setting."""
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "message.html").write_text("{{ missing_variable }}")
    with pytest.raises(TemplateError, match=r"web/message\.html") as raised:
        render("web/message.html", str(tmp_path))
    assert not isinstance(raised.value, ConfigError)


async def test_the_link_in_a_sent_email_works_whatever_the_site_key_and_names_nobody(
    db: Database, clock: Clock, settings: Settings, tmp_path: Path
) -> None:
    """A new or missing CARNEWS_SITE_SECRET_KEY no longer breaks every link ever sent."""
    import base64
    import re

    from carnews.mail.deliver import send_edition
    from carnews.settings import Secret, replace
    from tests.helpers import inbox, smtp_server, subscribe
    from tests.test_deliver import approved_edition, with_smtp

    edition_id = await approved_edition(db, clock)
    await subscribe(db, clock, "reader@example.org")
    with smtp_server(tmp_path / "mail") as port:
        await send_edition(db, with_smtp(settings, port), clock, edition_id, actor="t")
    (message,) = inbox(tmp_path / "mail")
    found = re.search(
        r"<http://news\.test(/unsubscribe/([^>]+))>", str(message["List-Unsubscribe"])
    )
    assert found is not None
    path, token = found[1], found[2]
    for part in token.split("."):  # a signed id was base64 of the id, readable by anyone
        assert base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) != b"1"
    rotated = replace(settings, site=replace(settings.site, secret_key=Secret("a new key")))
    with TestClient(create_app(rotated, clock=clock)) as client:
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 200
    assert await status_of(db, 1) == SubscriberStatus.UNSUBSCRIBED
