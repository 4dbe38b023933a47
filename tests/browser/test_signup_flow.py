"""A patient signs up in Chromium: the form, the confirmation mail at a real SMTP server,
its link, the preferences page, one-click unsubscribe; axe checks every page on the way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from playwright.async_api import Page

from carnews.clock import Clock
from carnews.settings import Settings, SmtpSettings, replace
from carnews.storage import Database
from carnews.storage.models import SubscriberStatus
from carnews.web.app import create_app
from tests.browser.axe import serious_violations
from tests.browser.conftest import serving
from tests.conftest import NOW
from tests.helpers import smtp_server, subscribe
from tests.signup_helpers import MovableClock, confirmation_tokens, subscriber_named

pytestmark = pytest.mark.both_databases


def mailing(settings: Settings, port: int) -> Settings:
    smtp = SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5)
    return replace(settings, smtp=smtp, web=dataclasses.replace(settings.web))


async def accessible(page: Page) -> None:
    assert await serious_violations(page) == [], page.url


async def sign_up_in(page: Page, address: str) -> None:
    await page.get_by_label("Email address").fill(address)
    await page.get_by_label("Your name").fill("Ana María")
    await page.get_by_label("lupus", exact=True).check()
    await page.get_by_label("A monthly digest").check()
    await page.get_by_label("I agree").check()
    await page.get_by_role("button", name="Subscribe").click()


async def test_sign_up_confirm_change_preferences_and_unsubscribe(
    page: Page, settings: Settings, db: Database, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    with smtp_server(mail) as port:
        async with serving(create_app(mailing(settings, port), db)) as url:
            await page.goto(url("/subscribe"))
            await accessible(page)
            await page.get_by_role("button", name="Subscribe").click()  # nothing filled in
            assert await page.get_by_text("Enter your email address.").count() > 0
            await accessible(page)

            await sign_up_in(page, "ana@example.org")
            await page.get_by_role("heading", name="Check your inbox").wait_for()
            await accessible(page)
            [token] = confirmation_tokens(mail)

            await page.goto(url(f"/confirm/{token}"))
            await accessible(page)
            await page.get_by_role("button", name="Confirm my subscription").click()
            await page.get_by_role("heading", name="You are subscribed").wait_for()
            await accessible(page)
            await page.get_by_role("link", name="Your preferences").click()
            await page.get_by_role("heading", name="Your preferences").wait_for()
            await accessible(page)

            await page.get_by_label("lupus", exact=True).uncheck()
            await page.get_by_label("myositis", exact=True).check()
            await page.get_by_label("Every edition").check()
            await page.get_by_role("button", name="Save my choices").click()
            await page.get_by_text("Your choices are saved.").wait_for()
            chosen = await subscriber_named(db, "ana@example.org")
            assert chosen is not None and chosen.status == SubscriberStatus.ACTIVE
            assert (chosen.diseases, chosen.frequency) == (["myositis"], "edition")

            await page.get_by_role("button", name="Unsubscribe").click()
            await page.get_by_role("heading", name="You are unsubscribed").wait_for()
            await accessible(page)
    gone = await subscriber_named(db, "ana@example.org")
    assert gone is not None and gone.status == SubscriberStatus.UNSUBSCRIBED


async def test_a_get_of_the_unsubscribe_link_changes_nothing(
    page: Page, settings: Settings, db: Database, clock: Clock
) -> None:
    await subscribe(db, clock, "ben@example.org")
    kept = await subscriber_named(db, "ben@example.org")
    assert kept is not None
    async with serving(create_app(settings, db)) as url:
        answer = await page.goto(url(f"/unsubscribe/{kept.unsubscribe_token}"))
        assert answer is not None and answer.status == 200
        await page.get_by_role("button", name="Unsubscribe me").wait_for()
        await accessible(page)
    still = await subscriber_named(db, "ben@example.org")
    assert still is not None and still.status == SubscriberStatus.ACTIVE


async def test_a_reused_or_expired_link_gets_a_clear_page(
    page: Page, settings: Settings, db: Database, tmp_path: Path
) -> None:
    mail = tmp_path / "mail"
    clock = MovableClock(NOW)
    with smtp_server(mail) as port:
        async with serving(create_app(mailing(settings, port), db, clock=clock)) as url:
            for address in ("used@example.org", "late@example.org"):
                await page.goto(url("/subscribe"))
                await sign_up_in(page, address)
                await page.get_by_role("heading", name="Check your inbox").wait_for()
            used, late = confirmation_tokens(mail)
            await page.goto(url(f"/confirm/{used}"))
            await page.get_by_role("button", name="Confirm my subscription").click()
            await page.get_by_role("heading", name="You are subscribed").wait_for()

            again = await page.goto(url(f"/confirm/{used}"))
            assert again is not None and again.status == 410
            await page.get_by_text("this confirmation link was already used").wait_for()
            await accessible(page)

            clock.advance(days=3, seconds=1)
            expired = await page.goto(url(f"/confirm/{late}"))
            assert expired is not None and expired.status == 410
            await page.get_by_text("this confirmation link has expired").wait_for()
    late_one = await subscriber_named(db, "late@example.org")
    assert late_one is not None and late_one.status == SubscriberStatus.PENDING
