"""CSRF protection for every form of the web app (sign-up, preferences, review pages).

Double-submit with a keyed token: each browser gets a random cookie (``carnews_csrf``,
HttpOnly, SameSite=Strict), and each form carries ``csrf_token`` = HMAC(site key,
cookie). Another site can make a browser post a form, but it can read neither the cookie
nor a page of ours, so it cannot compute the field. The token needs no server state, so
a form keeps working across restarts and workers. Unsubscribe by one-click POST
(RFC 8058) is not a form a person fills in and is authorised by its own secret link.

Use: ``csrf_token(request)`` in the page context (``{{ csrf_field }}`` in templates via
``Site.page(..., request=request)``), and ``await check_csrf(request)`` first thing in a
POST route.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carnews.errors import CsrfError

COOKIE = "carnews_csrf"
FIELD = "csrf_token"
_STATE = "csrf_cookie"
_USED = "csrf_cookie_used"  # a page rendered a token: its answer must set the cookie


class CsrfCookie:
    """Gives a browser that has no CSRF cookie one, on the first answer that has a form.

    Only then: a reader of the archive gets no cookie at all (a newsletter about an
    illness should leave as little trace in a browser as it can)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _cookie_from_scope(scope):
            await self.app(scope, receive, send)
            return
        value = secrets.token_urlsafe(24)
        state = scope.setdefault("state", {})
        state[_STATE] = value
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get(_USED):
                cookie = f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict"
                MutableHeaders(scope=message).append(
                    "set-cookie", cookie + ("; Secure" if secure else "")
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie_from_scope(scope: Scope) -> str:
    for name, raw in scope.get("headers", ()):
        if name == b"cookie":
            text: str = raw.decode("latin-1")
            for part in text.split(";"):
                key, _, value = part.strip().partition("=")
                if key == COOKIE and value:
                    return value
    return ""


def _browser_secret(request: Request) -> str:
    made: str = getattr(request.state, _STATE, "")
    return request.cookies.get(COOKIE) or made


def _token(key: str, secret: str) -> str:
    return hmac.new(key.encode(), f"csrf:{secret}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The value of the hidden ``csrf_token`` field for forms on this page."""
    key: str = request.app.state.site.key
    setattr(request.state, _USED, True)
    return _token(key, _browser_secret(request))


async def check_csrf(request: Request) -> None:
    """Refuse a form post whose token does not match this browser's cookie."""
    secret = request.cookies.get(COOKIE, "")
    form = await request.form()
    sent = form.get(FIELD)
    key: str = request.app.state.site.key
    if (
        not secret
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, _token(key, secret))
    ):
        raise CsrfError("this form could not be accepted (its security token is missing or old)")
