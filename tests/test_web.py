"""The public web app: archive, feeds, and unsubscribe that acts on POST only (RFC 8058)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient

from carnews.audience.subscriptions import add_subscriber, unsubscribe_token
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


async def subscriber_id(db: Database, clock: Clock) -> int:
    person = await add_subscriber(db, clock, load_lexicon(), email="a@example.org",
                                  confirmed=True, consent_source="t", actor="t")  # fmt: skip
    return person.id


async def status_of(db: Database, person: int) -> SubscriberStatus:
    async with db.session() as session:
        return (await session.get_one(Subscriber, person)).status


async def test_get_shows_a_button_and_changes_nothing(
    client: TestClient, db: Database, clock: Clock, settings: Settings
) -> None:
    person = await subscriber_id(db, clock)
    token = unsubscribe_token(settings.site.secret_key.reveal(), person)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert await status_of(db, person) == SubscriberStatus.ACTIVE


async def test_one_click_post_unsubscribes(
    client: TestClient, db: Database, clock: Clock, settings: Settings
) -> None:
    person = await subscriber_id(db, clock)
    token = unsubscribe_token(settings.site.secret_key.reveal(), person)
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
