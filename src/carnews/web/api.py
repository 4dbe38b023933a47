"""The admin JSON API under /api/: subscribers (list, get, add, update, erase) and imports.

Every call carries ``Authorization: Bearer TOKEN`` with the token of ``web.api_token``
(environment only), compared in constant time. With no token set the API does not
exist: its routes are not mounted, so every /api/ path answers 404. Errors are JSON
``{"error": …, "hint": …}``; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from carnews.audience.manage import (
    Change,
    get_subscriber,
    page_of_subscribers,
    recent_imports,
    remove_subscriber,
    update_subscriber,
)
from carnews.audience.subscriptions import add_subscriber
from carnews.curate.lexicon import load_lexicon
from carnews.errors import CarnewsError, NotFoundError, SubscriberError
from carnews.storage.models import Subscriber, SubscriberStatus
from carnews.web.context import site

ACTOR = "api"
# One line of printable text: no control characters, which PostgreSQL (NUL) or a mail
# header (CR, LF) would choke on.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
MAX_ID = 2**31 - 1  # the id columns' range: a larger number is a 404, not an overflow

Name = Annotated[str, Field(max_length=200, pattern=ONE_LINE)]
Disease = Annotated[str, Field(min_length=1, max_length=100, pattern=ONE_LINE)]
Diseases = Annotated[list[Disease], Field(max_length=50)]
Frequency = Literal["edition", "monthly"]
SubscriberId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ApiError(BaseModel):
    error: str
    hint: str


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str
    status: SubscriberStatus
    diseases: list[str]
    frequency: str
    consent_source: str
    consent_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None

    @classmethod
    def of(cls, row: Subscriber) -> SubscriberOut:
        return cls(id=row.id, email=row.email, name=row.name, status=row.status,
                   diseases=list(row.diseases), frequency=row.frequency,
                   consent_source=row.consent_source, consent_at=row.consent_at,
                   created_at=row.created_at, confirmed_at=row.confirmed_at,
                   unsubscribed_at=row.unsubscribed_at)  # fmt: skip


class SubscriberPage(BaseModel):
    items: list[SubscriberOut]
    page: int
    per_page: int
    total: int


class NewSubscriber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(min_length=3, max_length=320, pattern=ONE_LINE)]
    name: Name = ""
    diseases: Diseases = []
    frequency: Frequency = "edition"
    confirmed: bool = Field(False, description="Consent already confirmed: active at once.")


class SubscriberChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    diseases: Diseases | None = None
    frequency: Frequency | None = None
    status: Literal["unsubscribed"] | None = Field(
        None, description="'unsubscribed' stops all mail to the address."
    )


class ImportOut(BaseModel):
    at: datetime
    actor: str
    added: int
    last_line: int


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ApiError, "description": "Missing or wrong bearer token"},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ApiError, "description": "No such subscriber"},
}
REFUSED: dict[int | str, dict[str, object]] = {
    400: {"model": ApiError, "description": "The input cannot be accepted"},
}

bearer = HTTPBearer(auto_error=False, description="web.api_token")


class Unauthorised(Exception):
    """Raised by the token check; answered 401 by ``add_admin_api``'s handler."""


def authorised(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    token = site(request).settings.web.api_token.reveal()
    given = credentials.credentials if credentials is not None else ""
    # Compared as bytes in constant time: how much of a guess was right must not show.
    if not (token and hmac.compare_digest(given.encode(), token.encode())):
        raise Unauthorised


router = APIRouter(prefix="/api", tags=["admin"], dependencies=[Depends(authorised)],
                   responses=ERRORS)  # fmt: skip


def _error(exc: CarnewsError) -> JSONResponse:
    status = 404 if isinstance(exc, NotFoundError) else 409 if _is_duplicate(exc) else 400
    return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=status)


def _is_duplicate(exc: CarnewsError) -> bool:
    return isinstance(exc, SubscriberError) and "already on the list" in exc.message


