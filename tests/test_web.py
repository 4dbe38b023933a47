"""The public web app: archive, feeds, and unsubscribe that acts on POST only (RFC 8058)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carnews.audience.subscriptions import add_subscriber, unsubscribe_token
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.editions.publish import publish
from carnews.editions.render import render
from carnews.errors import ConfigError, TemplateError
from carnews.settings import Settings, WebSettings, replace
from carnews.storage import Database
from carnews.storage.models import Subscriber, SubscriberStatus
from carnews.web.app import create_app
from carnews.web.headers import SECURITY_HEADERS


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


# --- security headers and the API docs ------------------------------------------------------

DEPLOY = Path(__file__).parents[1] / "deploy" / "nginx"


def sample_paths(app: FastAPI, token: str) -> list[str]:
    """Every GET route of the app (from its schema), with parameters filled in: a route added
    later is covered too."""
    samples = {"edition_id": "1", "token": token}
    paths = [path.format(**samples) for path, methods in app.openapi()["paths"].items()
             if "get" in methods]  # fmt: skip
    return [*paths, "/no-such-page"]


def assert_locked_down(answer: httpx.Response) -> None:
    policy = answer.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    assert answer.headers.get("x-content-type-options") == "nosniff"
    assert answer.headers.get("referrer-policy") == "no-referrer"


async def test_every_answer_sends_the_security_headers(
    client: TestClient, db: Database, clock: Clock, settings: Settings
) -> None:
    """Pages, feeds, errors and the unsubscribe page (its token is in the URL: no referrer)."""
    token = unsubscribe_token(settings.site.secret_key.reveal(), await subscriber_id(db, clock))
    paths = sample_paths(client.app, token)  # type: ignore[arg-type]
    assert {"/", f"/unsubscribe/{token}", "/carnews.css"} <= set(paths)
    for path in paths:
        assert_locked_down(client.get(path))
    assert_locked_down(client.post(f"/unsubscribe/{token}"))
    assert_locked_down(client.get("/unsubscribe/forged", headers={"accept": "application/json"}))


def test_pages_use_the_served_stylesheet_not_inline_css(client: TestClient) -> None:
    """The policy allows styles from the site only, so the CSS must be a file the site serves."""
    page = client.get("/").text
    assert "<style" not in page and "<script" not in page and " style=" not in page
    assert '<link rel="stylesheet" href="http://news.test/carnews.css">' in page
    css = client.get("/carnews.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "font-family" in css.text


async def test_the_published_archive_carries_its_stylesheet(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    report = await publish(db, settings, tmp_path)
    assert tmp_path / "carnews.css" in report.files
    assert "font-family" in (tmp_path / "carnews.css").read_text()
    assert "<style" not in (tmp_path / "index.html").read_text()


def test_api_docs_are_hidden_by_default(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path


def test_api_docs_when_the_operator_turns_them_on(settings: Settings, clock: Clock) -> None:
    """Swagger UI runs one inline script: the docs policy allows exactly that one, by hash."""
    docs_on = replace(settings, web=WebSettings(api_docs=True))
    with TestClient(create_app(docs_on, clock=clock)) as test_client:
        schema = test_client.get("/openapi.json")
        assert schema.status_code == 200 and "/webhooks/bounces" in schema.json()["paths"]
        for path in ("/docs", "/redoc"):
            page = test_client.get(path)
            assert page.status_code == 200 and "/openapi.json" in page.text
            policy = page.headers["content-security-policy"]
            script_policy = next(p for p in policy.split(";") if "script-src" in p)
            assert "unsafe-inline" not in script_policy and "frame-ancestors 'none'" in policy
            for script in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
                digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in script_policy
            assert page.headers["x-content-type-options"] == "nosniff"


def test_nginx_sends_the_same_headers_for_the_static_archive() -> None:
    snippet = (DEPLOY / "security-headers.conf").read_text()
    for name, value in SECURITY_HEADERS.items():
        assert f'add_header {name} "{value}" always;' in snippet, name
    site = (DEPLOY / "carnews.conf").read_text()
    static = [block for block in site.split("location") if "try_files" in block]
    assert static and all("security-headers.conf" in block for block in static)
