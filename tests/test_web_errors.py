"""An unexpected error answers a plain page that still carries the security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from carnews.settings import Settings
from carnews.web.app import create_app


def test_a_crash_answers_a_plain_page_with_the_security_headers(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom <script>")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/crash")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text and "boom" not in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert answer.headers["x-frame-options"] == "DENY"