@router.get("/subscribers", response_model=SubscriberPage)
async def list_subscribers(
    request: Request,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    status: SubscriberStatus | None = None,
) -> SubscriberPage:
    """Subscribers in id order, a page at a time."""
    found = await page_of_subscribers(site(request).database, page=page, per_page=per_page,
                                      status=status)  # fmt: skip
    return SubscriberPage(items=[SubscriberOut.of(s) for s in found.subscribers], page=page,
                          per_page=per_page, total=found.total)  # fmt: skip


@router.get("/subscribers/{subscriber_id}", response_model=SubscriberOut, responses=NOT_FOUND)
async def get_one(request: Request, subscriber_id: SubscriberId) -> SubscriberOut | JSONResponse:
    try:
        return SubscriberOut.of(await get_subscriber(site(request).database, subscriber_id))
    except CarnewsError as exc:
        return _error(exc)


DUPLICATE: dict[int | str, dict[str, object]] = {
    409: {"model": ApiError, "description": "The address is already listed"},
}


@router.post("/subscribers", response_model=SubscriberOut, status_code=201,
             responses={**REFUSED, **DUPLICATE})  # fmt: skip
async def add(request: Request, new: NewSubscriber) -> SubscriberOut | JSONResponse:
    """Add one subscriber (consent source 'api'); pending unless ``confirmed``."""
    current = site(request)
    try:
        added = await add_subscriber(current.database, current.clock, load_lexicon(),
                                     email=new.email, name=new.name, diseases=new.diseases,
                                     confirmed=new.confirmed, consent_source="api",
                                     actor=ACTOR)  # fmt: skip
        if new.frequency != "edition":
            change = Change(frequency=new.frequency)
            await update_subscriber(current.database, current.clock, load_lexicon(), added.id,
                                    change, actor=ACTOR)  # fmt: skip
        return SubscriberOut.of(await get_subscriber(current.database, added.id))
    except CarnewsError as exc:
        return _error(exc)


@router.patch("/subscribers/{subscriber_id}", response_model=SubscriberOut,
              responses={**REFUSED, **NOT_FOUND})  # fmt: skip
async def update(
    request: Request, subscriber_id: SubscriberId, change: SubscriberChange
) -> SubscriberOut | JSONResponse:
    """Change name, diseases or frequency, or unsubscribe; fields left out stay."""
    current = site(request)
    wanted = Change(name=change.name, diseases=change.diseases, frequency=change.frequency,
                    unsubscribed=change.status == "unsubscribed")  # fmt: skip
    try:
        changed = await update_subscriber(current.database, current.clock, load_lexicon(),
                                          subscriber_id, wanted, actor=ACTOR)  # fmt: skip
    except CarnewsError as exc:
        return _error(exc)
    return SubscriberOut.of(changed)


@router.delete("/subscribers/{subscriber_id}", status_code=204, response_class=Response,
               responses=NOT_FOUND)  # fmt: skip
async def remove(request: Request, subscriber_id: SubscriberId) -> Response:
    """Erase the subscriber, as their own "erase me" link does.

    Their row, deliveries, bounces and confirmation links are deleted; only a keyed hash
    of the address (HMAC under the site key) is kept, so a later import refuses the
    address rather than quietly re-adding it. The person may sign up again through the
    form: their own confirmation lifts the mark.
    """
    current = site(request)
    try:
        await remove_subscriber(current.database, current.clock, current.key, subscriber_id,
                                actor=ACTOR)  # fmt: skip
    except CarnewsError as exc:
        return _error(exc)
    return Response(status_code=204)


@router.get("/imports", response_model=list[ImportOut])
async def imports(
    request: Request, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[ImportOut]:
    """The latest CSV imports, newest first: when, by whom, rows added."""
    runs = await recent_imports(site(request).database, limit)
    return [ImportOut(at=r.at, actor=r.actor, added=r.added, last_line=r.last_line) for r in runs]


def add_admin_api(app: FastAPI) -> None:
    """Mount the API (only called when ``web.api_token`` is set)."""

    @app.exception_handler(Unauthorised)
    async def unauthorised(request: Request, exc: Unauthorised) -> JSONResponse:
        return JSONResponse(
            {"error": "missing or wrong bearer token",
             "hint": "Send 'Authorization: Bearer TOKEN' with the token of web.api_token."},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip

    app.include_router(router)
