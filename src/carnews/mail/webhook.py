"""The bounce webhook's side of bounces: its bearer token and the body it accepts.

A mail provider POSTs ``{"address", "type", "diagnostic"?, "id"?}`` or a list of them to
``/webhooks/bounces`` with ``Authorization: Bearer TOKEN``, the token being an HMAC of
``site.secret_key`` (``carnews bounces token`` prints it). A body carnews cannot read is a
``WebhookError``: the sender's request is at fault, never a subscriber row.

Only an authenticated sender gets this far, but a buggy or hijacked one must not reach
the database with what it cannot hold: the web layer stops reading past
``WEBHOOK_MAX_BYTES`` (413), and here nesting deeper than ``WEBHOOK_MAX_DEPTH`` and text
that is not storable Unicode (a lone surrogate such as ``"\\ud800"`` is valid JSON, and a
NUL is refused by PostgreSQL) are a 400.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from carnews.audience.subscriptions import normalise_address
from carnews.errors import ConfigError, SubscriberError, WebhookError
from carnews.mail.bounces import UNSTORABLE, BounceNotice
from carnews.storage.models import BounceKind

WEBHOOK_CONTEXT = b"carnews-bounce-webhook"
WEBHOOK_MAX_ITEMS = 1000
WEBHOOK_MAX_BYTES = 1_000_000  # a thousand bounces at 1 KB each; a provider sends far less
WEBHOOK_MAX_DEPTH = 32  # our format nests 3 deep; room for a provider's extra fields


def webhook_token(secret: str) -> str:
    """The bearer token the bounce webhook wants, derived from the site key.

    The key comes from ``storage.sitekey.site_key``; an empty one would make a token
    anyone can compute, so it is refused.
    """
    if not secret:
        raise ConfigError(
            "there is no site key, so there is no bounce webhook token",
            hint="The key is made on first start; run 'carnews bounces token' again.",
            context={"key": "site.secret_key"},
        )
    return hmac.new(secret.encode(), WEBHOOK_CONTEXT, hashlib.sha256).hexdigest()


def webhook_authorised(secret: str, authorization: str | None) -> bool:
    scheme, _, token = (authorization or "").strip().partition(" ")
    expected = webhook_token(secret).encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def parse_webhook(body: bytes) -> list[BounceNotice]:
    """``{"address", "type", "diagnostic"?, "id"?}`` or a list of them → notices."""
    try:
        payload = json.loads(body)
    except RecursionError:  # json's C scanner gives up near 1,000 levels
        raise _too_deep() from None
    except ValueError:
        raise _bad_body("the body is not JSON") from None
    _check_storable(payload)
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > WEBHOOK_MAX_ITEMS:
        raise _bad_body(f"more than {WEBHOOK_MAX_ITEMS} bounces in one request")
    return [_webhook_notice(number, item) for number, item in enumerate(items, start=1)]


def _check_storable(payload: object) -> None:
    """Refuse deep nesting and unstorable text anywhere in the body, before any of it is used.

    A loop, not recursion, so a deep body cannot exhaust the stack here either.
    """
    pending: list[tuple[object, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > WEBHOOK_MAX_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and (found := UNSTORABLE.search(value)):
            if found.group() == "\x00":
                raise _bad_body("a string in the body holds a NUL character")
            raise _bad_body("a string in the body is not valid Unicode (a lone surrogate)")


def _too_deep() -> WebhookError:
    return _bad_body(f"the body is nested deeper than {WEBHOOK_MAX_DEPTH} levels")


def _webhook_notice(number: int, item: object) -> BounceNotice:
    where = f"bounce {number}"
    if not isinstance(item, dict):
        raise _bad_body(f"{where} is not a JSON object")
    address, kind = item.get("address"), item.get("type")
    diagnostic, event_id = item.get("diagnostic", ""), item.get("id")
    if not isinstance(address, str) or not address.strip():
        raise _bad_body(f'{where} has no "address"')
    if kind not in {k.value for k in BounceKind}:
        raise _bad_body(f'{where} has "type" {kind!r}; expected hard, soft or complaint')
    if not isinstance(diagnostic, str) or not isinstance(event_id, str | None):
        raise _bad_body(f'{where}: "diagnostic" and "id" must be strings')
    try:
        normalise_address(address)
    except SubscriberError as exc:  # the sender's request is at fault, not a subscriber row
        raise _bad_body(f"{where}: {exc.message}") from None
    reference = f"webhook:{event_id}"[:300] if event_id else None
    return BounceNotice(address, BounceKind(kind), diagnostic, reference)


def _bad_body(message: str) -> WebhookError:
    return WebhookError(message)


def parse_unsubscribes(body: bytes) -> list[str]:
    """``{"address": "..."}`` or a list of them (POST /webhooks/unsubscribes) → addresses.

    For a provider that takes the mailto: unsubscribe replies itself, or a list-unsubscribe
    service; the same token, size and nesting limits as bounces.
    """
    try:
        payload = json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise _bad_body("the body is not JSON") from None
    _check_storable(payload)
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > WEBHOOK_MAX_ITEMS:
        raise _bad_body(f"more than {WEBHOOK_MAX_ITEMS} unsubscribes in one request")
    addresses = []
    for number, item in enumerate(items, start=1):
        address = item.get("address") if isinstance(item, dict) else None
        if not isinstance(address, str) or not address.strip():
            raise WebhookError(
                f'unsubscribe {number} has no "address"',
                hint='Send {"address": "a@example.org"} or a list of those.',
            )
        try:
            addresses.append(normalise_address(address))
        except SubscriberError as exc:
            raise _bad_body(f"unsubscribe {number}: {exc.message}") from None
    return addresses
