"""The email's HTML part in Chromium: axe-core finds no serious or critical violation."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.axe import serious_violations_in_html
from tests.test_inbox_email import STORIES, bodies, compose, view


async def test_the_email_html_is_accessible(page: Page) -> None:
    for diseases in ((), ("lupus",)):
        _, html = bodies(compose(view(*STORIES), diseases=diseases))
        assert await serious_violations_in_html(page, html) == []


async def test_the_email_is_readable_on_a_phone_without_sideways_scrolling(page: Page) -> None:
    await page.set_viewport_size({"width": 360, "height": 640})
    _, html = bodies(compose(view(*STORIES)))
    await page.set_content(html)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert not await page.locator(".preheader").is_visible(), "the preview line stays hidden"
