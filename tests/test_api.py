"""The admin JSON API: bearer token, subscribers, imports; off (404) without a token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from carnews.audience.subscriptions import import_csv
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.settings import Secret, Settings, WebSettings, replace
from carnews.storage import Database
from carnews.web.app import create_app

pytestmark = pytest.mark.both_databases
TOKEN = "s3cret-api-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def with_token(settings: Settings, token: str = TOKEN) -> Settings:
    return replace(settings, web=WebSettings(api_token=Secret(token)))


@pytest.fixture
async def api(settings: Settings, db: Database, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(with_token(settings), db, clock=clock)
    transport = httpx.ASGITransport(app=app)
    # httpx does not run the app's lifespan, which reads the site key erasing hashes with.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def test_no_token_set_means_no_api(settings: Settings, db: Database) -> None:
    app = create_app(settings, db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:  # fmt: skip
        answer = await client.get("/api/subscribers", headers=AUTH)
    assert answer.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
async def test_a_missing_or_wrong_token_is_refused(
    api: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    answer = await api.get("/api/subscribers", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in answer.json()["error"]


async def test_add_get_list_update_remove(api: httpx.AsyncClient) -> None:
    made = await api.post("/api/subscribers", headers=AUTH, json={
        "email": "Ana@Example.org", "name": "Ana", "diseases": ["SLE"], "frequency": "monthly",
        "confirmed": True})  # fmt: skip
    assert made.status_code == 201, made.text
    ana = made.json()
    fields = ("email", "status", "diseases", "frequency", "consent_source")
    assert [ana[f] for f in fields] == ["ana@example.org", "active", ["lupus"], "monthly", "api"]
    assert "unsubscribe_token" not in ana
    again = await api.post("/api/subscribers", headers=AUTH, json={"email": "ana@example.org"})
    assert again.status_code == 409 and "already" in again.json()["error"]
    await api.post("/api/subscribers", headers=AUTH, json={"email": "bo@example.org"})

    got = await api.get(f"/api/subscribers/{ana['id']}", headers=AUTH)
    assert got.json() == ana
    first = (await api.get("/api/subscribers?per_page=1", headers=AUTH)).json()
    assert (first["total"], [s["email"] for s in first["items"]]) == (2, ["ana@example.org"])
    second = (await api.get("/api/subscribers?per_page=1&page=2", headers=AUTH)).json()
    assert [s["email"] for s in second["items"]] == ["bo@example.org"]
    pending = (await api.get("/api/subscribers?status=pending", headers=AUTH)).json()
    assert [s["email"] for s in pending["items"]] == ["bo@example.org"]

    change = {"diseases": ["myositis"], "status": "unsubscribed"}
    changed = await api.patch(f"/api/subscribers/{ana['id']}", headers=AUTH, json=change)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["diseases"], changed.json()["status"]) == (["myositis"], "unsubscribed")
    assert changed.json()["name"] == "Ana", "fields left out stay"

    assert (await api.delete(f"/api/subscribers/{ana['id']}", headers=AUTH)).status_code == 204
    assert (await api.get(f"/api/subscribers/{ana['id']}", headers=AUTH)).status_code == 404
    assert (await api.delete(f"/api/subscribers/{ana['id']}", headers=AUTH)).status_code == 404


async def test_remove_erases_as_the_reader_would_so_an_import_cannot_re_add(
    api: httpx.AsyncClient, db: Database, clock: Clock, settings: Settings
) -> None:
    """DELETE is the same erasure as the reader's own "erase me": the row goes, only a
    keyed hash of the address stays, and an import quietly re-adding it is refused."""
    made = await api.post("/api/subscribers", headers=AUTH,
                          json={"email": "ana@example.org", "confirmed": True})  # fmt: skip
    removed = await api.delete(f"/api/subscribers/{made.json()['id']}", headers=AUTH)
    assert removed.status_code == 204
    listed = (await api.get("/api/subscribers", headers=AUTH)).json()
    assert listed["total"] == 0
    report = await import_csv(db, clock, load_lexicon(), "email\nana@example.org\nbo@example.org\n",
                              confirmed=True, actor="t",
                              site_key=settings.site.secret_key.reveal())  # fmt: skip
    assert report.added == 1 and report.rejected[0][1:] == (
        "ana@example.org",
        "erased or blocked: only its owner can sign up again, through the form",
    )
    emails = [s["email"] for s in (await api.get("/api/subscribers", headers=AUTH)).json()["items"]]
    assert emails == ["bo@example.org"]
    schema = create_app(with_token(settings), db, clock=clock).openapi()
    described = schema["paths"]["/api/subscribers/{subscriber_id}"]["delete"]["description"]
    assert "erase" in described.lower() and "import" in described


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not an address"},
        {"email": "a@example.org", "diseases": ["no such disease"]},
        {"email": "a@example.org", "name": "x" * 201},
        {"email": "a@example.org\r\nBcc: b@example.org"},
        {"email": "a@example.org", "name": "Ana\x00"},
        {"email": "a@example.org", "frequency": "daily"},
        {"email": "a@example.org", "status": "active"},
    ],
)
async def test_bad_input_is_a_4xx_and_nothing_is_stored(
    api: httpx.AsyncClient, body: dict[str, object]
) -> None:
    answer = await api.post("/api/subscribers", headers=AUTH, json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert (await api.get("/api/subscribers", headers=AUTH)).json()["total"] == 0


async def test_an_id_past_the_column_range_is_a_4xx(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/api/subscribers/{2**63}", headers=AUTH)).status_code == 422
    assert (await api.get("/api/subscribers/2147483647", headers=AUTH)).status_code == 404


async def test_import_status_sums_each_import(
    api: httpx.AsyncClient, db: Database, clock: Clock
) -> None:
    rows = "".join(f"r{n}@example.org,,\n" for n in range(1500))  # two chunks of one import
    await import_csv(db, clock, load_lexicon(), "email,name,diseases\n" + rows, confirmed=True,
                     actor="ops")  # fmt: skip
    runs = (await api.get("/api/imports", headers=AUTH)).json()
    assert [(r["actor"], r["added"], r["last_line"]) for r in runs] == [("ops", 1500, 1501)]
