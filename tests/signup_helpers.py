"""Shared by the sign-up tests: an app with a movable clock and a real SMTP sink."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carnews.settings import Settings, SmtpSettings, WebSettings, replace
from carnews.storage import Database
from carnews.storage.models import Subscriber
from carnews.web.app import create_app
from tests.helpers import inbox, smtp_server

TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CONFIRM_LINK = re.compile(r"/confirm/([A-Za-z0-9_-]+)")


class MovableClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def signup_app(
    settings: Settings, clock: MovableClock, mail: Path, **web: Any
) -> Iterator[TestClient]:
    """The app with its own database connection, mailing to an aiosmtpd sink in ``mail``."""
    with smtp_server(mail) as port:
        configured = replace(
            settings,
            smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5),
            web=dataclasses.replace(WebSettings(), **web),
        )
        with TestClient(create_app(configured, clock=clock)) as client:
            yield client


def form_token(client: TestClient, path: str = "/subscribe") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN_FIELD.search(page.text)
    assert found is not None
    return found[1]


def sign_up(client: TestClient, email: str = "", **fields: Any) -> Any:
    data = {"csrf_token": form_token(client), "email": email, "consent": "yes",
            "frequency": "edition", **fields}  # fmt: skip
    return client.post("/subscribe", data=data)


def confirmation_tokens(mail: Path) -> list[str]:
    tokens = []
    for message in inbox(mail):
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        found = CONFIRM_LINK.search(str(text.get_content()))
        assert found is not None
        tokens.append(found[1])
    return tokens


def confirm(client: TestClient, token: str) -> Any:
    return client.post(
        f"/confirm/{token}", data={"csrf_token": form_token(client, f"/confirm/{token}")}
    )


async def subscriber_named(db: Database, email: str) -> Subscriber | None:
    async with db.read() as session:
        return await session.scalar(select(Subscriber).where(Subscriber.email == email))


async def subscriber_count(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Subscriber)) or 0
