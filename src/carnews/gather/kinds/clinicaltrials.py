"""ClinicalTrials.gov API v2: the studies a saved search finds, newest update first.

The source's url is a full ``/api/v2/studies`` URL with its search parameters
(``query.cond``, ``query.intr``, ``filter.*``…). carnews makes sure the answer is JSON,
asks for 100 studies a page and, unless the URL says otherwise, sorts by last update so
a changed trial comes back to the top and the first page's ETag changes with it: that
ETag is sent back next time, like a feed's, and a 304 means nothing changed.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from carnews.gather.fetch import (
    FetchedEntry,
    FetchRequest,
    FetchResult,
    Poll,
    build_entry,
    result_from,
    too_slow,
)
from carnews.gather.http import HttpAnswer
from carnews.gather.kinds.common import dig, get_within

MAX_PAGES = 5
PAGE_SIZE = 100
NOT_JSON = "ClinicalTrials.gov answered with something that is not API v2 JSON"
# The codes whose website wording is not just the code in sentence case.
STATUS_WORDS = {
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "NA": "Not applicable",
    "EARLY_PHASE1": "Early Phase 1",
}
DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


async def fetch_studies(client: httpx.AsyncClient, poll: Poll) -> FetchResult:
    """Follow ``nextPageToken`` for up to 5 pages; any failing page fails the poll.

    ``poll.query``, ``poll.now`` and ``poll.window_days`` go unused: the URL is the whole search.
    """
    request, max_bytes = poll.request, poll.max_bytes
    started = time.perf_counter()
    deadline = started + poll.total_timeout
    url = search_url(request.url)
    answers: list[HttpAnswer] = []
    entries: list[FetchedEntry] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        page_url = _with_params(url, pageToken=token) if token else url
        # Only the first page is conditional: its ETag stands for the whole sorted result.
        validators = (None, None) if answers else (request.etag, request.last_modified)
        etag, last_modified = validators
        answer = await get_within(client, page_url, max_bytes=max_bytes, deadline=deadline,
                                  etag=etag, last_modified=last_modified)  # fmt: skip
        answers.append(answer)
        if not answer.ok or answer.status == 304:
            return _result(request, answer, started)
        try:
            async with asyncio.timeout(poll.parse_timeout):  # off the loop: see gather/fetch.py
                studies, token = await asyncio.to_thread(parse_page, answer.body)
        except TimeoutError:
            return _result(request, answer, started, outcome="error",
                           error=too_slow(poll.parse_timeout))  # fmt: skip
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            return _result(request, answer, started, outcome="error", error=f"{NOT_JSON}: {exc}")
        entries.extend(studies)
        if not token:
            return _result(request, answers[0], started, entries=tuple(entries))
    warning = f"more studies than {MAX_PAGES} pages hold; only the most recently updated were read"
    return _result(request, answers[0], started, entries=tuple(entries), warnings=(warning,))


def search_url(url: str) -> str:
    """The source URL with JSON, 100 per page and newest-update-first made explicit."""
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    wanted: dict[str, str] = {"format": "json"}  # the only format carnews reads
    if "pageSize" not in params:
        wanted["pageSize"] = str(PAGE_SIZE)
    if "sort" not in params:
        wanted["sort"] = "LastUpdatePostDate:desc"
    return _with_params(url, **wanted)


def _with_params(url: str, **wanted: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in wanted]
    return urlunsplit(parts._replace(query=urlencode([*kept, *wanted.items()])))


def _result(
    request: FetchRequest, answer: HttpAnswer, started: float, **fields: Any
) -> FetchResult:
    return result_from(request, answer, seconds=time.perf_counter() - started, **fields)


def parse_page(body: bytes) -> tuple[list[FetchedEntry], str | None]:
    """One page of ``/api/v2/studies`` JSON: its studies and the token of the next page."""
    data = json.loads(body)
    studies = data.get("studies") if isinstance(data, dict) else None
    if not isinstance(studies, list):
        raise ValueError("no studies list")
    token = data.get("nextPageToken")
    entries = [_entry(study) for study in studies if _nct(study)]
    return entries, token if isinstance(token, str) and token else None


def _nct(study: Any) -> str | None:
    nct = dig(study, "protocolSection", "identificationModule", "nctId")
    return nct if isinstance(nct, str) and nct.strip() else None


def _entry(study: Any) -> FetchedEntry:
    protocol = dig(study, "protocolSection")
    nct = str(_nct(study)).strip()
    link = f"https://clinicaltrials.gov/study/{nct}"
    identification = dig(protocol, "identificationModule")
    title = dig(identification, "briefTitle") or dig(identification, "officialTitle") or nct
    status = dig(protocol, "statusModule")
    updated = dig(status, "lastUpdatePostDateStruct", "date")
    first_posted = dig(status, "studyFirstPostDateStruct", "date")
    summary = str(dig(protocol, "descriptionModule", "briefSummary") or "")
    return build_entry(
        guid=link,
        link=link,
        title=html.escape(str(title), quote=False),
        body=_paragraphs(summary) + _facts(protocol),
        published_at=_date(updated) or _date(first_posted),
        author=dig(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name"),
        structured_ids=[nct],
        labels=_labels(protocol),
    )


def _labels(protocol: Any) -> dict[str, Any]:
    """The registry's own phase codes ("PHASE1", "EARLY_PHASE1", "NA") and status
    ("RECRUITING"…), kept as the API writes them."""
    phases = dig(protocol, "designModule", "phases")
    status = dig(protocol, "statusModule", "overallStatus")
    return {
        "source_kind": "trial registry",
        "phases": [p for p in phases if isinstance(p, str)] if isinstance(phases, list) else [],
        **({"overall_status": status} if isinstance(status, str) and status else {}),
    }


def _paragraphs(text: str) -> str:
    # Summaries are plain text with blank lines between paragraphs, never HTML.
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]
    return "".join(f"<p>{html.escape(block, quote=False)}</p>" for block in blocks)


def _facts(protocol: Any) -> str:
    """The facts a patient checks first, as a list under the summary."""
    design = dig(protocol, "designModule")
    interventions = dig(protocol, "armsInterventionsModule", "interventions") or []
    facts = [
        ("Status", _words(dig(protocol, "statusModule", "overallStatus"))),
        ("Phase", "/".join(_words(phase) for phase in dig(design, "phases") or [])),
        ("Conditions", ", ".join(map(str, dig(protocol, "conditionsModule", "conditions") or []))),
        ("Interventions", "; ".join(_intervention(item) for item in interventions)),
        ("Sponsor", str(dig(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name") or "")),
        ("Enrolment", _enrolment(dig(design, "enrollmentInfo"))),
    ]
    items = "".join(
        f"<li>{name}: {html.escape(value, quote=False)}</li>" for name, value in facts if value
    )
    return f"<ul>{items}</ul>" if items else ""


def _enrolment(info: Any) -> str:
    count, kind = dig(info, "count"), str(dig(info, "type") or "").lower()
    if not isinstance(count, int):
        return ""
    return f"{count} participants" + (f" ({kind})" if kind else "")  # "(estimated)" or "(actual)"


def _intervention(item: Any) -> str:
    kind, name = _words(dig(item, "type")), str(dig(item, "name") or "").strip()
    return f"{kind}: {name}" if kind and name else name


def _words(code: Any) -> str:
    """API v2 enum codes as the website writes them: RECRUITING → Recruiting, PHASE1 → Phase 1."""
    code = str(code or "")
    if code in STATUS_WORDS:
        return STATUS_WORDS[code]
    text = re.sub(r"(PHASE)(\d)", r"\1 \2", code).replace("_", " ")
    return text.capitalize()


def _date(value: Any) -> datetime | None:
    """A date ("2026-11-14", "2026-11" or "2026") as midnight UTC of its first day."""
    match = DATE.match(str(value or "").strip())
    if not match:
        return None
    year, month, day = match.groups("1")
    try:
        return datetime(int(year), int(month), int(day), tzinfo=UTC)
    except ValueError:
        return None
