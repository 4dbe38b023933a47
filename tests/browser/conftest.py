"""Browser tests: Debian's Chromium driven by Playwright against the real app on loopback.

No browser is downloaded: Playwright starts ``/usr/bin/chromium`` (``.ci/run`` installs
it). Playwright's async API shares pytest's event loop with a real uvicorn server
(``serving``), so a test seeds and checks the database with the usual ``db`` fixture. A
failing test leaves a screenshot of its page in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from carnews.demo.servers import free_port

CHROMIUM = Path(os.environ.get("CARNEWS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_PRESENT = CHROMIUM.exists()  # looked up once, outside the event loop
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which
# this closed network refuses; as root it needs --no-sandbox.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Callable[[str], str]]:
    """``app`` on a real uvicorn server in this loop; yields ``url(path)``."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):  # a hang bound only
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    try:
        yield lambda path="/": f"http://127.0.0.1:{port}{path}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM_PRESENT:
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(apt-get install chromium; .ci/run does) or set CARNEWS_CHROMIUM"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
async def page(chromium: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await chromium.new_context()
    page = await context.new_page()
    page.set_default_timeout(15_000)  # a hang bound only
    yield page
    if request.node.stash.get(_FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    await context.close()
