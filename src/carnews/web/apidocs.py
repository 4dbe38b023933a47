"""The API docs (/docs, /redoc, /openapi.json), served only when ``web.api_docs`` is on.

They describe the operations endpoints to whoever asks, so they are off by default. When
on, Swagger UI and ReDoc load from their CDN and Swagger UI runs one inline script: the
docs pages get a policy of their own that allows the CDN and that one script by its hash,
never ``'unsafe-inline'`` for scripts. Inline styles are allowed on these two pages only:
both tools set styles from script as they render.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

OPENAPI_URL = "/openapi.json"
CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def add_api_docs(app: FastAPI, title: str) -> None:
    """Routes for both docs pages; the app itself serves ``OPENAPI_URL``."""
    pages = {
        "/docs": get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{title} — API"),
        "/redoc": get_redoc_html(openapi_url=OPENAPI_URL, title=f"{title} — API"),
    }
    for path, page in pages.items():
        body = bytes(page.body).decode()
        headers = {"Content-Security-Policy": docs_policy(body)}
        app.add_api_route(path, _page(body, headers), include_in_schema=False)


def _page(body: str, headers: dict[str, str]) -> Callable[[], Awaitable[HTMLResponse]]:
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(body, headers=headers)

    return docs_page


def docs_policy(page: str) -> str:
    """The CDN and the page's own inline scripts, by hash; nothing else runs."""
    hashes = " ".join(f"'sha256-{_digest(script)}'" for script in _INLINE_SCRIPT.findall(page))
    return (
        f"default-src 'none'; script-src {CDN} {hashes}; "
        f"style-src {CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
