"""Security headers on every answer of the web app, added by one ASGI middleware.

The pages carry no script and no inline CSS (the archive's stylesheet is ``/carnews.css``),
so the policy can be strict: nothing loads but the site's own stylesheet and images, forms
post only to the site, and no other site may frame a page (clickjacking the unsubscribe
button). ``Referrer-Policy: no-referrer`` everywhere: unsubscribe links carry a token in
their path, and a referrer from any page would tell an article's site that its reader
follows a newsletter about their illness. ``deploy/nginx/security-headers.conf`` sends the
same headers for the static archive; a test keeps the two in step.

A route that needs another policy (the API docs, when an operator turns them on) sets its
own header, which the middleware leaves alone.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
