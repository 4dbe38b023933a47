"""Operations endpoints: health and metrics (the webhooks are in ``web.webhooks``).

``/health`` says only that the process answers (a liveness probe). ``/healthz`` reads the
database (``monitor.snapshot``) and answers 200 when healthy, 503 when the database cannot
be reached or the scheduler is stale (``monitor.health`` defines both). ``/metrics`` is the
same snapshot in Prometheus's text format; with ``ops.metrics_token`` set it asks for
``Authorization: Bearer TOKEN``, otherwise it is open (for loopback-only deployments).
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from carnews.errors import StorageError
from carnews.monitor.health import judge, unreachable
from carnews.monitor.metrics import CONTENT_TYPE, exposition
from carnews.monitor.snapshot import Snapshot, take_snapshot
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
