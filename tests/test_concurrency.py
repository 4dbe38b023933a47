"""The web app answers at once while a slow LLM explains new stories (issue #9).

``serve --scheduler`` runs the app and the scheduled gather in one process on one
``Database``; ``carnews fetch`` from cron runs beside ``serve`` with a ``Database`` of
its own. Either way the LLM backend may take a minute a story, and meanwhile every page
and every unsubscribe must answer, not wait for the explainer and then fail with
"database is locked". Both apps run here, on real uvicorn servers on loopback, against
one SQLite file, while the scripted LLM takes its time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from carnews.audience.subscriptions import add_subscriber
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.demo.servers import free_port
from carnews.editions.review import approve, draft_edition
from carnews.jobs import gather
from carnews.settings import ExplainSettings, Settings, replace
from carnews.storage import Database
from carnews.storage.models import Edition, EditionState, Story, Subscriber, SubscriberStatus
from carnews.web.app import create_app
from tests.helpers import LUPUS_TITLE, add_entry, add_stories
from tests.scripted_http import Reply, Server, scripted_server

LLM_SECONDS = 8.0  # the scripted LLM's time for one answer
# The requirement, as a bound on a hang: pages answer in milliseconds; before
# the fix they waited for the LLM (8 s here, a minute in production), then failed.
ANSWER_WITHIN = 1.0
# The LLM's story card: the same sections the template writes, in plainer words.
CARD = {
    "headline": "Own immune cells calmed severe lupus in a small study",
    "what_was_tested": "Doctors changed people's own immune cells to fight their lupus.",
    "who_took_part": "People with severe lupus took part.",
    "what_happened": "They were well without their usual medicines.",
    "side_effects": "The side effects were mild.",
    "unknowns": ["The study was small."],
    "what_it_means": "This is early work. Ask your specialist about trials.",
}
SUMMARY = " ".join(CARD[key] for key in ("what_was_tested", "who_took_part", "what_happened"))


def chat(content: str) -> bytes:
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"index": 0, "message": message}]}).encode()


@pytest.fixture
def llm() -> Iterator[Server]:
    with scripted_server() as server:
        server.serve("/v1/chat/completions", Reply(body=chat(json.dumps(CARD)), delay=LLM_SECONDS))
        yield server


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a real uvicorn server in this event loop, as ``carnews serve`` runs it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def until(condition: Callable[[], object]) -> None:
    """Wait for state that uvicorn and the server thread set without an event to await."""
    async with asyncio.timeout(30):  # a hang bound only
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def published_edition(db: Database, clock: Clock) -> int:
    """An issue already sent, so the archive, its page and the feeds have content."""
    await add_stories(db, clock(), [("Lupus news", ["lupus"])])
    draft = await draft_edition(db, clock, lookback_days=14, max_stories=5, title="News",
                                actor="test")  # fmt: skip
    assert draft.edition_id is not None
    await approve(db, clock, draft.edition_id, "Dr Jane")
    async with db.session() as session:
        edition = await session.get_one(Edition, draft.edition_id)
        edition.state, edition.sent_at = EditionState.SENT, clock()
    return draft.edition_id


async def reader(db: Database, clock: Clock, address: str) -> str:
    """A new active subscriber's unsubscribe token."""
    person = await add_subscriber(db, clock, load_lexicon(), email=address, confirmed=True,
                                  consent_source="test", actor="test")  # fmt: skip
    return person.unsubscribe_token


async def answered(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    try:
        async with asyncio.timeout(ANSWER_WITHIN):
            answer = await client.request(method, url)
    except TimeoutError:
        pytest.fail(f"{method} {url} took over {ANSWER_WITHIN} s while the LLM was writing")
    assert answer.status_code == 200, f"{method} {url}: {answer.status_code} {answer.text}"
    return answer


async def visit(client: httpx.AsyncClient, base: str, edition_id: int, token: str) -> None:
    """What readers do: the archive, an issue, the feeds, an unsubscribe link and its button."""
    for path in ("/", f"/editions/{edition_id}.html", "/feed.xml", "/atom.xml"):
        await answered(client, "GET", base + path)
    await answered(client, "GET", f"{base}/unsubscribe/{token}")
    answer = await answered(client, "POST", f"{base}/unsubscribe/{token}")
    assert "You are unsubscribed" in answer.text


async def test_pages_and_unsubscribes_answer_while_the_llm_explains(
    db: Database, settings: Settings, clock: Clock, llm: Server
) -> None:
    explain = ExplainSettings(backend="llm", llm_url=f"{llm.base_url}/v1", llm_model="test",
                              llm_timeout_seconds=4 * LLM_SECONDS)  # fmt: skip
    settings = replace(settings, explain=explain)
    edition_id = await published_edition(db, clock)
    readers = [await reader(db, clock, f"{name}@example.org") for name in ("ann", "bob")]
    await add_entry(db, clock(), "new-lupus-study")
    shared = create_app(settings, db, clock)  # serve --scheduler: one Database for both
    own = create_app(settings, clock=clock)  # serve beside a cron 'fetch': one each
    async with (
        running(shared) as shared_url,
        running(own) as own_url,
        httpx.AsyncClient(trust_env=False) as client,
    ):
        for base in (shared_url, own_url):  # first answers load templates: not under test
            for path in ("/", f"/editions/{edition_id}.html", "/feed.xml", "/atom.xml"):
                await client.get(base + path)
        # The scheduler's gather, which asks the LLM to explain the new story.
        gathering = asyncio.create_task(
            gather(db, settings, clock, transport=httpx.AsyncHTTPTransport())
        )
        await until(lambda: llm.received or gathering.done())  # the LLM is asked
        for base, person in zip((shared_url, own_url), readers, strict=True):
            await visit(client, base, edition_id, person)
        assert not gathering.done(), "all that while, the LLM was still writing"
        report = await gathering

    assert [title for _, title in report.curation.kept] == [LUPUS_TITLE]
    async with db.read() as session:
        story = (await session.scalars(select(Story).where(Story.title == LUPUS_TITLE))).one()
        statuses = (await session.scalars(select(Subscriber.status))).all()
    assert story.summary == SUMMARY and not story.awaiting_explanation
    assert story.card["backend"] == "llm", "the LLM's card passed the checks and is stored"
    assert statuses == [SubscriberStatus.UNSUBSCRIBED] * 2
