"""What the API kinds share: one time budget per poll, results for generated URLs, JSON digging."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from carnews.gather.fetch import FetchRequest, FetchResult, result_from
from carnews.gather.http import HttpAnswer, get


async def get_within(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> HttpAnswer:
    """GET with what is left of the poll's budget: "total time one fetch may take" covers
    every page of a paged API, not each page anew."""
    left = max(deadline - time.perf_counter(), 0.001)
    return await get(client, url, max_bytes=max_bytes, total_timeout=left, etag=etag,
                     last_modified=last_modified)  # fmt: skip


def generated_result(
    request: FetchRequest, answer: HttpAnswer, started: float, **fields: Any
) -> FetchResult:
    """A result for a URL built anew each poll (a search with a date window): its
    validators and permanent redirects say nothing about the next poll or the source."""
    fields.setdefault("seconds", time.perf_counter() - started)
    return result_from(request, answer, etag=None, last_modified=None, moved_to=None, **fields)


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]…`` or None: these APIs leave out every field they have no value for."""
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data
