"""axe-core, injected into a page, lists its accessibility violations.

axe-core is vendored from its npm package (``vendor/axe-core``, MPL-2.0, licence beside
it) so the tests need no network. Only serious and critical violations fail a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


async def serious_violations(page: Page) -> list[str]:
    """``rule (impact): first offending element`` for each serious or critical violation."""
    # evaluate() rather than a script tag: the pages' CSP forbids inline and foreign
    # scripts, and a test must not loosen the policy it checks.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'] if v['nodes'] else ''}"
        for v in found
        if v.get("impact") in BLOCKING
    ]


async def serious_violations_in_html(page: Page, html: str) -> list[str]:
    """The same for a document that is not served, such as an email's HTML part."""
    await page.set_content(html)
    return await serious_violations(page)
