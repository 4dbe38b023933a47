"""The story card in a real browser: the archive page and the email of the golden edition
(tests/data/golden/edition.json) have no serious accessibility violation, and the card's
badge colours are readable."""

from __future__ import annotations

from playwright.async_api import Page

from carnews.editions.render import render, render_email
from tests.browser.axe import serious_violations_in_html
from tests.test_render_cards import golden_view


async def test_the_emailed_cards_are_accessible(page: Page) -> None:
    email = render_email(golden_view())
    assert await serious_violations_in_html(page, email.html) == []


async def test_the_archive_page_of_cards_is_accessible_with_its_stylesheet(page: Page) -> None:
    html = render("publish/edition.html", edition=golden_view())
    # Served, the page links its stylesheet; set_content has no server, so it is inlined.
    styled = html.replace("</head>", f"<style>{render('publish/carnews.css')}</style></head>")
    assert await serious_violations_in_html(page, styled) == []
    assert await page.locator("article.card").count() == 4
    assert await page.locator("article.card blockquote").count() == 2
