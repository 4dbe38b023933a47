"""Review page forms a browser test does not click through: the checklist, the test send,
the send time and discarding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from carnews.clock import Clock
from carnews.editions.review import load_edition
from carnews.settings import MailSettings, Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import EditionState
from carnews.web.app import create_app
from carnews.web.csrf import FIELD
from tests.helpers import inbox, smtp_server
from tests.review_helpers import PASSWORD, editors, seed_draft


@contextmanager
def logged_in(settings: Settings, clock: Clock) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(settings, clock=clock)) as client:
        page = client.get("/review/login").text
        token = page.split(f'name="{FIELD}" value="', 1)[1].split('"', 1)[0]
        client.post("/review/login", data={FIELD: token, "email": "editor@example.org",
                                           "password": PASSWORD})  # fmt: skip
        yield client, token


async def edition(db: Database, edition_id: int) -> tuple[EditionState, datetime | None]:
    async with db.read() as session:
        found = await load_edition(session, edition_id)
        return found.state, found.send_at


async def test_approval_needs_every_line_of_the_checklist(
    settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    with logged_in(settings, clock) as (client, token):
        ticked = {FIELD: token, "main_message": "yes", "harms": "yes", "unknowns": "yes"}
        answer = client.post(f"/review/editions/{edition_id}/approve", data=ticked)
        assert answer.status_code == 400 and "Nothing advises anyone" in answer.text
        assert (await edition(db, edition_id))[0] == EditionState.DRAFT
        answer = client.post(f"/review/editions/{edition_id}/approve",
                             data={**ticked, "no_advice": "yes"})  # fmt: skip
        assert answer.status_code == 200 and "Approved." in answer.text
    assert (await edition(db, edition_id))[0] == EditionState.APPROVED


async def test_a_test_send_goes_to_the_editor_alone(
    settings: Settings, db: Database, clock: Clock, tmp_path: Path
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    with smtp_server(tmp_path / "mail") as port:
        configured = replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=port,
                                                         timeout_seconds=5),
                             mail=MailSettings(from_address="news@carnews.test"))  # fmt: skip
        with logged_in(configured, clock) as (client, token):
            answer = client.post(f"/review/editions/{edition_id}/test", data={FIELD: token})
            assert "The test is on its way to you." in answer.text
    received = inbox(tmp_path / "mail")
    assert [str(m["To"]) for m in received] == ["editor@example.org"]
    assert str(received[0]["Subject"]).startswith("[TEST]")
    assert (await edition(db, edition_id))[0] == EditionState.DRAFT


async def test_the_send_time_is_set_in_utc_and_a_draft_discarded(
    settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    with logged_in(settings, clock) as (client, token):
        path = f"/review/editions/{edition_id}"
        client.post(f"{path}/schedule", data={FIELD: token, "send_at": "2026-12-07T09:00"})
        assert (await edition(db, edition_id))[1] == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        bad = client.post(f"{path}/schedule", data={FIELD: token, "send_at": "next monday"})
        assert bad.status_code == 400 and "not a date and time" in bad.text
        client.post(f"{path}/schedule", data={FIELD: token, "now": "yes"})
        assert (await edition(db, edition_id))[1] == clock()
        answer = client.post(f"{path}/discard", data={FIELD: token})
        assert "The draft is discarded." in answer.text and "Save story" not in answer.text
    assert (await edition(db, edition_id))[0] == EditionState.DISCARDED


async def test_the_preview_keeps_the_mails_inline_styles_and_allows_no_script(
    settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    with logged_in(settings, clock) as (client, _):
        answer = client.get(f"/review/editions/{edition_id}/preview.html")
    policy = answer.headers["content-security-policy"]
    assert 'style="' in answer.text  # the mail is styled inline, as mail clients need
    assert "style-src 'unsafe-inline'" in policy and "sandbox" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
