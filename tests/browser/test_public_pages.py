"""The public archive in a real browser: it renders, and axe finds nothing serious."""

from __future__ import annotations

from playwright.async_api import Page

from carnews.settings import Settings
from carnews.storage import Database
from carnews.web.app import create_app
from tests.browser.axe import serious_violations, serious_violations_in_html
from tests.browser.conftest import serving


async def test_the_archive_is_accessible_in_chromium(
    page: Page, settings: Settings, db: Database
) -> None:
    async with serving(create_app(settings, db)) as url:
        await page.goto(url("/"))
        assert settings.site.title in await page.title()
        assert await serious_violations(page) == []


async def test_axe_reports_a_serious_violation_when_there_is_one(page: Page) -> None:
    found = await serious_violations_in_html(page, "<html><body><img src='x.png'></body></html>")
    assert any(v.startswith("image-alt") for v in found)
