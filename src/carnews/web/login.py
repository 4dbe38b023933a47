"""The review pages' door: log in, log out, and who is asking.

Every route under ``/review/`` starts with ``await signed_in(request)`` (or
``may_approve``); a visitor without a live session is sent to the login page and reaches
nothing else. The session cookie is HttpOnly, SameSite=Strict, scoped to ``/review`` and
Secure when the site is served over https.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carnews.errors import AccessError, CarnewsError
from carnews.web.auth import EditorInfo, editor_for_session, log_in, log_out
from carnews.web.context import site
from carnews.web.csrf import check_csrf

COOKIE = "carnews_review"
router = APIRouter()


class NotSignedIn(CarnewsError):
    """No live session: the answer is the login page, not an error."""


async def signed_in(request: Request) -> EditorInfo:
    current = site(request)
    token = request.cookies.get(COOKIE, "")
    editor = await editor_for_session(current.database, current.clock, token)
    if editor is None:
        raise NotSignedIn("please log in")
    return editor


async def may_approve(request: Request) -> EditorInfo:
    """An editor, not a contributor: approving, scheduling, sending, withdrawing, discarding."""
    editor = await signed_in(request)
    if not editor.may_approve:
        raise AccessError(f"{editor.email} is a contributor: contributors edit, editors approve")
    return editor


def install(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def to_login(request: Request, exc: NotSignedIn) -> Response:
        target = request.url.path if request.method == "GET" else "/review/"
        return RedirectResponse(f"/review/login?next={quote(target)}", status_code=303)


def _next(value: str) -> str:
    """Only a path of this site's review pages: never an open redirect."""
    return value if value.startswith("/review/") and not value.startswith("//") else "/review/"


@router.get("/review/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/review/") -> HTMLResponse:
    return site(request).page("review/login.html", request=request, next=_next(next), error="")


@router.post("/review/login", response_model=None)
async def login(request: Request) -> Response:
    await check_csrf(request)
    current = site(request)
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    target = _next(str(form.get("next", "/review/")))
    ip = request.client.host if request.client else "unknown"
    try:
        token = await log_in(current.database, current.clock, current.settings.review,
                             email[:400], password[:1000], ip)  # fmt: skip
    except AccessError as exc:
        return current.page("review/login.html", 403, request=request, next=target,
                            error=exc.message, hint=exc.hint, email=email[:400])  # fmt: skip
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(COOKIE, token, path="/review", httponly=True, samesite="strict",
                      secure=_https(request),
                      max_age=int(current.settings.review.session_hours * 3600))  # fmt: skip
    return answer


@router.post("/review/logout", response_model=None)
async def logout(request: Request) -> Response:
    await check_csrf(request)
    current = site(request)
    await log_out(current.database, current.clock, request.cookies.get(COOKIE, ""))
    answer = RedirectResponse("/review/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/review")
    return answer


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or site(request).settings.site.base_url.startswith(
        "https://"
    )
