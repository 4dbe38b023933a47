"""Operations endpoints: health, metrics and the bounce webhook.

``/health`` says only that the process answers (a liveness probe). ``/healthz`` reads the
database (``monitor.snapshot``) and answers 200 when healthy, 503 when the database cannot
be reached or the scheduler is stale (``monitor.health`` defines both). ``/metrics`` is the
same snapshot in Prometheus's text format; with ``ops.metrics_token`` set it asks for
``Authorization: Bearer TOKEN``, otherwise it is open (for loopback-only deployments).

Bounces come in on POST /webhooks/bounces with a bearer token ('carnews bounces token').
The body is read in chunks and refused (413) once past ``WEBHOOK_MAX_BYTES``, whether or
not it declared its length, so a sender cannot make the app hold a huge body in memory.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from carnews.errors import StorageError, WebhookError
from carnews.mail.bounces import record_bounces
from carnews.mail.webhook import WEBHOOK_MAX_BYTES, parse_webhook, webhook_authorised
from carnews.monitor.health import judge, unreachable
from carnews.monitor.metrics import CONTENT_TYPE, exposition
from carnews.monitor.snapshot import Snapshot, take_snapshot
from carnews.storage.models import BounceSource
from carnews.web.context import site

router = APIRouter()
log = logging.getLogger("carnews.web.ops")
# A database that does not answer within this is unreachable, for a probe that must answer.
SNAPSHOT_TIMEOUT_SECONDS = 10.0
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _snapshot(request: Request) -> Snapshot | str:
    """The snapshot, or why the database could not give one."""
    current = site(request)
    try:
        async with asyncio.timeout(SNAPSHOT_TIMEOUT_SECONDS):
            return await take_snapshot(current.database, current.clock())
    except (SQLAlchemyError, StorageError, OSError, TimeoutError) as exc:
        log.warning("the database did not answer the health check: %s", exc)
        # The probe may be public: the kind of failure, not hosts or paths.
        return "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    found = await _snapshot(request)
    settings = site(request).settings
    if isinstance(found, str):
        report = unreachable(found, site(request).clock())
    else:
        report = judge(found, settings.ops)
    return JSONResponse(report.body, status_code=200 if report.healthy else 503, headers=NO_STORE)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token = site(request).settings.ops.metrics_token
    if token and not hmac.compare_digest(
        request.headers.get("authorization", "").encode(), f"Bearer {token.reveal()}".encode()
    ):
        return JSONResponse(
            {"error": "missing or wrong bearer token",
             "hint": "Send 'Authorization: Bearer TOKEN' with the token of ops.metrics_token."},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    found = await _snapshot(request)
    body = exposition(None if isinstance(found, str) else found, site(request).settings.ops)
    return Response(body, media_type=CONTENT_TYPE, headers=NO_STORE)


@router.post("/webhooks/bounces")
async def bounce_webhook(request: Request) -> JSONResponse:
    current = site(request)
    if not webhook_authorised(current.key, request.headers.get("authorization")):
        return JSONResponse(
            {"error": "missing or wrong bearer token",
             "hint": "Send 'Authorization: Bearer TOKEN'; 'carnews bounces token' prints it."},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    body = await capped_body(request, WEBHOOK_MAX_BYTES)
    if body is None:
        return JSONResponse(
            {"error": f"the body is larger than {WEBHOOK_MAX_BYTES} bytes",
             "hint": "Send the bounces in smaller batches."},
            status_code=413,
        )  # fmt: skip
    try:
        notices = parse_webhook(body)
    except WebhookError as exc:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)
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
