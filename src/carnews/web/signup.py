"""Sign-up pages: ``/subscribe`` (the form) and ``/confirm/TOKEN`` (the double opt-in).

Every answer to a sign-up that passes the checks is the same page with the same words,
whether the address was new, pending, active, blocked or over its daily mail limit, so
the form tells nobody who is subscribed. The confirmation link shows a button and acts
on POST only: mail scanners GET links, and must not confirm a subscription by doing so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carnews.audience.diseases import disease_names
from carnews.audience.signup import PendingMail, check_link, confirm, request_signup
from carnews.curate.lexicon import load_lexicon
from carnews.errors import DeliveryError
from carnews.mail.notices import confirmation_message, send_messages
from carnews.settings import Settings
from carnews.web.context import Site, site
from carnews.web.csrf import check_csrf
from carnews.web.forms import HONEYPOT, FieldErrors, check_size, parse_signup

router = APIRouter()


@functools.cache
def _catalogue(lexicon_file: str) -> tuple[str, ...]:
    return tuple(disease_names(load_lexicon(Path(lexicon_file) if lexicon_file else None)))


def catalogue(current: Site) -> tuple[str, ...]:
    """The diseases a reader may tick: the lexicon's, with an editor's additions."""
    return _catalogue(current.settings.curate.lexicon_file)


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def signup_form(
    request: Request,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
) -> HTMLResponse:
    current = site(request)
    return current.page(
        "web/subscribe.html",
        status,
        request=request,
        diseases=catalogue(current),
        errors=errors or {},
        values=values or {},
        honeypot=HONEYPOT,
    )


def mail_trouble(request: Request) -> HTMLResponse:
    return site(request).page(
        "web/message.html",
        503,
        heading="We could not send the email",
        message="Our mail server cannot be reached just now, so no email was sent.",
        hint="Please try again in a few minutes.",
    )


async def mailed(
    request: Request,
    build: Callable[[Settings, PendingMail, datetime], EmailMessage],
    pending: PendingMail,
) -> bool:
    """Send one confirmation mail; False when the relay cannot be reached."""
    current = site(request)
    try:
        await send_messages(current.settings, [build(current.settings, pending, current.clock())])
    except DeliveryError:
        return False
    return True


@router.get("/subscribe", response_class=HTMLResponse)
async def subscribe_page(request: Request) -> HTMLResponse:
    return signup_form(request)


@router.post("/subscribe", response_class=HTMLResponse)
async def subscribe(request: Request) -> HTMLResponse:
    check_size(request)
    await check_csrf(request)
    current = site(request)
    try:
        address, choices = parse_signup(await request.form(), catalogue(current))
    except FieldErrors as exc:
        return signup_form(request, 400, errors=exc.problems, values=exc.values)
    pending = await request_signup(
        current.database,
        current.clock,
        current.key,
        current.settings.web,
        address=address,
        choices=choices,
        ip=client_ip(request),
    )
    if pending is not None and not await mailed(request, confirmation_message, pending):
        return mail_trouble(request)
    return current.page("web/check_inbox.html", address=address)


@router.get("/confirm/{token}", response_class=HTMLResponse)
async def confirm_page(request: Request, token: str) -> HTMLResponse:
    current = site(request)
    address = await check_link(current.database, current.clock, token)
    return current.page("web/confirm.html", request=request, address=address)


@router.post("/confirm/{token}", response_class=HTMLResponse)
async def confirm_now(request: Request, token: str) -> HTMLResponse:
    check_size(request)
    await check_csrf(request)
    current = site(request)
    preferences = await confirm(current.database, current.clock, current.key, token)
    # A path on this site, not base_url: the page is already on the right host.
    return current.page("web/confirmed.html", preferences_token=preferences)
