"""Webhooks: the bounce and the unsubscribe webhooks of a mail provider.

Bounces come in on POST /webhooks/bounces, unsubscribes (``{"address": ...}``, e.g. the
mailto: replies a provider received) on POST /webhooks/unsubscribes, both with a bearer
token ('carnews bounces token').
The body is read in chunks and refused (413) once past ``WEBHOOK_MAX_BYTES``, whether or
not it declared its length, so a sender cannot make the app hold a huge body in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from carnews.audience.subscriptions import unsubscribe_address
from carnews.errors import WebhookError
from carnews.mail.bounces import record_bounces
from carnews.mail.webhook import (
    WEBHOOK_MAX_BYTES,
    parse_unsubscribes,
    parse_webhook,
    webhook_authorised,
)
from carnews.storage.models import BounceSource
from carnews.web.context import site

router = APIRouter()
Parsed = TypeVar("Parsed")


async def _webhook_request(
    request: Request, parse: Callable[[bytes], Parsed]
) -> Parsed | JSONResponse:
    """The parsed body of an authorised webhook request, or the answer refusing it."""
    if not webhook_authorised(site(request).key, request.headers.get("authorization")):
        return JSONResponse(
            {"error": "missing or wrong bearer token",
             "hint": "Send 'Authorization: Bearer TOKEN'; 'carnews bounces token' prints it."},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    body = await capped_body(request, WEBHOOK_MAX_BYTES)
    if body is None:
        return JSONResponse(
            {"error": f"the body is larger than {WEBHOOK_MAX_BYTES} bytes",
             "hint": "Send them in smaller batches."},
            status_code=413,
        )  # fmt: skip
    try:
        return parse(body)
    except WebhookError as exc:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)


@router.post("/webhooks/bounces")
async def bounce_webhook(request: Request) -> JSONResponse:
    current = site(request)
    notices = await _webhook_request(request, parse_webhook)
    if isinstance(notices, JSONResponse):
        return notices
    report = await record_bounces(current.database, current.clock, notices,
                                  source=BounceSource.WEBHOOK)  # fmt: skip
    return JSONResponse(report.summary())


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


@router.post("/webhooks/unsubscribes")
async def unsubscribe_webhook(request: Request) -> JSONResponse:
    current = site(request)
    addresses = await _webhook_request(request, parse_unsubscribes)
    if isinstance(addresses, JSONResponse):
        return addresses
    unknown = 0
    for address in addresses:
        if not await unsubscribe_address(current.database, current.clock, address, via="webhook"):
            unknown += 1
    return JSONResponse({"unsubscribed": len(addresses) - unknown, "unknown": unknown})
