"""The reader's preferences page, ``/preferences/TOKEN`` (the token of their unsubscribe
link, so every newsletter carries it): change diseases, frequency and name; unsubscribe
(the one-click form of ``/unsubscribe/TOKEN``); re-subscribe (a fresh confirmation mail);
"email me my data"; "erase me". A GET changes nothing; every form carries a CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carnews.audience.limits import DAY, take
from carnews.audience.preferences import subscriber_by_id, update_preferences
from carnews.audience.privacy import address_hash, erase, export_data, export_json
from carnews.audience.signup import request_confirmation
from carnews.audience.subscriptions import subscriber_for_token
from carnews.errors import DeliveryError
from carnews.mail.notices import confirmation_message, data_message, send_messages
from carnews.storage.models import SubscriberStatus
from carnews.web.context import site
from carnews.web.csrf import check_csrf
from carnews.web.forms import FieldErrors, check_size, parse_preferences
from carnews.web.signup import catalogue, mail_trouble, mailed

router = APIRouter()


async def _page(
    request: Request,
    token: str,
    status: int = 200,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    current = site(request)
    subscriber = await subscriber_by_id(
        current.database, await subscriber_for_token(current.database, token)
    )
    return current.page(
        "web/preferences.html",
        status,
        request=request,
        token=token,
        notice=notice,
        errors=errors or {},
        subscriber=subscriber,
        diseases=catalogue(current),
        active=subscriber.status == SubscriberStatus.ACTIVE,
        pending=subscriber.status == SubscriberStatus.PENDING,
    )


async def _checked(request: Request, token: str) -> int:
    """CSRF first, then the token: the subscriber a form post is about."""
    check_size(request)
    await check_csrf(request)
    return await subscriber_for_token(site(request).database, token)


@router.get("/preferences/{token}", response_class=HTMLResponse)
async def preferences_page(request: Request, token: str) -> HTMLResponse:
    return await _page(request, token)


@router.post("/preferences/{token}", response_class=HTMLResponse)
async def save_preferences(request: Request, token: str) -> HTMLResponse:
    subscriber_id = await _checked(request, token)
    current = site(request)
    try:
        choices = parse_preferences(await request.form(), catalogue(current))
    except FieldErrors as exc:
        return await _page(request, token, 400, errors=exc.problems)
    await update_preferences(current.database, current.clock, subscriber_id, choices, actor="web")
    return await _page(request, token, notice="Your choices are saved.")


@router.post("/preferences/{token}/resubscribe", response_class=HTMLResponse)
async def resubscribe(request: Request, token: str) -> HTMLResponse:
    subscriber_id = await _checked(request, token)
    current = site(request)
    pending = await request_confirmation(
        current.database, current.clock, current.key, current.settings.web, subscriber_id
    )
    if pending is not None and not await mailed(request, confirmation_message, pending):
        return mail_trouble(request)
    return await _page(
        request,
        token,
        notice="We sent you an email: follow its link to start getting the newsletter again.",
    )


@router.post("/preferences/{token}/export", response_class=HTMLResponse)
async def email_my_data(request: Request, token: str) -> HTMLResponse:
    subscriber_id = await _checked(request, token)
    current = site(request)
    data = await export_data(current.database, subscriber_id)
    now = current.clock()
    async with current.database.session() as session:
        allowed = await take(
            session,
            "export",
            address_hash(current.key, data["email"]),
            now,
            limit=current.settings.web.mails_per_address_per_day,
            window=DAY,
        )
    if allowed:
        message = data_message(current.settings, data["email"], export_json(data), now)
        try:
            await send_messages(current.settings, [message])
        except DeliveryError:
            return mail_trouble(request)
        return await _page(request, token, notice="We emailed you everything we hold about you.")
    return await _page(
        request,
        token,
        429,
        notice="We already emailed your data today; "
        "please look for that email, or try again tomorrow.",
    )


@router.post("/preferences/{token}/erase", response_class=HTMLResponse)
async def erase_me(request: Request, token: str) -> HTMLResponse:
    subscriber_id = await _checked(request, token)
    current = site(request)
    await erase(current.database, current.clock, current.key, subscriber_id, actor="web")
    return current.page(
        "web/message.html",
        heading="Your data is erased",
        message="We deleted your address and everything linked to it. You "
        "will get no more email from us.",
        hint="You are welcome to sign up again at any time.",
    )
