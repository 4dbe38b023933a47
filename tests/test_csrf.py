"""CSRF: a form post is accepted only with the token made for this browser's cookie."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from carnews.settings import Settings
from carnews.web.app import create_app
from carnews.web.csrf import COOKIE, FIELD, check_csrf, csrf_token


def app_with_form(settings: Settings) -> TestClient:
    app = create_app(settings)

    @app.get("/form")
    async def form(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    @app.post("/form")
    async def post(request: Request) -> PlainTextResponse:
        await check_csrf(request)
        return PlainTextResponse("accepted")

    return TestClient(app)


def test_a_form_with_its_token_is_accepted_and_others_are_refused(settings: Settings) -> None:
    with app_with_form(settings) as client:
        token = client.get("/form").text
        assert client.cookies.get(COOKIE)
        assert client.post("/form", data={FIELD: token}).text == "accepted"
        # A cookie carries HttpOnly and SameSite=Strict, so other sites' pages cannot use it.
        missing = client.post("/form", data={"name": "x"})
        assert missing.status_code == 403
        assert "security token" in missing.text
        tampered = token[:-1] + ("1" if token.endswith("0") else "0")
        assert client.post("/form", data={FIELD: tampered}).status_code == 403

    with app_with_form(settings) as stranger:
        stranger.get("/form")  # its own cookie: the first browser's token is not for it
        assert stranger.post("/form", data={FIELD: token}).status_code == 403


def test_the_cookie_is_http_only_and_same_site_strict(settings: Settings) -> None:
    with app_with_form(settings) as client:
        header = client.get("/form").headers["set-cookie"]
        assert "HttpOnly" in header and "SameSite=Strict" in header


def test_pages_without_a_form_set_no_cookie(settings: Settings) -> None:
    with app_with_form(settings) as client:
        assert "set-cookie" not in client.get("/").headers
        assert "set-cookie" in client.get("/form").headers
