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

from carnews.audience.subscriptions import add_subscriber
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.editions.render import render
from carnews.errors import ConfigError, TemplateError
from carnews.jobs import publish_site
from carnews.settings import Settings, WebSettings, replace
from carnews.storage import Database
from carnews.storage.models import Subscriber, SubscriberStatus
from carnews.web.app import create_app
from carnews.web.headers import SECURITY_HEADERS


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


# --- security headers and the API docs ------------------------------------------------------

DEPLOY = Path(__file__).parents[1] / "deploy" / "nginx"


def sample_paths(app: FastAPI, token: str) -> list[str]:
    """Every GET route of the app (from its schema), with parameters filled in: a route added
    later is covered too."""
    samples = {"edition_id": "1", "token": token, "slug": "lupus"}
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
    _, token = await subscriber(db, clock)
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
    report = await publish_site(db, settings, tmp_path)
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
