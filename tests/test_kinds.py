"""PubMed, ClinicalTrials.gov and Europe PMC sources against a real HTTP server on loopback.

The server answers with responses recorded in each service's real format
(tests/data/kinds/) and remembers every query it received, so the tests check both
what carnews asks for and what it makes of the answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from carnews.clock import Clock
from carnews.curate.stories import curate_new_entries
from carnews.gather.fetch import FetchRequest, FetchResult, Poll
from carnews.gather.http import make_client
from carnews.gather.ingest import ingest
from carnews.gather.kinds import KINDS, fetch_kind
from carnews.jobs import knowledge
from carnews.settings import Settings, SourceKind, SourceSettings, replace
from carnews.storage import Database
from carnews.storage.models import Entry, Story

DATA = Path(__file__).parent / "data" / "kinds"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
JSON = {"Content-Type": "application/json;charset=UTF-8"}
XML = {"Content-Type": "text/xml; charset=UTF-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
EUTILS = "/entrez/eutils/"
STUDIES = "/api/v2/studies"
EPMC = "/europepmc/webservices/rest/search"
QUERY = '("CAR T" AND (lupus OR myositis OR "systemic sclerosis"))'


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- a loopback server that answers by path and query ----------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def param(self, name: str) -> str:
        """The one value of a query parameter: sending one twice is a bug too."""
        values = self.query.get(name, [])
        assert len(values) == 1, f"{name} sent {len(values)} times in {self.path}"
        return values[0]


@dataclass
class Route:
    path: str
    when: dict[str, str]
    reply: Reply


class Server:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.received: list[Received] = []
        self.base_url = ""

    def serve(self, path: str, reply: Reply, **when: str) -> str:
        """Answer ``path`` with ``reply`` when the query holds ``when``; the most specific wins."""
        self.routes.append(Route(path, when, reply))
        return self.base_url + path

    def reply_for(self, path: str, query: dict[str, list[str]]) -> Reply:
        matching = [
            route
            for route in self.routes
            if route.path == path and all(query.get(k) == [v] for k, v in route.when.items())
        ]
        if not matching:
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        return max(matching, key=lambda route: len(route.when)).reply

    def paths(self) -> list[str]:
        return [received.path for received in self.received]


class Handler(BaseHTTPRequestHandler):
    state: Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        self.state.received.append(Received(parts.path, query, dict(self.headers.items())))
        reply = self.state.reply_for(parts.path, query)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what was received, not on the log."""


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()
    handler = type("BoundHandler", (Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    contact = "https://carnews.example/about"
    async with make_client(contact_url=contact, timeout=5.0, connect_timeout=2.0) as client:
        yield client


async def poll(
    kind: str,
    client: httpx.AsyncClient,
    url: str,
    *,
    query: str = QUERY,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    request = FetchRequest(url, etag, last_modified)
    return await fetch_kind(kind, client, Poll(request, 1_000_000, 5.0, NOW, 30, query))


def day(year: int, month: int, date: int) -> datetime:
    return datetime(year, month, date, tzinfo=UTC)


# --- the dispatcher ---------------------------------------------------------------------------


def test_every_configurable_kind_has_a_fetcher() -> None:
    assert set(KINDS) == set(get_args(SourceKind))


async def test_an_unknown_kind_is_an_error_that_names_the_known_ones(
    client: httpx.AsyncClient,
) -> None:
    result = await poll("medrxiv", client, "https://connect.medrxiv.org/medrxiv_xml.php")

    assert result.outcome == "error"
    assert result.error is not None
    assert "unknown source kind 'medrxiv'" in result.error
    assert "pubmed" in result.error and "europepmc" in result.error
    assert result.entries == ()


async def test_the_feed_kind_reads_rss(server: Server, client: httpx.AsyncClient) -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Rheum</title>
      <item><title>Lupus trial opens</title><link>https://rheum.example/1</link>
      <description>NCT07012345 is recruiting.</description></item></channel></rss>"""
    url = server.serve("/feed.xml", Reply(body=rss, headers={"ETag": '"v1"'}))

    result = await poll("feed", client, url)

    assert result.outcome == "ok", result.error
    assert [entry.title for entry in result.entries] == ["Lupus trial opens"]
    assert result.entries[0].identifiers.nct == "NCT07012345"
    assert result.etag == '"v1"'


# --- PubMed E-utilities -----------------------------------------------------------------------


def serve_pubmed(server: Server, search: Reply, articles: Reply | None = None) -> str:
    server.serve(EUTILS + "esearch.fcgi", search)
    server.serve(
        EUTILS + "efetch.fcgi", articles or Reply(body=recorded("pubmed_efetch.xml"), headers=XML)
    )
    return server.base_url + EUTILS


async def test_pubmed_searches_the_window_then_fetches_the_records(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON))

    result = await poll("pubmed", client, url)

    assert result.outcome == "ok", result.error
    search, records = server.received
    assert search.path == EUTILS + "esearch.fcgi"
    assert search.param("term") == QUERY
    assert search.param("reldate") == "30" and search.param("datetype") == "edat"
    assert search.param("retmode") == "json" and search.param("retmax") == "100"
    assert search.param("sort") == "pub_date" and search.param("db") == "pubmed"
    assert search.param("tool") == "carnews"
    assert records.path == EUTILS + "efetch.fcgi"
    assert records.param("id") == "41298765,41287654,41276543"
    assert records.param("rettype") == "abstract" and records.param("retmode") == "xml"
    assert records.param("tool") == "carnews"
    assert [entry.guid for entry in result.entries] == [
        "pubmed:41298765",
        "pubmed:41287654",
        "pubmed:41276543",
    ]
    assert result.etag is None and result.warnings == ()


async def test_a_pubmed_record_with_a_structured_abstract(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON))

    lupus = (await poll("pubmed", client, url)).entries[0]

    assert lupus.title == (
        "CD19 CAR T-cell therapy in refractory systemic lupus erythematosus: "
        "two-year follow-up of 24 patients."
    )
    assert lupus.link == "https://pubmed.ncbi.nlm.nih.gov/41298765/"
    assert lupus.published_at == day(2026, 11, 12)  # the electronic date, not the issue's
    assert lupus.identifiers.pmid == "41298765"
    assert lupus.identifiers.doi == "10.1136/ard-2026-990117"
    assert lupus.author == "Lindqvist Ö et al."
    assert lupus.text.startswith("BACKGROUND: Autologous CD19-directed chimeric antigen receptor")
    assert "RESULTS: At 24 months, 21 of 24 patients (88%)" in lupus.text
    assert "(p < 0.001)" in lupus.text
    assert "<p><b>METHODS:</b> We followed 24 patients" in lupus.clean_html
    assert "1×10<sup>6</sup> CAR T cells/kg" in lupus.clean_html
    assert "tracked <i>in vivo</i>" in lupus.clean_html
    assert "CD19<sup>+</sup> B cells" in lupus.clean_html
    assert "Published in Annals of the rheumatic diseases." in lupus.text
    assert "Re-use permitted" not in lupus.text  # the copyright line is not the abstract


async def test_pubmed_records_with_plain_or_no_abstract(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON))

    _, myositis, sclerosis = (await poll("pubmed", client, url)).entries

    assert myositis.title.startswith("BCMA-CD19 compound CAR T cells in refractory anti-synthetase")
    assert "with MDA5-negative interstitial" in myositis.title
    assert myositis.published_at == day(2026, 11, 5)  # <Month>Nov</Month><Day>05</Day>
    assert myositis.identifiers.doi == "10.1093/rheumatology/keag0871"  # not the reference's
    assert myositis.text.startswith("Anti-synthetase syndrome with progressive interstitial")
    assert myositis.author == "Sato H et al."
    assert (
        sclerosis.title
        == "CAR T cells for diffuse cutaneous systemic sclerosis: where do we stand?"
    )
    assert sclerosis.published_at == day(2026, 11, 1)  # <MedlineDate>2026 Nov-Dec</MedlineDate>
    assert sclerosis.identifiers.doi is None
    assert sclerosis.identifiers.pmid == "41276543"
    assert sclerosis.author == "Scleroderma Cell Therapy Working Group"
    assert sclerosis.text == "Published in Journal of scleroderma and related disorders."


async def test_a_pubmed_search_without_hits_fetches_nothing(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch_empty.json"), headers=JSON))

    result = await poll("pubmed", client, url, query='"CAR-NK"[tiab] AND NMOSD[tiab]')

    assert result.outcome == "ok", result.error
    assert result.entries == ()
    assert server.paths() == [EUTILS + "esearch.fcgi"]


async def test_more_pubmed_hits_than_one_search_returns_is_a_warning(
    server: Server, client: httpx.AsyncClient
) -> None:
    found = json.loads(recorded("pubmed_esearch.json"))
    found["esearchresult"]["count"] = "240"
    url = serve_pubmed(server, Reply(body=json.dumps(found).encode(), headers=JSON))

    result = await poll("pubmed", client, url)

    assert result.outcome == "ok", result.error
    assert len(result.entries) == 3
    assert result.warnings == ("PubMed found 240 articles; only the newest 3 were fetched",)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(body=recorded("error_page.html"), headers=HTML), "not E-utilities XML"),
        (Reply(body=recorded("pubmed_efetch.xml")[:3000], headers=XML), "not E-utilities XML"),
        (
            Reply(body=b"<eFetchResult><ERROR>Cannot retrieve history data</ERROR></eFetchResult>"),
            "root element is <eFetchResult>: Cannot retrieve history data",
        ),
        (Reply(503, b"busy", {"Retry-After": "120"}), "HTTP 503"),
    ],
    ids=["html-page", "truncated-xml", "efetch-error", "http-503"],
)
async def test_a_broken_efetch_answer_is_an_error(
    server: Server, client: httpx.AsyncClient, reply: Reply, expected: str
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON), reply)

    result = await poll("pubmed", client, url)

    assert result.outcome == "error"
    assert result.error is not None and expected in result.error
    assert result.entries == ()


# --- ClinicalTrials.gov API v2 ----------------------------------------------------------------

PAGE_TOKEN = "NF0g5JGBlfMv"


def serve_studies(server: Server, first: Reply | None = None, second: Reply | None = None) -> str:
    server.serve(
        STUDIES,
        first
        or Reply(
            body=recorded("clinicaltrials_page1.json"), headers={**JSON, "ETag": 'W/"ct-page-1"'}
        ),
    )
    server.serve(
        STUDIES,
        second or Reply(body=recorded("clinicaltrials_page2.json"), headers=JSON),
        pageToken=PAGE_TOKEN,
    )
    return server.base_url + STUDIES + "?query.cond=lupus&query.intr=CAR-T"


async def test_clinicaltrials_follows_the_next_page_token(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_studies(server)

    result = await poll("clinicaltrials", client, url)

    assert result.outcome == "ok", result.error
    first, second = server.received
    for page in (first, second):
        assert page.param("query.cond") == "lupus" and page.param("query.intr") == "CAR-T"
        assert page.param("format") == "json" and page.param("pageSize") == "100"
        assert page.param("sort") == "LastUpdatePostDate:desc"
    assert "pageToken" not in first.query
    assert second.param("pageToken") == PAGE_TOKEN
    assert [entry.identifiers.nct for entry in result.entries] == [
        "NCT07012345",
        "NCT07023456",
        "NCT07034567",
    ]
    assert result.etag == 'W/"ct-page-1"'  # the first page's, for the next conditional GET
    assert result.warnings == ()


async def test_a_study_becomes_an_entry_with_its_key_facts(
    server: Server, client: httpx.AsyncClient
) -> None:
    lupus, myositis, sclerosis = (
        await poll("clinicaltrials", client, serve_studies(server))
    ).entries

    assert lupus.title == (
        "CD19 CAR-T Cells (NB-019) in Refractory Systemic Lupus Erythematosus and Lupus Nephritis"
    )
    assert lupus.link == lupus.guid == "https://clinicaltrials.gov/study/NCT07012345"
    assert lupus.published_at == day(2026, 11, 14)  # last update posted
    assert lupus.author == "Nordhavn Biologics A/S"
    assert lupus.text.startswith("The purpose of this study is to find out whether a single")
    assert "\n\nThe study will also look at how many participants reach remission" in lupus.text
    for fact in (
        "<li>Status: Recruiting</li>",
        "<li>Phase: Phase 1/Phase 2</li>",
        "<li>Conditions: Systemic Lupus Erythematosus, Lupus Nephritis</li>",
        "<li>Interventions: Biological: NB-019; Drug: Fludarabine; Drug: Cyclophosphamide</li>",
        "<li>Sponsor: Nordhavn Biologics A/S</li>",
        "<li>Enrolment: 36 participants (estimated)</li>",
    ):
        assert fact in lupus.clean_html
    assert "<li>Status: Active, not recruiting</li>" in myositis.clean_html
    assert "<li>Enrolment: 20 participants (actual)</li>" in myositis.clean_html
    assert "<li>Phase: Early Phase 1</li>" in sclerosis.clean_html
    assert "<li>Status: Not yet recruiting</li>" in sclerosis.clean_html
    assert sclerosis.published_at == day(2026, 10, 1)  # "2026-10": a month only


async def test_a_search_url_keeps_its_own_sort_and_page_size(
    server: Server, client: httpx.AsyncClient
) -> None:
    serve_studies(server)
    url = server.base_url + STUDIES + "?query.cond=myositis&sort=StudyFirstPostDate&pageSize=20"

    result = await poll("clinicaltrials", client, url + "&format=csv")

    assert result.outcome == "ok", result.error
    first = server.received[0]
    assert first.param("sort") == "StudyFirstPostDate"
    assert first.param("pageSize") == "20"
    assert first.param("format") == "json"  # the only format carnews reads


async def test_an_unchanged_first_page_means_not_modified(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_studies(server, first=Reply(304, headers={"ETag": 'W/"ct-page-1"'}))

    result = await poll("clinicaltrials", client, url, etag='W/"ct-page-1"')

    assert result.outcome == "not_modified"
    assert result.entries == ()
    assert result.etag == 'W/"ct-page-1"'
    assert [received.headers.get("If-None-Match") for received in server.received] == [
        'W/"ct-page-1"'
    ]


async def test_clinicaltrials_reads_at_most_five_pages(
    server: Server, client: httpx.AsyncClient
) -> None:
    endless = json.loads(recorded("clinicaltrials_page2.json"))
    endless["nextPageToken"] = PAGE_TOKEN
    url = serve_studies(server, second=Reply(body=json.dumps(endless).encode(), headers=JSON))

    result = await poll("clinicaltrials", client, url)

    assert result.outcome == "ok", result.error
    assert len(server.received) == 5
    assert len(result.entries) == 2 + 4  # two on the first page, then one on each of four
    assert result.warnings and "5 pages" in result.warnings[0]


async def test_a_failing_later_page_fails_the_poll_and_keeps_retry_after(
    server: Server, client: httpx.AsyncClient
) -> None:
    busy = Reply(429, b"Too Many Requests", {"Retry-After": "120"})
    url = serve_studies(server, second=busy)

    result = await poll("clinicaltrials", client, url)

    assert result.outcome == "error"
    assert result.http_status == 429 and result.error == "HTTP 429"
    assert result.retry_after == "120"
    assert result.entries == ()


# --- Europe PMC -------------------------------------------------------------------------------


def epmc_page(results: slice, hits: int, next_cursor: str) -> Reply:
    page = json.loads(recorded("europepmc_core.json"))
    page["resultList"]["result"] = page["resultList"]["result"][results]
    page["hitCount"], page["nextCursorMark"] = hits, next_cursor
    return Reply(body=json.dumps(page).encode(), headers=JSON)


async def test_europepmc_searches_the_window_newest_first(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(EPMC, Reply(body=recorded("europepmc_core.json"), headers=JSON))

    result = await poll("europepmc", client, url)

    assert result.outcome == "ok", result.error
    (search,) = server.received  # all 3 hits on the first page: no second request
    assert search.param("query") == f"({QUERY}) AND FIRST_PDATE:[2026-10-22 TO 2026-11-21]"
    assert search.param("format") == "json" and search.param("resultType") == "core"
    assert search.param("pageSize") == "100" and search.param("cursorMark") == "*"
    assert search.param("sort") == "P_PDATE_D desc"
    assert [entry.guid for entry in result.entries] == [
        "europepmc:MED:41298765",
        "europepmc:PPR:PPR1012345",
        "europepmc:MED:41276543",
    ]
    assert result.etag is None


async def test_europepmc_results_become_entries(server: Server, client: httpx.AsyncClient) -> None:
    url = server.serve(EPMC, Reply(body=recorded("europepmc_core.json"), headers=JSON))

    article, preprint, editorial = (await poll("europepmc", client, url)).entries

    assert article.link == "https://doi.org/10.1136/ard-2026-990117"
    assert article.identifiers.doi == "10.1136/ard-2026-990117"
    assert article.identifiers.pmid == "41298765"
    assert article.published_at == day(2026, 11, 12)
    assert article.author == "Lindqvist Ö et al."
    assert "Preprint" not in article.text
    assert article.text.startswith("Background\n\nAutologous CD19-directed CAR T cells")
    assert "tracked <i>in vivo</i>" in article.clean_html
    assert "Published in Annals of the rheumatic diseases." in article.text
    assert preprint.title.startswith("In vivo CAR T cells generated by lipid nanoparticle mRNA")
    assert preprint.clean_html.startswith("<p><b>Preprint</b> (not yet peer reviewed).</p>")
    assert "refractory generalised myasthenia gravis" in preprint.text
    assert "Posted on medRxiv." in preprint.text
    assert preprint.link == "https://doi.org/10.1101/2026.11.08.26363112"
    assert preprint.identifiers.doi == "10.1101/2026.11.08.26363112"
    assert preprint.identifiers.pmid is None
    assert preprint.published_at == day(2026, 11, 9)
    assert editorial.link == "https://europepmc.org/article/MED/41276543"
    assert editorial.identifiers.doi is None and editorial.identifiers.pmid == "41276543"
    assert editorial.author == "Scleroderma Cell Therapy Working Group"
    assert editorial.published_at == day(2026, 10, 30)


async def test_europepmc_follows_the_cursor_until_all_hits_are_read(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(EPMC, epmc_page(slice(0, 2), 3, "AoE2"), cursorMark="*")
    server.serve(EPMC, epmc_page(slice(2, 3), 3, "AoE3"), cursorMark="AoE2")

    result = await poll("europepmc", client, url)

    assert result.outcome == "ok", result.error
    assert [received.param("cursorMark") for received in server.received] == ["*", "AoE2"]
    assert len(result.entries) == 3


async def test_europepmc_stops_when_the_cursor_comes_back_unchanged(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(EPMC, epmc_page(slice(0, 2), 500, "AoE2"), cursorMark="*")
    server.serve(EPMC, epmc_page(slice(2, 3), 500, "AoE2"), cursorMark="AoE2")

    result = await poll("europepmc", client, url)

    assert [received.param("cursorMark") for received in server.received] == ["*", "AoE2"]
    assert len(result.entries) == 3 and result.warnings == ()


async def test_europepmc_reads_at_most_three_pages(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(EPMC, epmc_page(slice(0, 1), 500, "AoE2"), cursorMark="*")
    server.serve(EPMC, epmc_page(slice(1, 2), 500, "AoE3"), cursorMark="AoE2")
    server.serve(EPMC, epmc_page(slice(2, 3), 500, "AoE4"), cursorMark="AoE3")

    result = await poll("europepmc", client, url)

    assert [received.param("cursorMark") for received in server.received] == ["*", "AoE2", "AoE3"]
    assert len(result.entries) == 3
    assert result.warnings and "3 pages" in result.warnings[0]


# --- what every search kind does with a bad first answer -------------------------------------

FIRST_CALL = {
    "pubmed": (EUTILS, EUTILS + "esearch.fcgi", "PubMed answered with something that is not"),
    "clinicaltrials": (STUDIES, STUDIES, "ClinicalTrials.gov answered with something that is not"),
    "europepmc": (EPMC, EPMC, "Europe PMC answered with something that is not"),
}


@pytest.mark.parametrize("kind", list(FIRST_CALL))
async def test_a_429_is_an_error_that_carries_retry_after(
    server: Server, client: httpx.AsyncClient, kind: str
) -> None:
    source, first_call, _ = FIRST_CALL[kind]
    body = recorded("pubmed_429.json") if kind == "pubmed" else b"Too Many Requests"
    server.serve(first_call, Reply(429, body, {**JSON, "Retry-After": "120"}))

    result = await poll(kind, client, server.base_url + source)

    assert result.outcome == "error"
    assert result.http_status == 429
    assert result.error == "HTTP 429"
    assert result.retry_after == "120"
    assert len(server.received) == 1


@pytest.mark.parametrize("kind", list(FIRST_CALL))
@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(body=recorded("error_page.html"), headers=HTML), "Expecting value"),
        (Reply(body=b'{"studies":[{"protocolSection":{"ident', headers=JSON), "Unterminated"),
        (Reply(body=b'{"answer": "not this shape"}', headers=JSON), "no "),
        (Reply(body=b"[" * 200_000 + b"]" * 200_000, headers=JSON), "recursion"),
    ],
    ids=["html-page-200", "truncated-json", "wrong-shape", "absurdly-deep"],
)
async def test_an_answer_that_is_not_the_api_format_is_an_error(
    server: Server, client: httpx.AsyncClient, kind: str, reply: Reply, reason: str
) -> None:
    source, first_call, message = FIRST_CALL[kind]
    server.serve(first_call, reply)

    result = await poll(kind, client, server.base_url + source)

    assert result.outcome == "error"
    assert result.http_status == 200
    assert result.error is not None
    assert result.error.startswith(message) and reason in result.error
    assert result.entries == ()


# --- the source's own labels, kept for the story card -----------------------------------------


async def test_pubmed_keeps_each_records_publication_types(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON))

    lupus, myositis, editorial = (await poll("pubmed", client, url)).entries

    assert lupus.labels == {"publication_types": ["Journal Article"]}
    assert myositis.labels == {"publication_types": ["Case Reports"]}
    assert editorial.labels == {"publication_types": ["Editorial"]}


async def test_a_pubmed_preprint_is_labelled_a_preprint(
    server: Server, client: httpx.AsyncClient
) -> None:
    xml = recorded("pubmed_efetch.xml").replace(
        b'<PublicationType UI="D016428">Journal Article</PublicationType>',
        b'<PublicationType UI="D000076942">Preprint</PublicationType>',
    )
    url = serve_pubmed(server, Reply(body=recorded("pubmed_esearch.json"), headers=JSON),
                       Reply(body=xml, headers=XML))  # fmt: skip

    preprint = (await poll("pubmed", client, url)).entries[0]

    assert preprint.labels == {"publication_types": ["Preprint"], "source_kind": "preprint"}


async def test_a_registry_study_keeps_its_phases_and_status(
    server: Server, client: httpx.AsyncClient
) -> None:
    lupus, myositis, sclerosis = (
        await poll("clinicaltrials", client, serve_studies(server))
    ).entries

    assert lupus.labels == {"source_kind": "trial registry", "phases": ["PHASE1", "PHASE2"],
                            "overall_status": "RECRUITING"}  # fmt: skip
    assert myositis.labels["overall_status"] == "ACTIVE_NOT_RECRUITING"
    assert sclerosis.labels["phases"] == ["EARLY_PHASE1"]


async def test_europepmc_keeps_publication_types_and_marks_preprints(
    server: Server, client: httpx.AsyncClient
) -> None:
    url = server.serve(EPMC, Reply(body=recorded("europepmc_core.json"), headers=JSON))

    article, preprint, editorial = (await poll("europepmc", client, url)).entries

    assert article.labels == {"publication_types": ["research-article", "Journal Article"]}
    assert preprint.labels == {"publication_types": ["Preprint"], "source_kind": "preprint"}
    assert "source_kind" not in editorial.labels


async def test_a_medrxiv_feed_is_a_preprint_source(
    server: Server, client: httpx.AsyncClient
) -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>medRxiv</title>
      <item><title>CAR-T in lupus</title>
      <link>https://www.medrxiv.org/content/10.1101/2026.11.01.26300001v1</link>
      <description>We treated 5 patients.</description></item>
      <item><title>CAR-T in myositis</title><link>https://doi.org/10.1101/2026.11.02.1</link>
      <description>We treated 3 patients.</description></item>
      <item><title>CAR-T news</title><link>https://news.example/1</link>
      <description>A company said.</description></item></channel></rss>"""
    url = server.serve("/feed.xml", Reply(body=rss))

    lupus, myositis, news = (await poll("feed", client, url)).entries

    assert lupus.labels == myositis.labels == {"source_kind": "preprint"}
    assert news.labels == {}


async def test_labels_reach_the_story_card_and_a_new_label_is_an_update(
    server: Server, db: Database, settings: Settings, clock: Clock
) -> None:
    """Ingest stores each entry's labels; curation hands them to the card, where they beat
    the text: PubMed calls the myositis paper (three patients) a case report."""
    search = Reply(body=recorded("pubmed_esearch.json"), headers=JSON)
    url = serve_pubmed(server, search)
    pubmed = SourceSettings(name="pubmed", kind="pubmed", url=url, query=QUERY)
    settings = replace(settings, sources=(pubmed,))
    await ingest(db, settings, clock, force=True)
    await curate_new_entries(db, knowledge(2.0), clock)

    async with db.read() as session:
        entries = {e.pmid: e for e in (await session.scalars(select(Entry))).all()}
        myositis = await session.scalar(select(Story).where(Story.title.contains("anti-synth")))
    assert entries["41287654"].source_labels == {"publication_types": ["Case Reports"]}
    assert myositis is not None and myositis.card["study_type"] == "case report"
    assert myositis.source_kind == "peer-reviewed journal"

    review = recorded("pubmed_efetch.xml").replace(b">Case Reports<", b">Review<")
    server.routes.clear()  # PubMed now answers with the record indexed as a review
    serve_pubmed(server, search, Reply(body=review, headers=XML))
    (report,) = await ingest(db, settings, clock, force=True)
    await curate_new_entries(db, knowledge(2.0), clock)

    assert (report.updated, report.unchanged) == (1, 2), "only its labels changed"
    async with db.read() as session:
        myositis = await session.get_one(Story, myositis.id)
    assert myositis.card["study_type"] == "review"
