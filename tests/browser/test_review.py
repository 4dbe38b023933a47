"""Editor review in Chromium: the whole round of a draft, the gate's refusals, axe."""

from __future__ import annotations

from collections.abc import Callable

from playwright.async_api import Page
from sqlalchemy import select

from carnews.clock import Clock
from carnews.settings import Settings
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState, EditionStory
from carnews.web.app import create_app
from tests.browser.axe import serious_violations
from tests.browser.conftest import serving
from tests.review_helpers import PASSWORD, editors, seed_draft


async def log_in(
    page: Page, url: Callable[[str], str], email: str, password: str = PASSWORD
) -> None:
    await page.goto(url("/review/login"))
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def headlines(page: Page) -> list[str]:
    return [h.strip() for h in await page.locator("article.card h3").all_inner_texts()]


async def state_of(db: Database, edition_id: int) -> EditionState:
    async with db.read() as session:
        return (await session.get_one(Edition, edition_id)).state


async def test_an_editor_reviews_edits_and_approves_a_draft(
    page: Page, settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock, stories=3, in_draft=2)
    await editors(db, clock)
    async with serving(create_app(settings, db, clock=clock)) as url:
        await page.goto(url("/review/"))
        assert "/review/login" in page.url  # nothing before logging in
        await log_in(page, url, "editor@example.org")
        assert await serious_violations(page) == []
        await page.get_by_role("link", name="CAR-T News").click()
        assert await headlines(page) == ["1. Story number 1", "2. Story number 2"]
        assert await serious_violations(page) == []

        first = page.locator("#story-1")
        await first.get_by_label("Headline").fill("Lupus went away in five people")
        await first.get_by_label("What happened").fill("All five stopped needing their medicines.")
        await first.get_by_role("button", name="Save story 1").click()
        assert "Saved." in await page.locator(".done").inner_text()

        await page.get_by_role("button", name="Move down story 1").click()
        assert await headlines(page) == ["1. Story number 2", "2. Lupus went away in five people"]

        await page.get_by_role("button", name="Remove story 1").click()
        assert await headlines(page) == ["1. Lupus went away in five people"]

        assert (
            "dropped by carnews: animal study only" in await page.locator("#add + ul").inner_text()
        )
        await page.get_by_role("button", name="Add story 3").click()
        assert await headlines(page) == ["1. Lupus went away in five people", "2. Story number 3"]

        await page.goto(url(f"/review/editions/{edition_id}/preview.html"))
        preview = await page.content()
        assert "Lupus went away in five people" in preview and "Story number 2" not in preview
        await page.goto(url(f"/review/editions/{edition_id}/preview.txt?disease=myositis"))
        text = await page.locator("body").inner_text()
        assert "Lupus went away" not in text  # a lupus story: not for a myositis reader

        await page.goto(url(f"/review/editions/{edition_id}"))
        for box in await page.get_by_role("checkbox").all():
            await box.check()
        await page.get_by_role("button", name="Approve this edition").click()
        assert "Approved." in await page.locator(".done").inner_text()
        assert await state_of(db, edition_id) == EditionState.APPROVED

        await page.locator("#story-1").get_by_label("Summary").fill("Changed after approval.")
        await page.get_by_role("button", name="Save story 1").click()
        assert "approval was withdrawn" in await page.locator(".done").inner_text()
        assert await state_of(db, edition_id) == EditionState.IN_REVIEW
    async with db.read() as session:
        item = await session.scalar(
            select(EditionStory).where(EditionStory.edition_id == edition_id,
                                       EditionStory.position == 1)
        )  # fmt: skip
        assert item is not None
        assert item.card["what_happened"] == "All five stopped needing their medicines."


async def test_a_contributor_edits_but_cannot_approve(
    page: Page, settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    async with serving(create_app(settings, db, clock=clock)) as url:
        await log_in(page, url, "helper@example.org")
        await page.goto(url(f"/review/editions/{edition_id}"))
        assert await page.get_by_role("button", name="Approve this edition").count() == 0
        assert "You are a contributor" in await page.content()
        # Posting the approval form anyway (its token is on every page) is refused.
        token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
        answer = await page.request.post(
            url(f"/review/editions/{edition_id}/approve"),
            form={"csrf_token": token or "", "main_message": "yes", "harms": "yes",
                  "unknowns": "yes", "no_advice": "yes"},
        )  # fmt: skip
        assert answer.status == 403
    assert await state_of(db, edition_id) == EditionState.DRAFT


async def test_a_logged_out_visitor_reaches_nothing_and_forms_need_their_token(
    page: Page, settings: Settings, db: Database, clock: Clock
) -> None:
    edition_id = await seed_draft(db, clock)
    await editors(db, clock)
    async with serving(create_app(settings, db, clock=clock)) as url:
        draft = f"/review/editions/{edition_id}"
        for path in ("/review/", draft, f"{draft}/preview.html", "/review/review.css"):
            answer = await page.request.get(url(path), max_redirects=0)
            assert answer.status == 303 and "/review/login" in answer.headers["location"], path
        answer = await page.request.post(url(f"/review/editions/{edition_id}/discard"),
                                         max_redirects=0)  # fmt: skip
        assert answer.status == 403  # no token: refused before anything else
        await log_in(page, url, "editor@example.org")
        answer = await page.request.post(url(f"/review/editions/{edition_id}/discard"),
                                         form={"csrf_token": "forged"})  # fmt: skip
        assert answer.status == 403
        cookie = next(c for c in await page.context.cookies() if c["name"] == "carnews_review")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        await page.get_by_role("button", name="Log out").click()
        answer = await page.request.get(url("/review/"), max_redirects=0)
        assert answer.status == 303
    assert await state_of(db, edition_id) == EditionState.DRAFT


async def test_logins_lock_out_after_repeated_failures(
    page: Page, settings: Settings, db: Database, clock: Clock
) -> None:
    await editors(db, clock)
    async with serving(create_app(settings, db, clock=clock)) as url:
        for _ in range(settings.review.max_failed_logins):
            await log_in(page, url, "editor@example.org", "wrong password, again")
            assert "do not match" in await page.locator(".error").inner_text()
        await log_in(page, url, "editor@example.org")  # the right password, too late
        assert "locked" in await page.locator(".error").inner_text()
        assert await serious_violations(page) == []
